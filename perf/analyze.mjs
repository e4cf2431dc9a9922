#!/usr/bin/env node
/**
 * `npm run bench:analyze`: whole-process time of `fdk analyze` (built CLI) against onnx-tool's
 * profile (PyPI, .venv-dev) on one generated ONNX file with >= 200 MB of weights and >= 5,000
 * nodes (a residual 3x3-conv stack; written once to .fdk/bench/). Prints both times and the ratio.
 * Run `npm run build` first (the npm script does).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const C = 64, BLOCKS = 720, HW = 8; // 720 blocks x 7 nodes = 5,040 nodes; 1,440 convs x 147 KB = 212 MB
const file = join(root, '.fdk', 'bench', `analyze-stack-${BLOCKS}x${C}.onnx`);
const shape = `1x${C}x${HW}x${HW}`;

async function generate() {
  const { Tensor } = await import(join(root, 'dist/onnx/tensor.js'));
  const { saveOnnx } = await import(join(root, 'dist/onnx/io.js'));
  const nodes = [];
  const initializers = new Map();
  let seed = 1;
  const rand = (n, scale) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      a[i] = ((seed / 4294967296) - 0.5) * scale;
    }
    return a;
  };
  const add = (name, dims, values) => initializers.set(name, Tensor.fromValues(name, 'float32', dims, values));
  const conv = (x, name) => {
    add(`${name}.w`, [C, C, 3, 3], rand(C * C * 9, 0.05));
    add(`${name}.b`, [C], rand(C, 0.01));
    nodes.push({ name, opType: 'Conv', domain: '', inputs: [x, `${name}.w`, `${name}.b`], outputs: [`${name}.y`],
      attrs: { kernel_shape: { type: 'ints', value: [3, 3] }, pads: { type: 'ints', value: [1, 1, 1, 1] } } });
    return `${name}.y`;
  };
  const bn = (x, name) => {
    add(`${name}.s`, [C], new Float32Array(C).fill(1));
    add(`${name}.b`, [C], new Float32Array(C));
    add(`${name}.m`, [C], new Float32Array(C));
    add(`${name}.v`, [C], new Float32Array(C).fill(1));
    nodes.push({ name, opType: 'BatchNormalization', domain: '', inputs: [x, `${name}.s`, `${name}.b`, `${name}.m`, `${name}.v`], outputs: [`${name}.y`], attrs: {} });
    return `${name}.y`;
  };
  const op = (opType, inputs, name) => {
    nodes.push({ name, opType, domain: '', inputs, outputs: [`${name}.y`], attrs: {} });
    return `${name}.y`;
  };
  let x = 'input';
  for (let b = 0; b < BLOCKS; b++) {
    const p = `block${b}`;
    let y = op('Relu', [bn(conv(x, `${p}.conv1`), `${p}.bn1`)], `${p}.relu1`);
    y = bn(conv(y, `${p}.conv2`), `${p}.bn2`);
    x = op('Relu', [op('Add', [x, y], `${p}.add`)], `${p}.relu2`);
  }
  const vi = (name, dims) => ({ name, dtype: 'float32', shape: dims });
  const model = {
    irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'fdk-bench', producerVersion: '1',
    graph: { name: 'stack', nodes, inputs: [vi('input', [1, C, 'H', 'W'])], outputs: [vi(x, [1, C, 'H', 'W'])], initializers, valueInfo: new Map() },
  };
  saveOnnx(model, file);
}

// CPU seconds (user+sys) via GNU time when present: unlike wall time, robust to a busy machine.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
function time(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = GNU_TIME
    ? spawnSync(GNU_TIME, ['-f', 'fdk-bench-cpu %U %S', cmd, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20 })
    : spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const m = /fdk-bench-cpu ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  return { s, cpu: m ? Number(m[1]) + Number(m[2]) : NaN, out: r.stdout };
}

if (!existsSync(join(root, 'dist/cli/main.js'))) {
  console.error('bench:analyze: run `npm run build` first');
  process.exit(2);
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const TABLE_ONLY = process.argv.includes('--table-only'); // only the 50k-node table case below
if (!TABLE_ONLY && !existsSync(file)) {
  console.log(`generating ${file} ...`);
  await generate();
}
const py = join(root, '.venv-dev', 'bin', 'python');
if (!TABLE_ONLY) {
const mb = statSync(file).size / 1e6;
console.log(`model: ${file} (${mb.toFixed(1)} MB, ${BLOCKS * 7} nodes, input ${shape})`);

const fdk = [], ot = [], fdkCpu = [], otCpu = [];
let fdkTotals, otTotals;
for (let i = 0; i < RUNS; i++) {
  const a = time(process.execPath, [join(root, 'bin/fdk.js'), 'analyze', file, '--input', shape, '--convention', 'onnx-tool', '--json']);
  fdk.push(a.s);
  fdkCpu.push(a.cpu);
  fdkTotals = JSON.parse(a.out).totals;
  if (existsSync(py)) {
    const b = time(py, [join(root, 'scripts/onnx-tool-profile.py'), shape, file]);
    ot.push(b.s);
    otCpu.push(b.cpu);
    otTotals = JSON.parse(b.out.trim().split('\n').pop())[0];
  }
}
console.log(`fdk analyze (whole process, median of ${RUNS}): ${med(fdk).toFixed(3)} s   [${fdk.map((s) => s.toFixed(3)).join(', ')}]  MACs ${fdkTotals.macs}`);
if (ot.length) {
  console.log(`onnx-tool profile (whole process, median of ${RUNS}): ${med(ot).toFixed(3)} s   [${ot.map((s) => s.toFixed(3)).join(', ')}]  MACs ${otTotals.macs}`);
  console.log(`ratio onnx-tool / fdk: ${(med(ot) / med(fdk)).toFixed(2)}x wall  (goal >= 3x, fdk < 2 s)`);
  if (GNU_TIME) console.log(`CPU time (user+sys, median): fdk ${med(fdkCpu).toFixed(2)} s, onnx-tool ${med(otCpu).toFixed(2)} s, ratio ${(med(otCpu) / med(fdkCpu)).toFixed(2)}x`);
} else console.log('onnx-tool: .venv-dev missing, run `bash scripts/setup-python.sh`');
}

// 50,000 nodes, default table output (issue #15, item 9: cli-table3 took over 300 s here; target < 3 s).
const N50K = 50_000;
const file50k = join(root, '.fdk', 'bench', `analyze-chain-${N50K}.onnx`);
if (!existsSync(file50k)) {
  const { saveOnnx } = await import(join(root, 'dist/onnx/io.js'));
  const nodes = [];
  let x = 'input';
  for (let i = 0; i < N50K; i++) {
    nodes.push({ name: `n${i}`, opType: i % 2 ? 'Sigmoid' : 'Relu', domain: '', inputs: [x], outputs: [`t${i}`], attrs: {} });
    x = `t${i}`;
  }
  const vi = (name) => ({ name, dtype: 'float32', shape: [1, 8, 4, 4] });
  saveOnnx({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'fdk-bench', producerVersion: '1',
    graph: { name: 'chain', nodes, inputs: [vi('input')], outputs: [vi(x)], initializers: new Map(), valueInfo: new Map() } }, file50k);
}
const table = [], tableCpu = [];
let lines = 0;
for (let i = 0; i < RUNS; i++) {
  const a = time(process.execPath, [join(root, 'bin/fdk.js'), 'analyze', file50k]);
  table.push(a.s);
  tableCpu.push(a.cpu);
  lines = a.out.split('\n').length;
}
console.log(`fdk analyze ${N50K}-node chain, default table (median of ${RUNS}): ${med(table).toFixed(3)} s wall, ${med(tableCpu).toFixed(2)} s CPU   [${table.map((s) => s.toFixed(3)).join(', ')}]  ${lines} lines  (target < 3 s)`);
