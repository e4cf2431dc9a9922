/**
 * Workers × intra-op threads of `fdk accuracy`, by measurement: the same images through the pool
 * (src/accuracy/pool.ts, WIDER text as in a real run) with 1..cores+1 single-threaded workers and
 * with one worker of `cores` threads, interleaved over the rounds so that a change of the
 * machine's load hits every configuration alike. Prints images/s (wall) and the CPU per image of
 * the whole process (all threads). Used by perf/accuracy.ts (step 5) for the table in
 * docs/accuracy.md that justifies the default (--jobs = cores, 1 thread each).
 */
import { availableParallelism, loadavg } from 'node:os';
import { getModel } from '../src/models/manifest.js';
import { detectAll } from '../src/accuracy/pool.js';

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
  const configs = jobsConfigs();
  const best = new Map<string, JobsRow>();
  for (let round = 0; round < rounds; round++) {
    for (const row of rows) {
      const m = /^(.+)-(\d+)$/.exec(row)!;
      for (const c of configs) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await detectAll(getModel(m[1]), paths, { runtime: 'ort', longSide: Number(m[2]), jobs: c.jobs, threads: c.threads, widerText: true }, () => {});
        const wall = (performance.now() - t0) / 1000;
        const cu = process.cpuUsage(c0);
        const r: JobsRow = { row, ...c, imagesPerSecond: paths.length / wall, cpuMsPerImage: (cu.user + cu.system) / 1000 / paths.length };
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
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:accuracy -- --write-docs\` on the first ${t.images} full-val images, best of ${t.rounds} interleaved rounds, ${t.cores} cores, load average ${t.load.before.toFixed(2)} → ${t.load.after.toFixed(2)}. images/s (wall, the pool alone: no startup, writing or evaluation) and, in brackets, CPU ms per image of all threads.`,
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
