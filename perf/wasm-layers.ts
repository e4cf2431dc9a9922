/**
 * `npm run bench:wasm-layers`: where ncnn-wasm spends its time, layer by layer, against native ncnn
 * (the PyPI wheel, in fdk's venv) running the same .param/.bin with the same options (1 thread,
 * fp32, packed layouts on).
 *
 * Both sides use the same method, with no special ncnn build: in one extractor, extract every blob
 * in the .param's layer order, twice. The first extract runs only the layers not run yet; the
 * second only copies the blob out, so first minus second is the time of the layers that made it
 * (NcnnWasmNet.profile in src/runtime/ncnn-wasm/net.ts; the same loop in Python for native ncnn).
 * The per-layer times are grouped by layer type and kernel (Convolution k3/s1, ...) and summed.
 *
 * Prints Markdown and writes it into docs/wasm.md between `<!-- bench:wasm-layers:start -->` and
 * `<!-- bench:wasm-layers:end -->`.
 * env: LAYERS_MODELS (ids, default slim,rfb), LAYERS_SIZE (WxH, default 640x480), LAYERS_RUNS
 * (default 7, after 2 warm-up runs), LAYERS_BUILD=simd (the single-thread build instead of the one
 * ncnn-wasm loads by default), LAYERS_NO_DOC=1 (print only).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolveModelSource } from '../src/runtime/model-source.js';
import { convertOnnxForNcnn } from '../src/runtime/ncnn-convert.js';
import { venvPython } from '../src/runtime/ncnn-venv.js';
import { loadNcnnWasm } from '../src/runtime/ncnn-wasm/node-module.js';
import { nodeVariantFor } from '../src/runtime/ncnn-wasm/locate.js';
import { NcnnWasmNet } from '../src/runtime/ncnn-wasm/net.js';
import { syntheticInputs } from '../src/bench/case.js';
import { median } from '../src/bench/stats.js';
import { hostInfo } from '../src/bench/host.js';
import { writeDocSection } from '../scripts/doc-sections.js';

const models = (process.env.LAYERS_MODELS ?? 'slim,rfb').split(',');
const [W, H] = (process.env.LAYERS_SIZE ?? '640x480').split('x').map(Number);
const runs = Number(process.env.LAYERS_RUNS ?? 7);
const WARMUP = 2;
/** The build `fdk bench --runtimes ncnn-wasm` loads at 1 thread; LAYERS_BUILD=simd profiles the single-thread build. */
const variant = process.env.LAYERS_BUILD === 'simd' ? 'simd' : nodeVariantFor(1);

/** The same profile loop as NcnnWasmNet.profile, for the native ncnn wheel. */
const PY = `
import json, sys, time
import numpy as np, ncnn
a = json.loads(sys.argv[1])
net = ncnn.Net()
net.opt.num_threads = 1
net.opt.use_fp16_storage = net.opt.use_fp16_packed = net.opt.use_fp16_arithmetic = False
net.opt.use_bf16_storage = False
net.opt.use_vulkan_compute = False
assert net.load_param(a["param"]) == 0 and net.load_model(a["bin"]) == 0
c, h, w = a["shape"]
arr = np.random.default_rng(1).uniform(-1, 1, (c, h, w)).astype(np.float32)  # ncnn.Mat wraps it: keep it alive
x = ncnn.Mat(arr)
times = {b: [] for b in a["blobs"]}
for i in range(a["warmup"] + a["runs"]):
    ex = net.create_extractor()
    ex.input(a["input"], x)
    for b in a["blobs"]:
        t0 = time.perf_counter(); ex.extract(b); t1 = time.perf_counter(); ex.extract(b); t2 = time.perf_counter()
        if i >= a["warmup"]: times[b].append(max(0.0, (t1 - t0) - (t2 - t1)) * 1000)
    del ex
print(json.dumps({b: sorted(v)[len(v) // 2] for b, v in times.items()}))
`;

interface Layer {
  type: string;
  name: string;
  tops: string[];
  /** Layer type plus, for convolutions, kernel and stride: the group the time is summed into. */
  group: string;
}

