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
import type { NcnnLayer } from './format/param.js';
import { declaredDims, paramsOf, requireRecord, type LayerCost } from './layers/index.js';
import { propagateDims, type Dims } from './shapes.js';
import { FdkError } from '../../util/errors.js';

export interface AnalyzeNcnnOptions {
  convention?: Convention;
  /** '' = the first input; ONNX-style shapes with batch, e.g. [1,3,240,320]. */
  inputShapes?: Record<string, number[]>;
}

const vol = (d: Dims) => d.reduce((a, b) => a * b, 1);

/** MACs and params of one layer by its record's cost rule (no rule: no MACs; weights count as params for onnx-tool). */
function cost(l: NcnnLayer, ins: Dims[], outs: Dims[], convention: Convention): LayerCost {
  const r = requireRecord(l.type, l.name);
  const weights = l.weights.reduce((s, w) => s + w.data.length, 0);
  const thop = convention === 'thop';
  if (!r.cost) return { macs: 0, params: thop ? 0 : weights };
  return r.cost({ p: paramsOf(r, l.params), ins, outs, weights, thop });
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
      const d = declaredDims(paramsOf(requireRecord('Input', l.name), l.params));
      if (d) s = [1, ...d];
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
