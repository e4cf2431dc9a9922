/**
 * Workers × intra-op threads of `fdk accuracy`, by measurement: the same images through the pool
 * (src/accuracy/pool.ts, WIDER text as in a real run) with 1..cores+1 single-threaded workers and
 * with one worker of `cores` threads, interleaved over the rounds so that a change of the
 * machine's load hits every configuration alike. Prints the steady-state images/s (wall) and CPU
 * per image of the whole process (all threads), counted from the first tenth of the images on, so
 * that starting the workers and their sessions does not weigh on short runs. The pool comes from
 * the build (dist/, as `fdk accuracy` runs it: bench:accuracy builds first), so its workers start
 * as they do in the CLI instead of compiling TypeScript. Used by perf/accuracy.ts (step 5) for the table in
 * docs/accuracy.md that justifies the default (--jobs = cores, 1 thread each).
 */
import { availableParallelism, loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getModel } from '../src/models/manifest.js';
import { FdkError } from '../src/util/errors.js';

type Pool = typeof import('../src/accuracy/pool.js');

async function builtPool(): Promise<Pool> {
  const url = new URL('../dist/accuracy/pool.js', import.meta.url);
  if (!existsSync(fileURLToPath(url))) throw new FdkError('not built: run npm run build first', { file: fileURLToPath(url) });
  return (await import(url.href)) as Pool;
}

export interface JobsConfig {
  jobs: number;
  threads: number;
}

export interface JobsRow extends JobsConfig {
  row: string;
  imagesPerSecond: number;
  cpuMsPerImage: number;
}

export interface JobsTable {
  images: number;
  rounds: number;
  cores: number;
  load: { before: number; after: number };
  rows: JobsRow[];
}

export function jobsConfigs(cores = availableParallelism()): JobsConfig[] {
  const out: JobsConfig[] = [];
  for (let j = 1; j <= cores + 1; j++) out.push({ jobs: j, threads: 1 });
  if (cores > 1) out.push({ jobs: 1, threads: cores });
  return out;
}

export async function measureJobs(rows: string[], paths: string[], rounds = 2): Promise<JobsTable> {
  const before = loadavg()[0];
  if (paths.length < 20) throw new FdkError(`--jobs-images ${paths.length}: at least 20 images for a steady state`);
  const { detectAll } = await builtPool();
  const configs = jobsConfigs();
  const best = new Map<string, JobsRow>();
  for (let round = 0; round < rounds; round++) {
    for (const row of rows) {
      const m = /^(.+)-(\d+)$/.exec(row)!;
      for (const c of configs) {
        // steady state: from the result of image `skip` to the last one
        const skip = Math.max(1, Math.floor(paths.length / 10));
        let done = 0;
        let t0 = 0, t1 = 0, c0 = 0, c1 = 0;
        const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
        await detectAll(getModel(m[1]), paths, { runtime: 'ort', longSide: Number(m[2]), jobs: c.jobs, threads: c.threads, widerText: true }, () => {
          if (++done === skip) { t0 = performance.now(); c0 = cpuNow(); }
          t1 = performance.now();
          c1 = cpuNow();
        });
        const n = paths.length - skip;
        const r: JobsRow = { row, ...c, imagesPerSecond: (n * 1000) / (t1 - t0), cpuMsPerImage: (c1 - c0) / n };
        const key = `${row} ${c.jobs} ${c.threads}`;
        const prev = best.get(key);
        if (!prev || r.imagesPerSecond > prev.imagesPerSecond) best.set(key, r);
      }
    }
  }
  return { images: paths.length, rounds, cores: availableParallelism(), load: { before, after: loadavg()[0] }, rows: [...best.values()] };
}

export function jobsMarkdown(t: JobsTable): string {
  const rows = [...new Set(t.rows.map((r) => r.row))];
  const configs = jobsConfigs(t.cores);
  const head = configs.map((c) => `${c.jobs} worker${c.jobs > 1 ? 's' : ''} × ${c.threads} thread${c.threads > 1 ? 's' : ''}`);
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:accuracy -- --write-docs\` on the first ${t.images} full-val images, best of ${t.rounds} interleaved rounds, ${t.cores} cores, load average ${t.load.before.toFixed(2)} → ${t.load.after.toFixed(2)}. steady-state images/s (wall, the pool alone from the first tenth of the images on: no startup, writing or evaluation) and, in brackets, CPU ms per image of all threads.`,
    '',
    `| row | ${head.join(' | ')} |`,
    `|---|${head.map(() => '---').join('|')}|`,
  ];
  for (const row of rows) {
    const cells = configs.map((c) => {
      const r = t.rows.find((x) => x.row === row && x.jobs === c.jobs && x.threads === c.threads);
      return r ? `${r.imagesPerSecond.toFixed(1)} (${r.cpuMsPerImage.toFixed(1)})` : '–';
    });
    lines.push(`| ${row} | ${cells.join(' | ')} |`);
  }
  if (t.load.before > t.cores) lines.push('', `Load average above ${t.cores}: the workers competed with other processes; re-measure on a quiet machine before changing the default.`);
  return lines.join('\n') + '\n';
}