function parseLayers(paramText: string): Layer[] {
  return paramText
    .split(/\r?\n/)
    .slice(2)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 4 && f[0] !== 'Input')
    .map((f) => {
      const nIn = Number(f[2]);
      const nOut = Number(f[3]);
      const kv = Object.fromEntries(f.slice(4 + nIn + nOut).map((p) => p.split('=') as [string, string]));
      const conv = /^(Convolution|ConvolutionDepthWise|Deconvolution)$/.test(f[0]);
      return { type: f[0], name: f[1], tops: f.slice(4 + nIn, 4 + nIn + nOut), group: conv ? `${f[0]} k${kv['1'] ?? '?'}/s${kv['3'] ?? '1'}` : f[0] };
    });
}

async function profileModel(id: string): Promise<string[]> {
  const src = await resolveModelSource(id);
  const input = Object.keys(src.inputs)[0];
  const dims = [1, 3, H, W];
  const conv = await convertOnnxForNcnn(src.path, { [input]: dims });
  const paramText = readFileSync(conv.param, 'utf8');
  const layers = parseLayers(paramText);
  const blobs = layers.flatMap((l) => l.tops);

  const { module } = await loadNcnnWasm(variant);
  const net = new NcnnWasmNet(module, paramText, readFileSync(conv.bin), { threads: 1 });
  const feeds = syntheticInputs({ [input]: dims });
  const wasmTimes: Record<string, number[]> = {};
  for (let i = 0; i < WARMUP + runs; i++)
    for (const { blob, ms } of net.profile(feeds, blobs)) if (i >= WARMUP) (wasmTimes[blob] ??= []).push(ms);
  const whole: number[] = [];
  for (let i = 0; i < runs; i++) whole.push(net.run(feeds).ms);
  net.release();
  const wasm = Object.fromEntries(Object.entries(wasmTimes).map(([b, v]) => [b, median(v)]));

  const args = JSON.stringify({ param: conv.param, bin: conv.bin, input, shape: dims.slice(1), blobs, runs, warmup: WARMUP });
  const native = JSON.parse(execFileSync(venvPython(), ['-c', PY, args], { encoding: 'utf8', maxBuffer: 1 << 24 })) as Record<string, number>;

  const groups = new Map<string, { n: number; wasm: number; native: number }>();
  for (const l of layers) {
    const g = groups.get(l.group) ?? { n: 0, wasm: 0, native: 0 };
    g.n++;
    for (const t of l.tops) {
      g.wasm += wasm[t] ?? 0;
      g.native += native[t] ?? 0;
    }
    groups.set(l.group, g);
  }
  const totalWasm = [...groups.values()].reduce((a, g) => a + g.wasm, 0);
  const totalNative = [...groups.values()].reduce((a, g) => a + g.native, 0);
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(1) : '-');
  const rows = [...groups.entries()]
    .sort((a, b) => b[1].wasm - a[1].wasm)
    .filter(([, g]) => g.wasm / totalWasm >= 0.01)
    .map(([k, g]) => `| ${id} | ${k} | ${g.n} | ${g.native.toFixed(2)} | ${g.wasm.toFixed(2)} | ${ratio(g.wasm, g.native)} | ${((100 * g.wasm) / totalWasm).toFixed(0)}% |`);
  rows.push(`| ${id} | **all layers** (whole run: ${median(whole).toFixed(2)}) | ${layers.length} | ${totalNative.toFixed(2)} | ${totalWasm.toFixed(2)} | ${ratio(totalWasm, totalNative)} | 100% |`);
  process.stderr.write(`${id} ${W}x${H}: native ncnn ${totalNative.toFixed(2)} ms, ncnn-wasm ${totalWasm.toFixed(2)} ms (whole run ${median(whole).toFixed(2)})\n`);
  return rows;
}

const host = hostInfo();
const started = new Date().toISOString();
const load0 = loadavg()[0];
const rows: string[] = [];
for (const id of models) rows.push(...(await profileModel(id)));
const text = [
  `Measured ${started.slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:wasm-layers\` on ${host.cpu} (${host.cores} cores), Node ${host.node}; ` +
    `input ${W}x${H}, 1 thread, fp32, packed layouts on, ncnn-wasm's ${variant} build; median of ${runs} runs after ${WARMUP} warm-up runs; layer groups under 1% of ncnn-wasm's time left out; ` +
    `load average at start ${load0.toFixed(2)}.`,
  '',
  '| model | layer group | layers | native ncnn ms | ncnn-wasm ms | wasm / native | share of ncnn-wasm |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...rows,
].join('\n');
console.log(text);
if (!process.env.LAYERS_NO_DOC) process.stderr.write(`wrote the table into ${writeDocSection('bench:wasm-layers', text)}\n`);
