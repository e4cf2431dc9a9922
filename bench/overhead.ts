/**
 * `npm run bench:overhead`: how much does fdk's harness add? The same model, threads and input shape
 * run through a minimal standalone onnxruntime-node script and a minimal standalone Python ncnn
 * script, and through `fdk bench` (its own child process per case, ncnn in the worker). Rounds are
 * interleaved so machine drift hits both sides. Prints the fdk/standalone median ratios; goal: within 5%.
 * Other load on the machine only ever adds time, so the ratio uses the lowest per-round median of each
 * side (the median over rounds is printed too).
 *
 * env: OVERHEAD_MODEL (model id, default ulfd-slim-320), OVERHEAD_THREADS (1), OVERHEAD_RUNS (200),
 *      OVERHEAD_ROUNDS (3)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';
import { resolveModelSource } from '../src/runtime/model-source.js';
import { convertOnnxForNcnn } from '../src/runtime/ncnn-convert.js';
import { ensureNcnnVenv } from '../src/runtime/ncnn-venv.js';
import { runBench } from '../src/bench/run-bench.js';
import { cpuModel } from '../src/bench/host.js';
import { median } from '../src/bench/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const modelId = process.env.OVERHEAD_MODEL ?? 'ulfd-slim-320';
const threads = Number(process.env.OVERHEAD_THREADS ?? 1);
const runs = Number(process.env.OVERHEAD_RUNS ?? 200);
const rounds = Number(process.env.OVERHEAD_ROUNDS ?? 5);
const warmup = 10;


function standalone(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!).median as number;
}

const src = await resolveModelSource(modelId);
const [inputName] = Object.keys(src.inputs);
const declared = src.inputs[inputName];
const dims = declared.every((d) => typeof d === 'number') ? (declared as number[]) : [1, 3, 240, 320];
const dimsLabel = dims.join('x');
const conv = await convertOnnxForNcnn(src.path, { [inputName]: dims });
const venv = await ensureNcnnVenv();

const res: Record<'ort' | 'ncnn', { standalone: number[]; fdk: number[]; fdkWall: number[] }> = {
  ort: { standalone: [], fdk: [], fdkWall: [] },
  ncnn: { standalone: [], fdk: [], fdkWall: [] },
};
for (let round = 0; round < rounds; round++) {
  res.ort.standalone.push(standalone(process.execPath, [join(here, 'overhead/ort-standalone.mjs'), src.path, String(threads), dimsLabel, String(warmup), String(runs)]));
  res.ncnn.standalone.push(standalone(venv.python, [join(here, 'overhead/ncnn-standalone.py'), conv.param, conv.bin, String(threads), dimsLabel, String(warmup), String(runs)]));
  // ncnn in fdk loads the same converted files the standalone script used (the conversion is cached)
  const rep = await runBench(src, { runtimes: ['ort', 'ncnn'], threads: [threads], shapes: [dims], warmup, runs });
  for (const c of rep.cases) {
    if (c.error) throw new Error(`fdk bench ${c.runtime}: ${c.error}`);
    const k = c.runtime as 'ort' | 'ncnn';
    res[k].fdk.push(c.latency.median);
    res[k].fdkWall.push(c.wallMedianMs);
  }
  process.stderr.write(
    `round ${round + 1}/${rounds}: ort standalone ${res.ort.standalone.at(-1)!.toFixed(3)} fdk ${res.ort.fdk.at(-1)!.toFixed(3)}; ` +
      `ncnn standalone ${res.ncnn.standalone.at(-1)!.toFixed(3)} fdk ${res.ncnn.fdk.at(-1)!.toFixed(3)} ms\n`,
  );
}

console.log(`bench:overhead  ${modelId} (${src.path}), ${dimsLabel}, threads ${threads}, ${runs} runs x ${rounds} rounds`);
console.log(`host: ${cpuModel()}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('(per-round medians on stderr; "best" = lowest per-round median, "mid" = median over rounds)');
console.log('runtime | standalone best / mid ms | fdk best / mid ms (runtime-timed) | ratio best (mid) | fdk wall best ms | wall ratio best');
const min = (xs: number[]) => Math.min(...xs);
for (const k of ['ort', 'ncnn'] as const) {
  const s = min(res[k].standalone);
  const f = min(res[k].fdk);
  const w = min(res[k].fdkWall);
  const mid = median(res[k].fdk) / median(res[k].standalone);
  const ok = (x: number) => (Math.abs(x - 1) <= 0.05 ? 'within 5%' : 'OUTSIDE 5%');
  console.log(
    `${k} | ${s.toFixed(3)} / ${median(res[k].standalone).toFixed(3)} | ${f.toFixed(3)} / ${median(res[k].fdk).toFixed(3)} | ` +
      `${(f / s).toFixed(3)} ${ok(f / s)} (${mid.toFixed(3)}) | ${w.toFixed(3)} | ${(w / s).toFixed(3)}`,
  );
}
