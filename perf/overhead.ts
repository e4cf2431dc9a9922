/**
 * `npm run bench:overhead`: how much does fdk's harness add? The same model, threads and input shape
 * run through a minimal standalone onnxruntime-node script and a minimal standalone Python ncnn
 * script, and through fdk: ort as `fdk bench` (its own child process per case), ncnn through fdk's
 * runtime API (`NcnnModel.run`, the call fdk bench, parity and accuracy make) in this process, once
 * per transport between fdk and its worker: shared memory (the default) and the stdio pipe.
 * Rounds are interleaved so machine drift hits every side alike, and each round records the load
 * average. Other load only ever adds time, so the ratios use the lowest per-round median of each
 * side ("best"); the median over rounds is printed too.
 *
 * Ratios per lane: runtime-timed (fdk's latency, taken inside the runtime / the worker, vs the
 * standalone loop) and wall per call (what a caller of fdk waits for, transfer to and from the
 * worker included, vs the same standalone loop, which has nothing to transfer). Goals: runtime-timed
 * within 5%, ncnn wall per call <= 1.10x. For ncnn also the 10th percentile of the wall time per
 * call on both sides (the calls no other job slowed down) and CPU per call (fdk + its worker vs
 * the loop's process): on a machine shared with other jobs the median wall time mostly measures
 * the scheduler, those two much less so.
 *
 * Two more ncnn lanes, each labelled for what it is: "ncnn shm batched xN" sends N inputs per
 * request (NcnnModel.runMany; per-image wall = the request's wall / N), and "ncnn in-process" runs
 * ncnn built natively from the same PyPI source inside this process (src/runtime/ncnn-native.ts;
 * only when scripts/build-ncnn-native.sh has built it), i.e. what ncnn costs without the worker.
 *
 * env: OVERHEAD_MODEL (model id, default ulfd-slim-320), OVERHEAD_THREADS (1), OVERHEAD_RUNS (200),
 *      OVERHEAD_ROUNDS (5), OVERHEAD_BATCH (8, inputs per request in the batched lane). `--doc` writes the table into docs/runtimes.md (section bench:overhead).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';
import { resolveModelSource } from '../src/runtime/model-source.js';
import { convertOnnxForNcnn } from '../src/runtime/ncnn-convert.js';
import { ensureNcnnVenv } from '../src/runtime/ncnn-venv.js';
import { runBench } from '../src/bench/run-bench.js';
import { syntheticInputs } from '../src/bench/case.js';
import type { TensorMap } from '../src/runtime/types.js';
import { ncnnRuntime } from '../src/runtime/ncnn.js';
import type { NcnnTransport } from '../src/runtime/ncnn-client.js';
import { cpuModel } from '../src/bench/host.js';
import { median } from '../src/bench/stats.js';
import { writeDocSection } from '../scripts/doc-sections.js';
import { findNcnnNative, NcnnNativeModel } from '../src/runtime/ncnn-native.js';

const here = dirname(fileURLToPath(import.meta.url));
const modelId = process.env.OVERHEAD_MODEL ?? 'ulfd-slim-320';
const threads = Number(process.env.OVERHEAD_THREADS ?? 1);
const runs = Number(process.env.OVERHEAD_RUNS ?? 200);
const rounds = Number(process.env.OVERHEAD_ROUNDS ?? 5);
const warmup = 10;
/** Inputs per request in the batched lane. */
const batch = Number(process.env.OVERHEAD_BATCH ?? 8);

interface Sample {
  /** Median per call: runtime-timed (fdk) or the loop's own timing (standalone). */
  ms: number;
  /** Median wall time per call seen by the caller. */
  wall: number;
  /** CPU per call (ms), when measured. */
  cpu?: number;
  /** 10th percentile of the wall time per call (standalone: of its own timing), when measured. */
  p10?: number;
}

function standalone(cmd: string, args: string[]): Sample {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { median: number; p10?: number; cpu?: number };
  return { ms: j.median, wall: j.median, cpu: j.cpu, p10: j.p10 };
}

/** ort as `fdk bench` runs it: one case in its own process. */
async function fdkOrt(): Promise<Sample> {
  const rep = await runBench(src, { runtimes: ['ort'], threads: [threads], shapes: [dims], warmup, runs });
  const c = rep.cases[0];
  if (c.error) throw new Error(`fdk bench ort: ${c.error}`);
  return { ms: c.latency.median, wall: c.wallMedianMs };
}

/** 10th percentile: the calls that other jobs on the machine did not slow down. */
const p10 = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 10)];

