/**
 * Benchmark of the WIDER accuracy pipeline (`npm run bench:accuracy`):
 *  1. images/s of mnet0.25 at long side 640 over val-mini (488 images), per runtime, end to end
 *     (JPEG decode, resize, inference, decode, NMS, WIDER text), with --jobs workers;
 *  2. the live anchor: for slim-320 and mnet0.25-640, the seed's own test_widerface.py (PyTorch of
 *     the bench venv, perf/seed-anchor.ts) and `fdk accuracy` (ort) one after the other on the same
 *     images, both as whole processes: wall times, the ratio, fdk's split per stage, and a
 *     file-by-file comparison of the two prediction folders; the load average around each run;
 *  3. `fdk eval` on the full known-preds folder next to the official Python evaluator (benchEval in perf/eval.ts);
 *  4. the CPU cost of the exact JPEG decode, fdk's (sharp, and the libjpeg-turbo addon when built) next to cv2.imread (perf/decode-cost.ts);
 *  5. workers × intra-op threads of the pool on the first --jobs-images (100) images of the anchor
 *     rows (perf/accuracy-jobs.ts): the measurement behind the default --jobs = cores, 1 thread each;
 *  6. one worker's CPU per stage and image on the first --profile-images (300) images of the anchor
 *     rows, both JPEG decoders side by side (perf/pipeline-profile.ts).
 *
 * Options: --runtimes ort,wasm,ncnn  --jobs N  --full-rows slim-320,mnet0.25-640  --skip-full  --skip-eval  --skip-decode  --skip-jobs  --jobs-images N  --skip-profile  --profile-images N
 *          --wider-dir DIR (FDK_WIDER_DIR / FDK_WIDER_FULL; default /work/wider-full/WIDER_val; val-mini if absent)
 *          --limit N (first N images only: a quick check)  --seed-repo DIR (FDK_SEED_REPO)  --skip-seed
 *          --skip-mini  --write-docs (the tables into docs/accuracy.md)  --json
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeDocSection } from '../scripts/doc-sections.js';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { getModel } from '../src/models/manifest.js';
import { detectAll } from '../src/accuracy/pool.js';
import { runAccuracy } from '../src/accuracy/run.js';
import { PROJECT_ROOT, resolveDataDir, workDir } from '../src/util/data.js';
import { errorLine, FdkError } from '../src/util/errors.js';
import { groundTruth, readSubsetList } from '../src/accuracy/wider/index.js';
import type { AccuracyResult } from '../src/accuracy/run.js';
import { decodeCost, type DecodeCost } from './decode-cost.js';
import { jobsMarkdown, measureJobs, type JobsTable } from './accuracy-jobs.js';
import { profile, profileMarkdown, type Profile } from './pipeline-profile.js';
import { comparePredFolders, DEFAULT_SEED_PYTHON, DEFAULT_SEED_REPO, prepareSeed, runSeed, type FolderComparison, type SeedRun } from './seed-anchor.js';

/** History only: the original pipelines recorded earlier with PyTorch 1.13 CPU (2 threads) on this machine kind. */
const TORCH_113_SECONDS: Record<string, number> = { 'slim-320': 177, 'mnet0.25-640': 283 };
/** The goal of issue 17: fdk at least this many times faster than the live original pipeline. */
const GOAL = 8;

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const flag = (name: string) => args.includes(`--${name}`);
const jobs = Number(opt('jobs') ?? availableParallelism());
const runtimes = (opt('runtimes') ?? 'ort,wasm,ncnn').split(',');
const fullRows = (opt('full-rows') ?? 'slim-320,mnet0.25-640').split(',');
const json = flag('json');
const log = (s: string) => {
  if (!json) console.log(s);
};

interface RuntimeRate {
  runtime: string;
  images: number;
  seconds?: number;
  imagesPerSecond?: number;
  meanInferenceMs?: number;
  ap?: { easy: number; medium: number; hard: number };
  error?: string;
}

