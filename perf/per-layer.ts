/**
 * `npm run bench:per-layer`: is `fdk parity --per-layer` usable on a 400-layer model? Generates
 * (once, into .fdk/bench/) a residual stack of Conv3x3-BN-ReLU blocks with 400+ ONNX nodes and
 * its unfused ncnn conversion, then times whole processes, median of BENCH_RUNS (default 3):
 *   python  — a plain Python loop with the same PyPI ncnn (fdk's venv): load the .param/.bin, one
 *             extractor, pull every blob, convert each to numpy;
 *   fdk     — `node bin/fdk.js parity MODEL.onnx --per-layer --json` (converts, or takes the
 *             conversion from the cache, runs ort with every intermediate as an output, extracts
 *             every blob from ncnn through shared memory in parts, compares them all).
 * Prints wall and CPU times (user + sys, the ncnn worker included) and their ratios; target: fdk
 * within 3x of the Python loop. On a machine shared with other jobs the wall ratio mostly measures
 * scheduling (fdk runs two processes); the CPU ratio is the stable one. Run `npm run build` first
 * (the npm script does); `npm run bench:per-layer -- --doc` also writes the table into docs/commands.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { A, GraphBuilder } from '../src/onnx/builder.js';
import { Tensor } from '../src/onnx/tensor.js';
import { saveOnnx } from '../src/onnx/io.js';
import { convertOnnxFileToNcnn } from '../src/convert/ncnn/index.js';
import { ensureNcnnVenv } from '../src/runtime/ncnn-venv.js';
import { median } from '../src/bench/stats.js';
import { writeDocSection } from '../scripts/doc-sections.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 100); // 4 nodes per block + stem
const C = 16, H = 60, W = 80;
const dir = join(root, '.fdk', 'bench');
const onnx = join(dir, `per-layer-${BLOCKS}x${C}.onnx`);
const prefix = join(dir, `per-layer-${BLOCKS}x${C}-noopt`);

function generate(): number {
  let seed = 7;
  const rand = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * scale);
  const b = new GraphBuilder({ opset: 13 });
  let x = b.addInput('input', 'float32', [1, 3, H, W]);
  x = b.op('Conv', [x, b.constFloat('stem.w', [C, 3, 3, 3], rand(C * 27, 0.3))], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]) });
  for (let i = 0; i < BLOCKS; i++) {
    const conv = b.op('Conv', [x, b.constFloat(`b${i}.w`, [C, C, 3, 3], rand(C * C * 9, 0.1)), b.constFloat(`b${i}.b`, [C], rand(C, 0.01))], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]) });
    const bn = b.op('BatchNormalization', [conv, b.constFloat(`b${i}.s`, [C], new Float32Array(C).fill(1)), b.constFloat(`b${i}.sh`, [C], new Float32Array(C)),
      b.addInitializer(`b${i}.m`, Tensor.float32(`b${i}.m`, [C], new Float32Array(C))), b.constFloat(`b${i}.v`, [C], new Float32Array(C).fill(1))]);
    x = b.op('Relu', [b.op('Add', [x, b.op('Relu', [bn])])]);
  }
  b.addOutput(x, 'output', 'float32');
  const model = b.build();
  saveOnnx(model, onnx);
  convertOnnxFileToNcnn(onnx, { prefix, optimize: false });
  return model.graph.nodes.length;
}

const PY = `
import sys, time
t0 = time.perf_counter()
import ncnn, numpy as np
net = ncnn.Net()
net.opt.num_threads = 1
net.load_param(sys.argv[1]); net.load_model(sys.argv[2])
names = [b.name for b in net.blobs()]
ex = net.create_extractor()
ex.set_light_mode(False)
ex.input("input", ncnn.Mat(np.random.rand(3, ${H}, ${W}).astype(np.float32)).clone())
total = 0
for n in names:
    rc, m = ex.extract(n)
    total += np.array(m).size
print(len(names), total, time.perf_counter() - t0)
`;

/** Wall time and CPU time (user + sys, children included: the ncnn worker) of one process. */
function measure(cmd: string, args: string[]): { wall: number; cpu: number } {
  const t0 = performance.now();
  // GNU time reports the CPU of the process and the children it waited for (fdk's Python worker)
  const r = spawnSync('/usr/bin/time', ['-f', 'FDKCPU %U %S', cmd, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, CI: 'true' } });
  const wall = performance.now() - t0;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const m = /FDKCPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const nodes = existsSync(onnx) && existsSync(`${prefix}.param`) ? undefined : generate();
  const venv = await ensureNcnnVenv();
  const script = join(dir, 'per-layer-loop.py');
  writeFileSync(script, PY);
  const py: { wall: number; cpu: number }[] = [];
  const fdk: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    py.push(measure(venv.python, [script, `${prefix}.param`, `${prefix}.bin`]));
    fdk.push(measure(process.execPath, [join(root, 'bin/fdk.js'), 'parity', onnx, '--per-layer', '--json']));
  }
  const r = spawnSync(process.execPath, [join(root, 'bin/fdk.js'), 'parity', onnx, '--per-layer', '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 30 });
  const rep = JSON.parse(r.stdout) as { compared: number; timings: Record<string, number> };
  const compared = rep.compared;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const pw = median(py.map((x) => x.wall)), fw = median(fdk.map((x) => x.wall));
  const pc = median(py.map((x) => x.cpu)), fc = median(fdk.map((x) => x.cpu));
  const table = [
    `Model: a generated residual stack, ${BLOCKS} Conv3x3-BN-ReLU-Add blocks (${C} channels, input 1x3x${H}x${W}); ${compared} layers compared; median of ${RUNS} runs; ${new Date().toISOString().slice(0, 10)}, 2 cores shared with other jobs.`,
    '',
    '| load avg | Python loop wall | fdk --per-layer wall | wall ratio | Python loop CPU | fdk CPU (incl. worker) | CPU ratio |',
    '|---|---|---|---|---|---|---|',
    `| ${loadavg()[0].toFixed(1)} | ${s(pw)} | ${s(fw)} | ${(fw / pw).toFixed(2)}x | ${s(pc)} | ${s(fc)} | ${(fc / pc).toFixed(2)}x |`,
  ].join('\n');
  console.log(`model: ${onnx}${nodes ? ` (${nodes} ONNX nodes, generated)` : ''}`);
  console.log(table);
  // where fdk's time went in one more run (the report's own timings; ort and ncnn overlap)
  const t = rep.timings;
  console.log(`fdk split (one run, ms): ${Object.entries(t).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}; ` +
    'ort (load + run) overlaps with the ncnn worker starting and loading; compare overlaps with the ncnn extraction');
  // --doc: the measured table replaces the marked section of docs/commands.md (never pasted by hand)
  if (process.argv.includes('--doc')) {
    console.log(`wrote the table into ${writeDocSection('bench:per-layer', table)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
