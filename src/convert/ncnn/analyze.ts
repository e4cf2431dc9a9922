/**
 * `fdk analyze model.param`: params and MACs per ncnn layer, in the LayerGraph form the ONNX
 * analyzer (src/analyze) summarises. Shapes come from shapes.ts; shapes are reported ONNX-style
 * with a leading batch 1 so ncnn and ONNX reports line up.
 *
 * Counting follows the same two conventions as src/analyze/conventions.ts, applied to ncnn layers
 * (a Convolution with a fused activation counts as the convolution plus, for onnx-tool, the
 * activation's per-element cost).
 */
import { statSync } from 'node:fs';
import type { ActivationRef, Convention, Layer, LayerGraph } from '../../analyze/types.js';
import { readNcnnModel } from './format/read.js';
import { paramInt, type NcnnLayer } from './format/param.js';
import { propagateDims, type Dims } from './shapes.js';
import { FdkError } from '../../util/errors.js';

export interface AnalyzeNcnnOptions {
  convention?: Convention;
  /** '' = the first input; ONNX-style shapes with batch, e.g. [1,3,240,320]. */
  inputShapes?: Record<string, number[]>;
}

const vol = (d: Dims) => d.reduce((a, b) => a * b, 1);
const ADD = 1, MUL = 1, CMP = 1, DIV = 4, EXP = 32, LOG = 43, SQRT = 24;
const BINARY_COST = [ADD, ADD, MUL, DIV, CMP, CMP, EXP, ADD, DIV, EXP];
const UNARY_COST: Record<number, number> = { 0: CMP, 1: CMP, 2: CMP, 3: ADD, 4: MUL, 5: SQRT, 6: SQRT + DIV, 7: EXP, 8: LOG, 15: DIV, 16: EXP + 2 * ADD + DIV };
const ACT_COST: Record<number, number> = { 1: CMP, 2: MUL + CMP, 3: 2 * CMP, 4: EXP, 5: EXP + LOG, 6: 2 * MUL + ADD + 2 * CMP };

function cost(l: NcnnLayer, ins: Dims[], outs: Dims[], convention: Convention): { macs: number; params: number } {
  const p = l.params;
  const out = outs[0] ? vol(outs[0]) : 0;
  const thop = convention === 'thop';
  const weights = l.weights.reduce((s, w) => s + w.data.length, 0);
  switch (l.type) {
    case 'Convolution':
    case 'ConvolutionDepthWise':
    case 'Deconvolution':
    case 'DeconvolutionDepthWise': {
      const g = paramInt(p, 7, 1);
      const kw = paramInt(p, 1, 0), kh = paramInt(p, 11, kw);
      const cin = ins[0][0];
      const bias = paramInt(p, 5, 0);
      const wsize = paramInt(p, 6, 0);
      const macs = out * (cin / g) * kh * kw + (bias ? out : 0) + (thop ? 0 : out * (ACT_COST[paramInt(p, 9, 0)] ?? 0));
      return { macs, params: wsize + (bias ? paramInt(p, 0, 0) : 0) };
    }
    case 'InnerProduct': {
      const n = paramInt(p, 0, 0);
      const bias = paramInt(p, 1, 0);
      const k = paramInt(p, 2, 0) / Math.max(1, n);
      return { macs: k * out + (!thop && bias ? out : 0) + (thop ? 0 : out * (ACT_COST[paramInt(p, 9, 0)] ?? 0)), params: paramInt(p, 2, 0) + (bias ? n : 0) };
    }
    case 'BatchNorm': {
      const c = paramInt(p, 0, 0);
      return { macs: thop ? 4 * out : out * (ADD + SQRT + DIV + ADD + MUL), params: thop ? 2 * c : 4 * c };
    }
    case 'Pooling': {
      const type = paramInt(p, 0, 0);
      const inV = vol(ins[0]);
      if (paramInt(p, 4, 0) || paramInt(p, 7, 0)) return { macs: type === 1 ? (thop ? (inV / Math.max(1, out) + 1) * out : inV * ADD + out * DIV) : thop ? 0 : inV * CMP, params: 0 };
      const kw = paramInt(p, 1, 0), kh = paramInt(p, 11, kw);
      return { macs: thop ? (type === 1 ? (kw * kh + 1) * out : 0) : out * kw * kh * CMP, params: 0 };
    }
    case 'PReLU':
      return { macs: thop ? 0 : out * (CMP + MUL), params: weights };
    case 'MemoryData':
      return { macs: 0, params: thop ? 0 : weights };
  }
  if (thop) return { macs: 0, params: 0 };
  switch (l.type) {
    case 'ReLU': return { macs: out * (paramInt(p, 0, 0) ? MUL + CMP : CMP), params: 0 };
    case 'Sigmoid': return { macs: out * EXP, params: 0 };
    case 'Softmax': return { macs: out * (EXP + DIV), params: 0 };
    case 'Clip': return { macs: out * 2 * CMP, params: 0 };
    case 'TanH': return { macs: out * 2 * (EXP + 2 * ADD + DIV), params: 0 };
    case 'BinaryOp': return { macs: out * (BINARY_COST[paramInt(p, 0, 0)] ?? 1), params: 0 };
    case 'UnaryOp': return { macs: out * (UNARY_COST[paramInt(p, 0, 0)] ?? 1), params: 0 };
    case 'Interp': return { macs: paramInt(p, 0, 0) === 2 ? out * 4 : paramInt(p, 0, 0) === 3 ? out * 8 : 0, params: 0 };
    case 'HardSwish': return { macs: out * (2 * MUL + ADD + 2 * CMP), params: 0 };
    case 'HardSigmoid': return { macs: out * (MUL + ADD + 2 * CMP), params: 0 };
  }
  return { macs: 0, params: weights };
}

