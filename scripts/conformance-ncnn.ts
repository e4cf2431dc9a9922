/**
 * `npm run conformance:ncnn`: ONNX's own backend node tests for every op in the converter's
 * table, converted by fdk and run in the real ncnn (PyPI) against the expected outputs.
 *
 * The node tests are generated from the installed `onnx` package (scripts/ncnn-conformance-data.py,
 * .venv-dev) into .fdk/conformance/node. Node tests feed weights as graph inputs; ncnn needs
 * weights as constants, so every input after the first is frozen into an initializer with the
 * test's values (what a deployed model has). Tests are marked, not failed, when they need what
 * ncnn lacks: a batch axis (first input of rank < 2 or with dim 0 != 1, or an op along axis 0)
 * or non-float32 dtypes, or empty tensors (a zero-size dim: ncnn has no empty Mats). Prints the
 * pass rate per op (markdown) and writes reports/latest/conformance-ncnn.{md,json}.
 *
 * A full run (no --ops / --limit) also saves its results to docs/conformance-results.json and
 * rewrites the generated section of docs/conformance.md from them; `--check` rewrites nothing and
 * fails when docs/conformance.md differs from what the saved results give.
 *
 * Options: --ops Relu,Conv (subset), --limit N (tests per op), --check.
 */
import { existsSync, readdirSync, readFileSync, mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { renderConformanceDoc, replaceGenerated, type ConformanceResult } from './conformance-doc.js';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { decodeOnnx } from '../src/onnx/io.js';
import { onnxType } from '../src/onnx/proto.js';
import { tensorFromProto } from '../src/onnx/model.js';
import { Tensor } from '../src/onnx/tensor.js';
import { OP_TABLE } from '../src/convert/ncnn/op-table.js';
import { convertOnnxToNcnn } from '../src/convert/ncnn/convert.js';
import { getRuntime } from '../src/runtime/index.js';
import { writeFilesAtomic } from '../src/util/fs.js';
import { PROJECT_ROOT, workDir } from '../src/util/data.js';

type Result = ConformanceResult;
/** docs/conformance-results.json: the ncnn layer names of the run's op table and every test result. */
interface SavedResults { layers: Record<string, string>; tests: Result[] }

const args = process.argv.slice(2);
const opt = (k: string) => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : undefined;
};
const ops = (opt('--ops')?.split(',') ?? Object.keys(OP_TABLE)).filter((o) => OP_TABLE[o]);
const limit = Number(opt('--limit') ?? Infinity);
const fullRun = !opt('--ops') && !opt('--limit');
const DOC = join(PROJECT_ROOT, 'docs', 'conformance.md');
const DOC_RESULTS = join(PROJECT_ROOT, 'docs', 'conformance-results.json');
const dataDir = workDir('conformance', 'node');