/** CPU time (ms) a process used so far, from /proc (clock ticks of 10 ms). */
function procCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** ncnn through fdk's runtime API, the same loop as fdk bench's case (warm-up, then timed runs). */
async function fdkNcnn(transport: NcnnTransport): Promise<Sample> {
  const m = await ncnnRuntime.load(conv.param, { threads, ncnn: { transport } });
  try {
    return await timedRuns((feeds) => m.run(feeds), () => procCpuMs(m.pid!));
  } finally {
    await m.release();
  }
}

/**
 * The per-call loop of the fdk lanes: warm-up, then `runs` calls timed by wall clock; CPU per call
 * is this process's plus `otherCpuMs()` (the worker's, for a worker lane).
 */
async function timedRuns(run: (feeds: TensorMap) => Promise<{ ms: number }>, otherCpuMs: () => number): Promise<Sample> {
  const feeds = syntheticInputs({ [inputName]: dims });
  for (let i = 0; i < warmup + 1; i++) await run(feeds);
  const ms: number[] = [];
  const wall: number[] = [];
  const c0 = process.cpuUsage();
  const w0 = otherCpuMs();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await run(feeds);
    wall.push(performance.now() - t0);
    ms.push(r.ms);
  }
  const c = process.cpuUsage(c0);
  return { ms: median(ms), wall: median(wall), cpu: ((c.user + c.system) / 1000 + otherCpuMs() - w0) / runs, p10: p10(wall) };
}

/** Requests of `batch` inputs each (NcnnModel.runMany): per image, the request's wall / batch. */
async function fdkNcnnBatched(): Promise<Sample> {
  const m = await ncnnRuntime.load(conv.param, { threads, ncnn: { transport: 'shm' } });
  try {
    const items = Array.from({ length: batch }, () => syntheticInputs({ [inputName]: dims }));
    for (let i = 0; i < Math.ceil(warmup / batch) + 1; i++) await m.runMany(items);
    const ms: number[] = [];
    const wall: number[] = [];
    const requests = Math.ceil(runs / batch);
    const c0 = process.cpuUsage();
    const w0 = procCpuMs(m.pid!);
    for (let i = 0; i < requests; i++) {
      const t0 = performance.now();
      const r = await m.runMany(items);
      wall.push((performance.now() - t0) / batch);
      ms.push(...r.map((x) => x.ms));
    }
    const c = process.cpuUsage(c0);
    return { ms: median(ms), wall: median(wall), cpu: ((c.user + c.system) / 1000 + procCpuMs(m.pid!) - w0) / (requests * batch), p10: p10(wall) };
  } finally {
    await m.release();
  }
}

/** ncnn in this process (no worker): the same loop, CPU time of this process alone. */
async function fdkNcnnNative(): Promise<Sample> {
  const m = NcnnNativeModel.load(conv.param, { threads });
  try {
    return await timedRuns((feeds) => m.run(feeds), () => 0);
  } finally {
    await m.release();
  }
}

const src = await resolveModelSource(modelId);
const [inputName] = Object.keys(src.inputs);
const declared = src.inputs[inputName];
const dims = declared.every((d) => typeof d === 'number') ? (declared as number[]) : [1, 3, 240, 320];
const dimsLabel = dims.join('x');
const conv = await convertOnnxForNcnn(src.path, { [inputName]: dims });
const venv = await ensureNcnnVenv();

const native = findNcnnNative();
if (!native) process.stderr.write('bench:overhead: ncnn in-process is not built (bash scripts/build-ncnn-native.sh): lane left out\n');
const batched = `ncnn shm batched x${batch}` as const;
type Lane = 'ort' | 'ncnn shm' | 'ncnn stdio' | typeof batched | 'ncnn in-process';
const lanes: Lane[] = ['ort', 'ncnn shm', 'ncnn stdio', batched, ...(native ? (['ncnn in-process'] as const) : [])];
const res = Object.fromEntries(lanes.map((l) => [l, { alone: [] as Sample[], fdk: [] as Sample[] }])) as Record<Lane, { alone: Sample[]; fdk: Sample[] }>;
const loads: number[] = [];
for (let round = 0; round < rounds; round++) {
  loads.push(loadavg()[0]);
  res.ort.alone.push(standalone(process.execPath, [join(here, 'overhead/ort-standalone.mjs'), src.path, String(threads), dimsLabel, String(warmup), String(runs)]));
  res.ort.fdk.push(await fdkOrt());
  // ncnn in fdk loads the same converted files the standalone script used (the conversion is cached);
  // the two transports alternate their order from round to round
  const alone = standalone(venv.python, [join(here, 'overhead/ncnn-standalone.py'), conv.param, conv.bin, String(threads), dimsLabel, String(warmup), String(runs)]);
  for (const t of round % 2 ? (['stdio', 'shm'] as const) : (['shm', 'stdio'] as const)) {
    res[`ncnn ${t}`].alone.push(alone);
    res[`ncnn ${t}`].fdk.push(await fdkNcnn(t));
  }
  res[batched].alone.push(alone);
  res[batched].fdk.push(await fdkNcnnBatched());
  if (native) {
    res['ncnn in-process'].alone.push(alone);
    res['ncnn in-process'].fdk.push(await fdkNcnnNative());
  }
  const show = (l: Lane) => `${l} ${res[l].alone.at(-1)!.ms.toFixed(3)} / ${res[l].fdk.at(-1)!.ms.toFixed(3)} (wall ${res[l].fdk.at(-1)!.wall.toFixed(3)})`;
  process.stderr.write(`round ${round + 1}/${rounds} (load ${loads.at(-1)!.toFixed(2)}), standalone / fdk ms: ${lanes.map(show).join('; ')}\n`);
}
loads.push(loadavg()[0]);

