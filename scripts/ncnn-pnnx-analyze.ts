/**
 * `tsx scripts/ncnn-pnnx-analyze.ts [DIR]`: `fdk analyze` on pnnx's ncnn conversions against the
 * ONNX export of the same module (thop convention, ONNX with --fold-bn since pnnx folds BatchNorm),
 * and fdk's blob dims against the real ncnn's (every blob extracted from ncnn, PyPI).
 *
 * DIR (default .fdk/pnnx) is filled by scripts/pnnx-torchvision.py (dev only: torch + pnnx).
 * Prints a markdown table and writes it into the marked section of docs/architecture-ncnn.md.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyzeFile } from '../src/analyze/index.js';
import { readNcnnModel } from '../src/convert/ncnn/format/read.js';
import { propagateDims } from '../src/convert/ncnn/shapes.js';
import { ncnnRuntime } from '../src/runtime/ncnn.js';
import { PROJECT_ROOT } from '../src/util/data.js';
import { stampDoc } from './doc-sections.js';

const SIZE = [1, 3, 224, 224];
const dir = resolve(process.argv[2] ?? join(PROJECT_ROOT, '.fdk/pnnx'));
const models = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ncnn.param')).map((f) => f.replace(/\.ncnn\.param$/, '')).filter((m) => existsSync(join(dir, `${m}.onnx`))).sort() : [];
if (!models.length) {
  console.error(`no <model>.ncnn.param + <model>.onnx pairs in ${dir}: run scripts/pnnx-torchvision.py first`);
  process.exit(1);
}

const rows: string[] = [];
const notes: string[] = [];
for (const m of models) {
  const param = join(dir, `${m}.ncnn.param`);
  const net = readNcnnModel(param);
  const input = net.layers.find((l) => l.type === 'Input')!.outputs[0];
  const shapeFile = join(dir, `${m}.input.json`);
  const size: number[] = existsSync(shapeFile) ? JSON.parse(readFileSync(shapeFile, 'utf8')) : SIZE;
  // the ONNX analyzer's own gaps (an op its shape inference lacks) leave the ONNX columns empty
  const onnx = await analyzeFile(join(dir, `${m}.onnx`), { inputShapes: { '': size }, foldBn: true }).catch((e: Error) => {
    notes.push(`${m}: ONNX side not analyzed (${e.message.replace(/^.*?: /, '')})`);
    return undefined;
  });
  const ncnn = await analyzeFile(param, { inputShapes: { [input]: size } });
  // every blob's dims: fdk's propagation vs what ncnn computes
  const dims = propagateDims(net.layers, { [input]: size.slice(1) }, param);
  const model = await ncnnRuntime.load(param);
  let agree = 0;
  const blobs = [...dims.keys()];
  try {
    const data = new Float32Array(size.reduce((a, b) => a * b, 1)).fill(0.5);
    const got = await model.extract({ [input]: { data, dims: size } }, blobs);
    for (const b of blobs) if (JSON.stringify(got.blobs[b].ncnnDims) === JSON.stringify(dims.get(b))) agree++;
  } finally {
    await model.release();
  }
  const pct = (a: number, b: number) => `${((100 * (a - b)) / b).toFixed(3)} %`;
  const mac = (n: number) => `${(n / 1e6).toFixed(2)} M`;
  rows.push(
    `| ${m} | ${size.join('x')} | ${net.layers.length} | ${onnx ? onnx.totals.params.toLocaleString('en') : '–'} | ${ncnn.totals.params.toLocaleString('en')} | ${onnx ? mac(onnx.totals.macs) : '–'} | ${mac(ncnn.totals.macs)} | ${onnx ? pct(ncnn.totals.macs, onnx.totals.macs) : '–'} | ${agree} / ${blobs.length} |`,
  );
}
const table = [
  'pnnx conversions of torchvision models and a LayerNorm/MLP/LSTM sequence block (weights=None, random biases and BatchNorm statistics), thop convention; written by `tsx scripts/ncnn-pnnx-analyze.ts`:',
  '',
  '| model | input | ncnn layers | params (ONNX, BN folded) | params (pnnx .param) | MACs (ONNX) | MACs (.param) | MACs diff | blob dims = ncnn |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows,
  ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
].join('\n');
console.log(table);

const doc = join(PROJECT_ROOT, 'docs/architecture-ncnn.md');
const BEGIN = '<!-- pnnx-analyze:begin -->', END = '<!-- pnnx-analyze:end -->';
if (existsSync(doc)) {
  const text = readFileSync(doc, 'utf8');
  const a = text.indexOf(BEGIN), b = text.indexOf(END);
  if (a >= 0 && b > a) {
    writeFileSync(doc, `${text.slice(0, a + BEGIN.length)}\n${table}\n${text.slice(b)}`);
    stampDoc(doc); // content hash, checked by npm run docs:check
  }
}