async function rateOnValMini(runtime: string): Promise<RuntimeRate> {
  const data = resolveDataDir()!;
  const mini = join(data, 'wider', 'val-mini');
  const paths = readFileSync(join(mini, 'list.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => join(mini, 'images', l));
  // warm-up: load + first image (ncnn converts the model and starts its worker here)
  try {
    await detectAll(getModel('mnet0.25'), paths.slice(0, 1), { runtime, longSide: 640, jobs: 1 }, () => {});
    const r = await runAccuracy({ models: ['mnet0.25'], longSides: [640], runtime, jobs, outDir: join(workDir('bench-accuracy'), runtime) });
    const x = r.rows[0];
    return { runtime, images: x.images, seconds: x.seconds, imagesPerSecond: x.imagesPerSecond, meanInferenceMs: x.meanInferenceMs, ap: x.ap };
  } catch (e) {
    return { runtime, images: paths.length, error: (e as Error).message.split('\n')[0] };
  }
}

async function main() {
  const out: Record<string, unknown> = { jobs, cores: availableParallelism() };
  log(`fdk accuracy pipeline benchmark (${jobs} jobs on ${availableParallelism()} cores)\n`);
  const rates: RuntimeRate[] = [];
  if (!flag('skip-mini')) log('1. mnet0.25 at long side 640 on val-mini (488 images), end to end:');
  for (const rt of flag('skip-mini') ? [] : runtimes) {
    const r = await rateOnValMini(rt);
    rates.push(r);
    log(r.error ? `   ${rt.padEnd(5)} unavailable: ${r.error}` : `   ${rt.padEnd(5)} ${r.imagesPerSecond!.toFixed(1)} images/s  (${r.seconds!.toFixed(1)} s; mean inference ${r.meanInferenceMs!.toFixed(1)} ms/image/worker; AP ${r.ap!.easy.toFixed(4)} / ${r.ap!.medium.toFixed(4)} / ${r.ap!.hard.toFixed(4)})`);
  }
  out.valMiniRates = rates;

  if (!flag('skip-full')) out.anchor = await liveAnchor();

  if (!flag('skip-eval')) {
    log('\n3. fdk eval on the full known-preds folder (seed-rfb-320, 3226 files):');
    try {
      const { benchEval } = (await import('./eval.js')) as typeof import('./eval.js');
      const e = benchEval({ runs: 3 });
      out.eval = e;
      log(`   fdk eval ${e.fdkMedianSeconds.toFixed(2)} s (median of ${e.fdkSeconds.length}, ${e.fdkCommand}) vs Python ${e.python.seconds.toFixed(1)} s (${e.python.measured ? 'measured' : 'quoted'}) -> ${e.speedup.toFixed(1)}x`);
    } catch (e) {
      out.eval = { error: (e as Error).message };
      log(`   unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (!flag('skip-decode')) {
    const mini = join(resolveDataDir()!, 'wider', 'val-mini');
    const paths = readFileSync(join(mini, 'list.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 100).map((l) => join(mini, 'images', l));
    const d = await decodeCost(paths, process.env.FDK_SEED_PYTHON ?? DEFAULT_SEED_PYTHON);
    out.decode = d;
    log(`\n4. exact JPEG decode, CPU per image (first ${d.images} val-mini images, one thread, best of 3): fdk sharp ${d.fdkCpuMs.toFixed(2)} ms` + (d.nativeCpuMs !== undefined ? `, fdk libjpeg-turbo addon ${d.nativeCpuMs.toFixed(2)} ms` : ', addon not built') + (d.cv2CpuMs ? `, cv2.imread ${d.cv2CpuMs.toFixed(2)} ms (OpenCV ${d.cv2})` : ', cv2 unavailable') + `; load average ${d.load.toFixed(2)}`);
  }
  if (!flag('skip-jobs')) {
    const imgs = anchorImages();
    const n = Math.min(imgs.keys.length, Number(opt('jobs-images') ?? 100));
    const t = await measureJobs(fullRows, imgs.keys.slice(0, n).map((k) => join(imgs.imagesDir, `${k}.jpg`)));
    out.jobsTable = t;
    log(`\n5. workers x intra-op threads on the first ${n} images (best of ${t.rounds} interleaved rounds; load ${t.load.before.toFixed(2)} -> ${t.load.after.toFixed(2)}):`);
    for (const r of t.rows) log(`   ${r.row.padEnd(13)} ${r.jobs} worker(s) x ${r.threads} thread(s): ${r.imagesPerSecond.toFixed(1)} images/s, ${r.cpuMsPerImage.toFixed(1)} CPU ms/image`);
  }
  if (!flag('skip-profile')) {
    const imgs = anchorImages();
    const n = Math.min(imgs.keys.length, Number(opt('profile-images') ?? 300));
    const ps: Profile[] = [];
    for (const row of fullRows) ps.push(await profile(row, imgs.keys.slice(0, n).map((k) => join(imgs.imagesDir, `${k}.jpg`))));
    out.profile = ps;
    log(`\n6. one worker's CPU per stage and image (first ${n} images):\n${profileMarkdown(ps)}`);
  }
  if (json) console.log(JSON.stringify(out, null, 2));
  if (flag('write-docs')) {
    if (out.profile) log(`wrote the profile into ${writeDocSection('bench:accuracy:profile', profileMarkdown(out.profile as Profile[]))}`);
    if (out.jobsTable) log(`wrote the workers table into ${writeDocSection('bench:accuracy:jobs', jobsMarkdown(out.jobsTable as JobsTable))}`);
    if (out.anchor) log(`wrote the anchor table into ${writeDocSection('bench:accuracy', anchorMarkdown(out.anchor as Anchor))}`);
    if (out.decode) log(`wrote the decode table into ${writeDocSection('bench:accuracy:decode', decodeMarkdown(out.decode as DecodeCost))}`);
  }
}

interface AnchorRow {
  row: string;
  seed?: SeedRun;
  /** Wall time of the whole `fdk accuracy` process (startup, detection, writing, evaluation). */
  fdkSeconds: number;
  fdk: AccuracyResult['rows'][number];
  ratio?: number;
  comparison?: FolderComparison;
  load: { before: number; after: number };
  /** fdk's JPEG decoder in this run. */
  decoder: AccuracyResult['decoder'];
}

interface Anchor {
  set: string;
  images: number;
  jobs: number;
  cpu: string;
  cores: number;
  date: string;
  rows: AnchorRow[];
}

/** The images both pipelines run on: the full val folder when present, else val-mini; --limit takes the first N. */
function anchorImages(): { dir: string; imagesDir: string; keys: string[]; set: string; widerArgs: string[] } {
  const given = opt('wider-dir') ?? process.env.FDK_WIDER_DIR ?? process.env.FDK_WIDER_FULL;
  const dir = resolve(given ?? '/work/wider-full/WIDER_val');
  const gt = groundTruth();
  const limit = opt('limit') === undefined ? undefined : Number(opt('limit'));
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new FdkError(`bad --limit '${opt('limit')}': expected a positive integer`);
  let imagesDir: string;
  let keys: string[];
  let set: string;
  if (existsSync(dir)) {
    imagesDir = existsSync(join(dir, 'images')) ? join(dir, 'images') : dir;
    keys = gt.images.map((im) => im.key);
    set = 'full val';
  } else {
    if (given) throw new FdkError('WIDER images folder does not exist', { file: dir });
    const mini = join(resolveDataDir()!, 'wider', 'val-mini');
    imagesDir = join(mini, 'images');
    keys = readSubsetList(join(mini, 'list.txt'), gt);
    set = `val-mini (full val not found at ${dir})`;
  }
  if (limit !== undefined) keys = keys.slice(0, limit);
  // fdk reads the same image list as the seed
  const list = workDir('bench-accuracy', 'anchor', 'list.txt');
  mkdirSync(join(list, '..'), { recursive: true });
  writeFileSync(list, keys.map((k) => `${k}.jpg`).join('\n') + '\n');
  return { dir, imagesDir, keys, set: limit ? `${set}, first ${keys.length} images` : set, widerArgs: ['--wider-dir', imagesDir, '--subset', list] };
}

/** `fdk accuracy` as a user runs it (the built CLI, one process), with --json for its numbers. */
function runFdk(model: string, longSide: number, widerArgs: string[], outDir: string): { seconds: number; result: AccuracyResult } {
  const args = [join(PROJECT_ROOT, 'bin', 'fdk.js'), 'accuracy', '--model', model, '--long-side', String(longSide), ...widerArgs, '--jobs', String(jobs), '--runtime', 'ort', '--out', outDir, '--json'];
  const t0 = performance.now();
  const p = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  if (p.status !== 0) throw new FdkError(`fdk accuracy failed: ${(p.stderr || p.stdout).trim().split('\n').pop()}`);
  return { seconds, result: JSON.parse(p.stdout) as AccuracyResult };
}

async function liveAnchor(): Promise<Anchor> {
  const imgs = anchorImages();
  const seed = flag('skip-seed') ? undefined : prepareSeed(opt('seed-repo') ?? process.env.FDK_SEED_REPO ?? DEFAULT_SEED_REPO);
  const base = workDir('bench-accuracy', 'anchor');
  const anchor: Anchor = { set: imgs.set, images: imgs.keys.length, jobs, cpu: cpus()[0]?.model ?? '?', cores: availableParallelism(), date: new Date().toISOString(), rows: [] };
  log(`\n2. live anchor on ${imgs.set} (${imgs.keys.length} images): the seed's test_widerface.py${seed ? ` (${seed.commit.slice(0, 12)})` : ' (skipped)'} vs fdk accuracy --runtime ort --jobs ${jobs}, whole processes:`);
  for (const row of fullRows) {
    const m = /^(.*)-(\d+)$/.exec(row);
    if (!m) throw new FdkError(`bad --full-rows entry '${row}': expected e.g. slim-320`);
    const before = loadavg()[0];
    const seedRun = seed ? await runSeed(seed, { row, imagesDir: imgs.imagesDir, keys: imgs.keys, predDir: join(base, 'seed', row), dataDir: resolveDataDir()! }) : undefined;
    const fdk = runFdk(m[1], Number(m[2]), imgs.widerArgs, join(base, 'fdk'));
    const x = fdk.result.rows[0];
    const comparison = seedRun ? comparePredFolders(seedRun.predDir, x.predDir, imgs.keys) : undefined;
    const r: AnchorRow = { row, seed: seedRun, fdkSeconds: fdk.seconds, fdk: x, ratio: seedRun ? seedRun.seconds / fdk.seconds : undefined, comparison, load: { before, after: loadavg()[0] }, decoder: fdk.result.decoder };
    anchor.rows.push(r);
    const s = x.split;
    log(`   ${row.padEnd(13)} original ${seedRun ? `${seedRun.seconds.toFixed(1)} s (torch ${seedRun.torch}, ${seedRun.threads} threads; forward ${seedRun.forwardMs?.toFixed(1)} ms + misc ${seedRun.miscMs?.toFixed(1)} ms per image)` : 'skipped'}`);
    log(`   ${''.padEnd(13)} fdk      ${fdk.seconds.toFixed(1)} s (detection + writing ${x.seconds.toFixed(1)} s, ${x.imagesPerSecond.toFixed(1)} images/s; evaluation ${x.evalSeconds.toFixed(1)} s)` + (r.ratio ? `  -> ${r.ratio.toFixed(1)}x (goal ${GOAL}x)` : ''));
    log(`   ${''.padEnd(13)} fdk per image per worker: decode ${s.decodeMs.toFixed(1)} (${fdk.result.decoder}) / preprocess ${s.preprocessMs.toFixed(1)} / inference ${s.inferenceMs.toFixed(1)} / postprocess ${s.postprocessMs.toFixed(1)} / text ${s.formatMs.toFixed(2)} ms; writing ${x.writeSeconds.toFixed(2)} s`);
    if (comparison) log(`   ${''.padEnd(13)} predictions: ${describeComparison(comparison)}`);
    log(`   ${''.padEnd(13)} AP ${x.ap.easy.toFixed(6)} / ${x.ap.medium.toFixed(6)} / ${x.ap.hard.toFixed(6)}; load average ${before.toFixed(2)} -> ${r.load.after.toFixed(2)} on ${anchor.cores} cores; history: torch 1.13 took ${TORCH_113_SECONDS[row] ?? '?'} s on the full val set`);
  }
  return anchor;
}

function describeComparison(c: FolderComparison): string {
  const parts = [`${c.identical} of ${c.files} files byte-identical`];
  if (c.sameValues) parts.push(`${c.sameValues} with equal values printed differently`);
  if (c.different) parts.push(`${c.different} differ: ${c.boxLines} of ${c.lines} box lines with another integer box, ${c.scoreLines} with the same box and a score off by at most ${c.maxScoreDiff.toExponential(1)}`);
  if (c.missing) parts.push(`${c.missing} missing`);
  return parts.join('; ');
}

/** The anchor table, written between the markers of docs/accuracy.md (never edited by hand). */
function anchorMarkdown(a: Anchor): string {
  const lines = [
    `Measured ${a.date.slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:accuracy -- --write-docs\` on ${a.set} (${a.images} images), ${a.cores} cores (${a.cpu}), fdk with ${a.jobs} jobs, runtime ort, JPEG decoder ${a.rows[0]?.decoder ?? '?'}. Both columns are whole-process wall times; fdk's includes its WIDER evaluation.`,
    '',
    '| row | original (torch, threads) | fdk | ratio (goal 8×) | fdk images/s | fdk ms per image per worker: decode / preprocess / inference / postprocess / text | prediction folders | load average (1 min) before → after |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of a.rows) {
    const s = r.fdk.split;
    const seed = r.seed ? `${r.seed.seconds.toFixed(1)} s (${r.seed.torch}, ${r.seed.threads})` : 'not run';
    lines.push(`| ${r.row} | ${seed} | ${r.fdkSeconds.toFixed(1)} s | ${r.ratio ? `${r.ratio.toFixed(1)}×` : '–'} | ${r.fdk.imagesPerSecond.toFixed(1)} | ${[s.decodeMs, s.preprocessMs, s.inferenceMs, s.postprocessMs].map((v) => v.toFixed(1)).join(' / ')} / ${s.formatMs.toFixed(2)} | ${r.comparison ? describeComparison(r.comparison) : '–'} | ${r.load.before.toFixed(2)} → ${r.load.after.toFixed(2)} |`);
  }
  if (a.rows.some((r) => r.load.before > a.cores)) lines.push('', `Load average above ${a.cores} during this run: not a quiet-machine figure (see below).`);
  return lines.join('\n') + '\n';
}

function decodeMarkdown(d: DecodeCost): string {
  return [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:accuracy -- --write-docs\` on the first ${d.images} val-mini images, one thread, CPU time of the process per image (best of 3), load average ${d.load.toFixed(2)} on ${availableParallelism()} cores.`,
    '',
    '| exact JPEG decode (same pixels) | CPU ms/image | wall ms/image |',
    '|---|---|---|',
    `| fdk: sharp (libvips + mozjpeg) | ${d.fdkCpuMs.toFixed(2)} | ${d.fdkWallMs.toFixed(2)} |`,
    d.nativeCpuMs !== undefined ? `| fdk: libjpeg-turbo addon (native/jpeg-decode.c) | ${d.nativeCpuMs.toFixed(2)} | ${d.nativeWallMs!.toFixed(2)} |` : '| fdk: libjpeg-turbo addon | not built (bash scripts/build-native.sh) | |',
    d.cv2CpuMs !== undefined ? `| cv2.imread (OpenCV ${d.cv2}, libjpeg-turbo) | ${d.cv2CpuMs.toFixed(2)} | ${d.cv2WallMs!.toFixed(2)} |` : '| cv2.imread | not run (no bench venv) | |',
  ].join('\n') + '\n';
}

try {
  await main();
} catch (e) {
  if (!(e instanceof FdkError)) throw e;
  console.error(errorLine(e));
  process.exitCode = 1;
}