function generate(): void {
  const py = join(PROJECT_ROOT, '.venv-dev', 'bin', 'python');
  if (!existsSync(py)) throw new Error('.venv-dev is missing: run `bash scripts/setup-python.sh`');
  const r = spawnSync(py, [join(PROJECT_ROOT, 'scripts/ncnn-conformance-data.py'), dataDir, ...Object.keys(OP_TABLE)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`generating node tests failed: ${r.stderr}`);
}

function readTensor(path: string): Tensor {
  const pb = onnxType('TensorProto').decode(readFileSync(path)) as unknown as Record<string, unknown>;
  return tensorFromProto(pb, {});
}

function close(a: Float32Array, b: Float32Array): number {
  // returns the worst |a-b| / (atol + rtol |b|); <= 1 passes (rtol 1e-3, atol 1e-4)
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (1e-4 + 1e-3 * Math.abs(b[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst;
}

/**
 * Ops that read axis 1 as channels, or (recurrent ops) take a rank-3 X whose batch axis is their own:
 * a unit batch axis cannot be added in front of their input.
 */
const CHANNEL_OPS = new Set(['Conv', 'ConvTranspose', 'BatchNormalization', 'InstanceNormalization', 'MaxPool', 'AveragePool', 'GlobalMaxPool', 'GlobalAveragePool', 'LRN', 'DepthToSpace', 'SpaceToDepth', 'Gemm', 'Resize', 'Upsample', 'PRelu', 'RNN', 'LSTM', 'GRU']);

/** Rewrites a test to carry a unit batch axis: data input [d...] -> [1, d...], axis attributes shifted. */
function addBatchAxis(model: ReturnType<typeof decodeOnnx>, inT: Tensor[]): void {
  const node = model.graph.nodes[0];
  const shift = (a: number) => (a >= 0 ? a + 1 : a);
  for (const [k, a] of Object.entries(node.attrs)) {
    if (k === 'axis' && a.type === 'int') a.value = shift(a.value);
    if (k === 'axes' && a.type === 'ints') a.value = a.value.map(shift);
    if (k === 'perm' && a.type === 'ints') a.value = [0, ...a.value.map((p) => p + 1)];
  }
  if (node.opType === 'Transpose' && !node.attrs.perm) {
    const r = inT[0].dims.length;
    node.attrs.perm = { type: 'ints', value: [0, ...[...Array(r).keys()].reverse().map((p) => p + 1)] };
  }
  const setInt64 = (j: number, f: (v: number[]) => number[]) => {
    const t = inT[j];
    if (!t) return;
    const v = f(t.toNumbers());
    inT[j] = Tensor.int64(t.name, [v.length], v);
  };
  const op = node.opType;
  // Reshape's target shape and Tile's repeats name every axis: the new unit axis keeps 1
  if (op === 'Reshape' || op === 'Tile') setInt64(1, (v) => [1, ...v]);
  if (op === 'Slice') {
    if (!node.inputs[3]) {
      // default axes are 0..n-1 of the original rank: state them, shifted
      const n = inT[1].dims[0];
      const name = `${node.name || 'slice'}_axes`;
      model.graph.initializers.set(name, Tensor.int64(name, [n], [...Array(n).keys()].map(shift)));
      node.inputs[3] = name;
    } else setInt64(3, (v) => v.map(shift));
  }
  if (['Squeeze', 'Unsqueeze', 'ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'].includes(op)) setInt64(1, (v) => v.map(shift));
  if (op === 'Pad') setInt64(1, (v) => [0, ...v.slice(0, v.length / 2), 0, ...v.slice(v.length / 2)]);
  // every runtime input of the same rank as the data input gets the axis too (Add(x, y) both runtime)
  const x = inT[0];
  inT[0] = new Tensor(x.name, x.dtype, [1, ...x.dims], { raw: x.bytes });
  for (const vi of model.graph.inputs.slice(0, 1)) if (vi.shape) vi.shape = [1, ...vi.shape];
  for (const vi of model.graph.outputs) if (vi.shape) vi.shape = [1, ...vi.shape];
}

async function runOne(dir: string, name: string): Promise<Result> {
  const model = decodeOnnx(readFileSync(join(dir, 'model.onnx')), name);
  const op = model.graph.nodes[0].opType;
  const ds = join(dir, 'test_data_set_0');
  const inputs = model.graph.inputs.filter((i) => !model.graph.initializers.has(i.name));
  const inT = inputs.map((_, j) => readTensor(join(ds, `input_${j}.pb`)));
  const outT = model.graph.outputs.map((_, j) => readTensor(join(ds, `output_${j}.pb`)));
  if ([...inT, ...outT].some((t) => t.dtype !== 'float32' && !(t.dtype === 'int64' && t !== inT[0])))
    return { test: name, op, status: 'dtype', detail: [...inT, ...outT].map((t) => t.dtype).join(',') };
  // (an empty operand like axes = [] is fine; empty data is not)
  if ([inT[0], ...outT].some((t) => t?.dims.includes(0)))
    return { test: name, op, status: 'empty', detail: [inT[0], ...outT].map((t) => `[${t?.dims}]`).join(',') };
  let x = inT[0];
  if (!x) return { test: name, op, status: 'batch', detail: 'no input' };
  let batchAdded = false;
  if (x.dims.length < 2 || x.dims[0] !== 1) {
    // ncnn has no batch axis: run the same computation with a unit batch axis in front, when the
    // op has no implicit channel axis (Conv, BatchNorm, pooling... read axis 1 as channels)
    if (CHANNEL_OPS.has(op) || x.dims.length >= 5) return { test: name, op, status: 'batch', detail: `input [${x.dims}]` };
    addBatchAxis(model, inT);
    x = inT[0];
    batchAdded = true;
  }
  // freeze the other inputs into initializers
  for (let j = 1; j < inputs.length; j++) {
    inT[j].name = inputs[j].name;
    model.graph.initializers.set(inputs[j].name, inT[j]);
  }
  model.graph.inputs = model.graph.inputs.filter((i) => i.name === inputs[0].name || model.graph.initializers.has(i.name));
  let conv;
  try {
    conv = convertOnnxToNcnn(model, { inputShapes: { [inputs[0].name]: x.dims } });
  } catch (e) {
    const m = (e as Error).message;
    return { test: name, op, status: /batch/.test(m) ? 'batch' : 'convert-error', detail: m.replace(/^.*?: node/, 'node') };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'fdk-conf-'));
  const param = join(tmp, 'm.param');
  writeFilesAtomic([{ path: param, data: conv.param }, { path: join(tmp, 'm.bin'), data: conv.bin }]);
  const ncnn = await getRuntime('ncnn');
  let m;
  try {
    m = await ncnn.load(param);
    const r = await m.run({ [inputs[0].name]: { data: x.toFloat32(), dims: x.dims } }, model.graph.outputs.map((o) => o.name));
    for (let j = 0; j < outT.length; j++) {
      const want = outT[j];
      const got = r.outputs[model.graph.outputs[j].name];
      if (!got) return { test: name, op, status: 'fail', detail: `no output ${model.graph.outputs[j].name}` };
      if (got.data.length !== want.toFloat32().length) return { test: name, op, status: 'fail', detail: `shape [${got.dims}] vs [${want.dims}]` };
      const e = close(got.data, want.toFloat32());
      if (e > 1) return { test: name, op, status: 'fail', detail: `error ${e.toFixed(1)}x tolerance` };
    }
    // the layer types the op became (which of an entry's alternatives this test needed)
    const layers = Object.keys(conv.summary.layerTypes).filter((t) => t !== 'Input' && t !== 'MemoryData' && t !== 'Split').sort();
    return { test: name, op, status: 'pass', detail: batchAdded ? 'unit batch axis added' : undefined, batchAdded, layers };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    return { test: name, op, status: 'fail', detail: msg.slice(0, 160) };
  } finally {
    await m?.release();
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (args.includes('--check')) {
    const saved = JSON.parse(readFileSync(DOC_RESULTS, 'utf8')) as SavedResults;
    const want = replaceGenerated(readFileSync(DOC, 'utf8'), renderConformanceDoc(saved.tests, saved.layers));
    if (want !== readFileSync(DOC, 'utf8')) {
      console.error('conformance:ncnn: docs/conformance.md differs from docs/conformance-results.json; run `npm run conformance:ncnn` (full run) and commit both');
      process.exit(1);
    }
    console.log('docs/conformance.md matches docs/conformance-results.json');
    return;
  }
  if (!existsSync(dataDir) || readdirSync(dataDir).length === 0) generate();
  const tests = readdirSync(dataDir).sort();
  const byOp = new Map<string, Result[]>();
  for (const t of tests) {
    const dir = join(dataDir, t);
    const op = decodeOnnx(readFileSync(join(dir, 'model.onnx')), t).graph.nodes[0].opType;
    if (!ops.includes(op)) continue;
    const list = byOp.get(op) ?? byOp.set(op, []).get(op)!;
    if (list.length >= limit) continue;
    const r = await runOne(dir, t);
    list.push(r);
    if (process.stderr.isTTY && !process.env.CI) process.stderr.write(`${r.status.padEnd(13)} ${t}${r.detail ? `  (${r.detail})` : ''}\n`);
  }
  const all = ops.flatMap((o) => byOp.get(o) ?? []);
  const saved: SavedResults = { layers: Object.fromEntries(ops.map((o) => [o, OP_TABLE[o].ncnn])), tests: all };
  const md = renderConformanceDoc(all, saved.layers);
  console.log(md);
  const outDir = join(PROJECT_ROOT, 'reports', 'latest');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'conformance-ncnn.md'), md + '\n');
  writeFileSync(join(outDir, 'conformance-ncnn.json'), JSON.stringify(all, null, 1));
  if (fullRun) {
    writeFilesAtomic([
      { path: DOC_RESULTS, data: JSON.stringify(saved, null, 1) + '\n' },
      { path: DOC, data: replaceGenerated(readFileSync(DOC, 'utf8'), md) },
    ]);
    console.log('\nwrote docs/conformance-results.json and the generated section of docs/conformance.md');
  }
}

main().catch((e) => {
  console.error(`conformance:ncnn: ${(e as Error).message}`);
  process.exit(1);
});
