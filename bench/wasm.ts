/**
 * `npm run bench:wasm`: the two WebAssembly engines, ncnn-wasm (ncnn built by
 * scripts/build-ncnn-wasm.sh) and ort-wasm (onnxruntime-web), on every manifest model in one run,
 * in Node, threads 1 (and 2 with WASM_THREADS=1,2), at each model's bench input (320x240, and
 * 640x480 for the 640 / dynamic models). It also times ncnn-wasm with packing off, to show what the
 * pack4 SIMD layouts are worth. Prints Markdown and writes it into docs/wasm.md between the
 * markers `<!-- bench:wasm:start -->` and `<!-- bench:wasm:end -->`.
 * env: WASM_RUNS (default 20), WASM_THREADS (default 1), WASM_MODELS (ids, default all),
 * WASM_NO_DOC=1 (print only).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadManifest } from '../src/models/manifest.js';
import { resolveModelSource } from '../src/runtime/model-source.js';
import { getRuntime } from '../src/runtime/index.js';
import { runBench } from '../src/bench/run-bench.js';
import { syntheticInputs } from '../src/bench/case.js';
import { latencyStats } from '../src/bench/stats.js';
import { hostInfo } from '../src/bench/host.js';
import { PROJECT_ROOT } from '../src/util/data.js';
import { writeFileAtomic } from '../src/util/fs.js';
import type { LoadOptions, RuntimeName } from '../src/runtime/types.js';

const runs = Number(process.env.WASM_RUNS ?? 20);
const threadList = (process.env.WASM_THREADS ?? '1').split(',').map(Number);
const only = process.env.WASM_MODELS?.split(',');
const DOC = join(PROJECT_ROOT, 'docs', 'wasm.md');
const START = '<!-- bench:wasm:start -->';
const END = '<!-- bench:wasm:end -->';

/** Median ms of `runs` inferences after 3 warm-up runs, in this process (for options fdk bench has no flag for). */
async function median(runtime: RuntimeName, model: string, inputName: string, dims: number[], opts: LoadOptions): Promise<number> {
  const m = await (await getRuntime(runtime)).load(model, { ...opts, inputShapes: { [inputName]: dims } });
  try {
    const feeds = syntheticInputs({ [m.inputNames[0]]: dims });
    for (let i = 0; i < 3; i++) await m.run(feeds);
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push((await m.run(feeds)).ms);
    return latencyStats(ms).median;
  } finally {
    await m.release();
  }
}

const shapesFor = (id: string, dynamic: boolean): number[][] =>
  id.endsWith('-640') ? [[1, 3, 480, 640]] : dynamic ? [[1, 3, 240, 320], [1, 3, 480, 640]] : [[1, 3, 240, 320]];

const host = hostInfo();
const started = new Date().toISOString();
const load0 = loadavg()[0];
const lines = [
  '| model | input | threads | ort-wasm ms | ncnn-wasm ms | ncnn-wasm / ort-wasm | ncnn-wasm, packing off ms |',
  '|---|---|---:|---:|---:|---:|---:|',
];
for (const entry of loadManifest().filter((e) => !only || only.includes(e.id))) {
  let src;
  try {
    src = await resolveModelSource(entry.id);
  } catch (e) {
    lines.push(`| ${entry.id} | - | - | error: ${(e as Error).message.slice(0, 80)} | | | |`);
    continue;
  }
  const dynamic = Object.values(src.inputs)[0]?.some((d) => typeof d !== 'number');
  const shapes = shapesFor(entry.id, Boolean(dynamic));
  // one child process per case (fdk bench's own harness): ort-wasm fixes its thread count per process
  const rep = await runBench(src, { runtimes: ['ort-wasm', 'ncnn-wasm'], threads: threadList, shapes, warmup: 3, runs });
  const f = (v: number | string | undefined) => (typeof v === 'number' ? v.toFixed(2) : v ?? '-');
  for (const dims of shapes)
    for (const threads of threadList) {
      const pick = (rt: RuntimeName) => {
        const c = rep.cases.find((x) => x.runtime === rt && x.threads === threads && x.input === dims.join('x'));
        return !c ? undefined : c.error ? `error: ${c.error.slice(0, 60)}` : c.latency.median;
      };
      const ort = pick('ort-wasm');
      const ncnn = pick('ncnn-wasm');
      let unpacked: number | string;
      try {
        unpacked = await median('ncnn-wasm', src.path, Object.keys(src.inputs)[0], dims, { threads, ncnn: { packing: false } });
      } catch (e) {
        unpacked = `error: ${(e as Error).message.split('\n')[0].slice(0, 60)}`;
      }
      const ratio = typeof ort === 'number' && typeof ncnn === 'number' ? (ncnn / ort).toFixed(2) : '-';
      lines.push(`| ${entry.id} | ${dims[3]}x${dims[2]} | ${threads} | ${f(ort)} | ${f(ncnn)} | ${ratio} | ${f(unpacked)} |`);
      process.stderr.write(`${entry.id} ${dims.join('x')} t${threads}: ort-wasm ${f(ort)} ncnn-wasm ${f(ncnn)} (packing off ${f(unpacked)})\n`);
    }
}
const text = [
  `Measured ${started.slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:wasm\` on ${host.cpu} (${host.cores} cores), Node ${host.node}; ` +
    `median of ${runs} runs after 3 warm-up runs, timed inside each engine, synthetic input; load average at start ${load0.toFixed(2)} ` +
    '(the machine is shared: compare within a row, not across runs).',
  '',
  ...lines,
].join('\n');
console.log(text);
if (!process.env.WASM_NO_DOC) {
  const doc = readFileSync(DOC, 'utf8');
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${DOC}: markers ${START} / ${END} not found`);
  writeFileAtomic(DOC, doc.slice(0, a + START.length) + '\n' + text + '\n' + doc.slice(b));
  process.stderr.write(`wrote the table into ${DOC}\n`);
}
