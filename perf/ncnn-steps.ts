/**
 * `npm run bench:ncnn-steps`: where the wall time of one ncnn call through fdk's worker goes.
 * Runs ulfd-slim-320 (OVERHEAD_MODEL) with FDK_NCNN_PROFILE=1, which makes fdk and the worker
 * take CLOCK_MONOTONIC marks at each step of a request (src/runtime/ncnn-client.ts,
 * src/runtime/ncnn-worker/worker.py), and prints the median of each step per transport:
 *
 *   fdk: input copy + frame -> pipe write  (fdk_send -> fdk_sent)
 *   pipe: request in flight, worker wakes  (fdk_sent -> woke)
 *   worker: header parse + input views     (woke -> parsed)
 *   worker: ncnn Mats filled               (parsed -> mats)
 *   worker: ncnn forward                   (mats -> forward)
 *   worker: outputs into the reply region  (forward -> written; stdio: none)
 *   worker: reply frame built              (written -> replied; stdio: the outputs serialised too)
 *   pipe: reply in flight, fdk wakes       (replied -> fdk_data)
 *   fdk: frame parse + outputs read back   (fdk_data -> fdk_read)
 *
 * plus the wall time per call seen by the caller and what no mark covers (the caller's own loop,
 * promise resolution). The load average is printed with it: on a busy machine the two "pipe"
 * steps mostly measure the scheduler. env: OVERHEAD_MODEL, OVERHEAD_THREADS (1), OVERHEAD_RUNS (200).
 * `--doc` writes the table into docs/ncnn-ipc.md (section bench:ncnn-steps).
 */
import { loadavg } from 'node:os';
import { resolveModelSource } from '../src/runtime/model-source.js';
import { convertOnnxForNcnn } from '../src/runtime/ncnn-convert.js';
import { syntheticInputs } from '../src/bench/case.js';
import { median } from '../src/bench/stats.js';
import type { NcnnTransport } from '../src/runtime/ncnn-client.js';
import { cpuModel } from '../src/bench/host.js';
import { writeDocSection } from '../scripts/doc-sections.js';

import { ncnnRuntime } from '../src/runtime/ncnn.js';

process.env.FDK_NCNN_PROFILE = '1';
const modelId = process.env.OVERHEAD_MODEL ?? 'ulfd-slim-320';
const threads = Number(process.env.OVERHEAD_THREADS ?? 1);
const runs = Number(process.env.OVERHEAD_RUNS ?? 200);

/** Each step ends at its mark and starts at the previous mark the request has. */
const steps: [string, string][] = [
  ['fdk: input copy + frame -> pipe write', 'fdk_sent'],
  ['pipe: request in flight, worker wakes', 'woke'],
  ['worker: header parse + input views', 'parsed'],
  ['worker: ncnn Mats filled', 'mats'],
  ['worker: ncnn forward', 'forward'],
  ['worker: outputs into the reply region', 'written'],
  ['worker: reply frame built', 'replied'],
  ['pipe: reply in flight, fdk wakes', 'fdk_data'],
  ['fdk: frame parse + outputs read back', 'fdk_read'],
];

const src = await resolveModelSource(modelId);
const [inputName] = Object.keys(src.inputs);
const declared = src.inputs[inputName];
const dims = declared.every((d) => typeof d === 'number') ? (declared as number[]) : [1, 3, 240, 320];
const conv = await convertOnnxForNcnn(src.path, { [inputName]: dims });
const feeds = syntheticInputs({ [inputName]: dims });
const load0 = loadavg()[0];
const rows: Record<string, Record<NcnnTransport, number>> = {};
const put = (label: string, t: NcnnTransport, v: number) => ((rows[label] ??= {} as Record<NcnnTransport, number>)[t] = v);
for (const transport of ['shm', 'stdio'] as const) {
  const m = await ncnnRuntime.load(conv.param, { threads, ncnn: { transport } });
  try {
    for (let i = 0; i < 10; i++) await m.run(feeds);
    const per: Record<string, number[]> = {};
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await m.run(feeds);
      wall.push(performance.now() - t0);
      const p = r.steps!;
      let prev = p.fdk_send;
      for (const [label, b] of steps) {
        (per[label] ??= []).push(b in p ? (p[b] - prev) / 1e6 : 0);
        if (b in p) prev = p[b];
      }
    }
    let sum = 0;
    for (const [label] of steps) {
      const v = median(per[label]);
      sum += v;
      put(label, transport, v);
    }
    put('sum of the steps (medians)', transport, sum);
    put('wall per call (median)', transport, median(wall));
    put('not covered by a mark', transport, median(wall) - sum);
  } finally {
    await m.release();
  }
}
const table = [
  `${modelId}, input ${dims.join('x')}, threads ${threads}, ${runs} runs per transport; ${new Date().toISOString().slice(0, 10)}, ${cpuModel()}, ` +
    `load average (1 min) ${load0.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end. ms, median of each step over the runs.`,
  '',
  '| step | shared memory | stdio |',
  '|---|---:|---:|',
  ...Object.entries(rows).map(([label, v]) => `| ${label} | ${v.shm.toFixed(3)} | ${v.stdio.toFixed(3)} |`),
].join('\n');
console.log(`bench:ncnn-steps  ${modelId}`);
console.log(table);
if (process.argv.includes('--doc')) console.log(`wrote the table into ${writeDocSection('bench:ncnn-steps', table)}`);
