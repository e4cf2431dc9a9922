/**
 * `npm run bench:runtimes`: the README's runtime table — the five detectors on ort, wasm and ncnn,
 * threads 1, at 320x240 and 640x480 (Ultra-Light: the 320 models at 320x240, the 640 models at
 * 640x480, as they were trained). Prints Markdown (median ms, p90 in brackets) plus the date, CPU and
 * load average. env: RUNTIMES_RUNS (default 30), RUNTIMES_THREADS (default 1).
 */
import { loadavg } from 'node:os';
import { resolveModelSource } from '../src/runtime/model-source.js';
import { runBench } from '../src/bench/run-bench.js';
import { hostInfo } from '../src/bench/host.js';
import type { RuntimeName } from '../src/runtime/types.js';

const runs = Number(process.env.RUNTIMES_RUNS ?? 30);
const threads = Number(process.env.RUNTIMES_THREADS ?? 1);
const runtimes: RuntimeName[] = ['ort', 'ort-wasm', 'ncnn'];
const rows: [string, string, number[]][] = [
  ['slim', 'seed slim (fdk export)', [1, 3, 240, 320]],
  ['slim', 'seed slim (fdk export)', [1, 3, 480, 640]],
  ['rfb', 'seed RFB (fdk export)', [1, 3, 240, 320]],
  ['rfb', 'seed RFB (fdk export)', [1, 3, 480, 640]],
  ['mnet0.25', 'RetinaFace mnet0.25 (fdk export)', [1, 3, 240, 320]],
  ['mnet0.25', 'RetinaFace mnet0.25 (fdk export)', [1, 3, 480, 640]],
  ['ulfd-slim-320', 'Ultra-Light slim-320 (original ONNX)', [1, 3, 240, 320]],
  ['ulfd-slim-640', 'Ultra-Light slim-640 (fdk export)', [1, 3, 480, 640]],
  ['ulfd-rfb-320', 'Ultra-Light RFB-320 (original ONNX)', [1, 3, 240, 320]],
  ['ulfd-rfb-640', 'Ultra-Light RFB-640 (fdk export)', [1, 3, 480, 640]],
];

const host = hostInfo();
const started = new Date().toISOString();
const load0 = loadavg()[0];
const lines = [
  `| model | input | ${runtimes.map((r) => `${r} median ms (p90)`).join(' | ')} |`,
  `|---|---|${runtimes.map(() => '---:').join('|')}|`,
];
for (const [id, title, dims] of rows) {
  const cells: string[] = [];
  try {
    const src = await resolveModelSource(id);
    const rep = await runBench(src, { runtimes, threads: [threads], shapes: [dims], warmup: 5, runs });
    for (const c of rep.cases) cells.push(c.error ? `error: ${c.error.slice(0, 60)}` : `${c.latency.median.toFixed(2)} (${c.latency.p90.toFixed(2)})`);
  } catch (e) {
    cells.push(...runtimes.map(() => `error: ${(e as Error).message.slice(0, 60)}`));
  }
  lines.push(`| ${title} | ${dims[3]}x${dims[2]} | ${cells.join(' | ')} |`);
  process.stderr.write(`${id} ${dims.join('x')} done\n`);
}
console.log(`Measured ${started.slice(0, 10)} on ${host.cpu} (${host.cores} cores, ${host.memGb} GB), Node ${host.node}, ` +
  `threads ${threads}, ${runs} runs after 5 warm-up runs, latency timed inside each runtime; load average at start ${load0.toFixed(2)}.`);
console.log('');
console.log(lines.join('\n'));