export function analyzeNcnn(paramPath: string, opts: AnalyzeNcnnOptions = {}): LayerGraph {
  const convention = opts.convention ?? 'thop';
  const net = readNcnnModel(paramPath);
  const layers = net.layers;
  const inputLayers = layers.filter((l) => l.type === 'Input');
  if (inputLayers.length === 0) throw new FdkError('no Input layer', { file: paramPath });
  const shapes: Record<string, number[]> = {};
  const ncnnIn: Record<string, Dims> = {};
  for (const l of inputLayers) {
    const name = l.outputs[0];
    let s = opts.inputShapes?.[name] ?? (l === inputLayers[0] ? opts.inputShapes?.[''] : undefined);
    if (!s) {
      const w = paramInt(l.params, 0, 0), h = paramInt(l.params, 1, 0), c = paramInt(l.params, 2, 0);
      if (w > 0 && h > 0 && c > 0) s = [1, c, h, w];
    }
    if (!s) throw new FdkError(`input '${name}' has no shape in the .param: pass --input ${name}:1x3xHxW`, { file: paramPath });
    if (s[0] !== 1) throw new FdkError(`input '${name}': ncnn runs batch 1 (got ${s.join('x')})`, { file: paramPath });
    shapes[name] = s;
    ncnnIn[name] = s.slice(1);
  }
  const dims = propagateDims(layers, ncnnIn, paramPath);
  const ref = (b: string): ActivationRef => {
    const d = dims.get(b)!;
    return { name: b, shape: [1, ...d], bytes: 4 * vol(d) };
  };
  const out: Layer[] = [];
  let weightBytes = 0;
  for (const l of layers) {
    for (const w of l.weights) weightBytes += w.data.length * 4;
    if (l.type === 'Input') continue;
    const ins = l.inputs.map((b) => dims.get(b)!);
    const outs = l.outputs.map((b) => dims.get(b)!);
    const c = cost(l, ins, outs, convention);
    out.push({ name: l.name, op: l.type, inputs: l.inputs.map(ref), outputs: l.type === 'MemoryData' ? [] : l.outputs.map(ref), params: c.params, macs: c.macs });
  }
  // graph outputs: blobs no layer reads
  const read = new Set(layers.flatMap((l) => l.inputs));
  const outputs = layers.flatMap((l) => l.outputs).filter((b) => !read.has(b));
  if (net.binPath) weightBytes = statSync(net.binPath).size; // tags and padding included, like the file
  return { file: paramPath, format: 'ncnn', convention, inputs: inputLayers.map((l) => ref(l.outputs[0])), outputs, layers: out, weightBytes, inputShapes: shapes };
}