const min = (xs: number[]) => Math.min(...xs);
const f3 = (x: number) => x.toFixed(3);
/** "best (median over rounds)" of one field, and the same for a ratio of two sides. */
const both = (xs: number[]) => `${f3(min(xs))} (${f3(median(xs))})`;
const ratio = (a: number[], b: number[]) => `**${(min(a) / min(b)).toFixed(3)}** (${(median(a) / median(b)).toFixed(3)})`;
const lines = [
  `${modelId}, input ${dimsLabel}, threads ${threads}, ${runs} runs x ${rounds} interleaved rounds; ${new Date().toISOString().slice(0, 10)}, ${cpuModel()}, ` +
    `load average (1 min) during the rounds ${min(loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}. ms per call: best round (median over rounds).`,
  '',
  '| lane | standalone | fdk runtime-timed | ratio | fdk wall per call | wall ratio | wall p10 standalone / fdk | p10 ratio | CPU per call standalone / fdk+worker | CPU ratio |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const l of lanes) {
  const a = res[l].alone, f = res[l].fdk;
  const s = a.map((x) => x.ms);
  const cpu = f[0].cpu !== undefined && a[0].cpu !== undefined
    ? [`${both(a.map((x) => x.cpu!))} / ${both(f.map((x) => x.cpu!))}`, ratio(f.map((x) => x.cpu!), a.map((x) => x.cpu!))]
    : ['–', '–'];
  const tenth = f[0].p10 !== undefined && a[0].p10 !== undefined
    ? [`${both(a.map((x) => x.p10!))} / ${both(f.map((x) => x.p10!))}`, ratio(f.map((x) => x.p10!), a.map((x) => x.p10!))]
    : ['–', '–'];
  lines.push(`| ${l} | ${both(s)} | ${both(f.map((x) => x.ms))} | ${ratio(f.map((x) => x.ms), s)} | ${both(f.map((x) => x.wall))} | ${ratio(f.map((x) => x.wall), s)} | ${tenth[0]} | ${tenth[1]} | ${cpu[0]} | ${cpu[1]} |`);
}
lines.push(
  '',
  `*${batched}*: ${batch} inputs per request (\`NcnnModel.runMany\`), one forward each; its wall and CPU are per image, not per call.` +
    (native
      ? ` *ncnn in-process*: ${native.build}, ncnn built from the same PyPI source (\`scripts/build-ncnn-native.sh\`), run on fdk's own thread; CPU of fdk's process alone.`
      : ' *ncnn in-process* not measured (not built).'),
);
const table = lines.join('\n');
console.log(`bench:overhead  ${modelId} (${src.path})`);
console.log(table);
const shmWall = min(res['ncnn shm'].fdk.map((x) => x.wall)) / min(res['ncnn shm'].alone.map((x) => x.ms));
console.log(`ncnn wall per call (shared memory): ${shmWall.toFixed(3)}x the standalone loop; goal <= 1.10x: ${shmWall <= 1.1 ? 'met' : 'NOT met'}`);
const bw = min(res[batched].fdk.map((x) => x.wall)) / min(res[batched].alone.map((x) => x.ms));
console.log(`ncnn wall per image, ${batch} images per request (batched, not per call): ${bw.toFixed(3)}x the standalone loop`);
if (native) {
  const w = min(res['ncnn in-process'].fdk.map((x) => x.wall)) / min(res['ncnn in-process'].alone.map((x) => x.ms));
  console.log(`ncnn wall per call (in-process, ${native.build}): ${w.toFixed(3)}x the standalone loop; goal <= 1.10x: ${w <= 1.1 ? 'met' : 'NOT met'}`);
}
if (process.argv.includes('--doc')) {
  console.log(`wrote the table into ${writeDocSection('bench:overhead', table)}`);
}
