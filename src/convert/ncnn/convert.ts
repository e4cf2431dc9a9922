/**
 * ONNX model -> ncnn .param text + .bin chunks.
 *
 *   1. constant folding (foldConstants in src/onnx/fold.ts) with the input shapes, when it can handle the graph
 *   2. lowering through the op table, evaluating the remaining shape glue symbolically and
 *      removing the batch axis
 *   3. the ncnn-level passes of passes/index.ts (PASSES): BatchNorm folding, bias and activation
 *      fusion, channel shuffle, global pooling, Crops to Slice, attention to MultiHeadAttention, one-input Concat (optimize only), dead-layer
 *      elimination, Split insertion
 */
import { runtimeInputs, type Model } from '../../onnx/model.js';
import { foldConstants } from '../../onnx/fold.js';
import { inferShapes } from '../../onnx/shape-inference.js';
import { FdkError } from '../../util/errors.js';
import { writeParam, blobCount, type NcnnNet } from './format/param.js';
import { writeBin, binByteLength } from './format/bin.js';
import { lowerGraph } from './lower.js';
import { PASSES, type PassName, type PassReport, type PassSummary } from './passes/index.js';
import { prepareForNcnn } from './ops/index.js';

export interface ConvertOptions {
  /** Input shapes ('' = first input), e.g. { input: [1,3,240,320] }; default: as declared (dynamic stays dynamic). */
  inputShapes?: Record<string, number[]>;
  /** Store convolution/InnerProduct weights as fp16. */
  fp16?: boolean;
  /** Run BatchNorm folding and activation fusion (default true). */
  optimize?: boolean;
}

export interface ConvertSummary {
  onnxNodes: number;
  ncnnLayers: number;
  blobs: number;
  passes: {
    constantFolding: { removed: number; note?: string };
    shapeGlue: { removed: number };
    identities: { removed: number };
  } & Record<PassName, PassSummary>;
  layerTypes: Record<string, number>;
  inputs: string[];
  outputs: string[];
  weightBytes: number;
  fp16: boolean;
  optimize: boolean;
}

export interface ConvertResult {
  param: string;
  bin: Uint8Array[];
  net: NcnnNet;
  summary: ConvertSummary;
}


/** Applies '' (first input) keys and checks names. */
function normaliseShapes(model: Model, shapes: Record<string, number[]> | undefined): Record<string, number[]> | undefined {
  if (!shapes || Object.keys(shapes).length === 0) return undefined;
  const names = runtimeInputs(model.graph).map((i) => i.name);
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(shapes)) {
    const name = k === '' ? names[0] : k;
    if (!names.includes(name)) throw new FdkError(`--input names '${k}', but the model's inputs are ${names.join(', ')}`, { file: model.path });
    out[name] = v;
  }
  return out;
}

export function convertOnnxToNcnn(model: Model, opts: ConvertOptions = {}): ConvertResult {
  const optimize = opts.optimize ?? true;
  const inputShapes = normaliseShapes(model, opts.inputShapes);
  const onnxNodes = model.graph.nodes.length;

  // 1. constant folding; a graph the shape rules cannot handle still converts via the glue pass
  let work = model;
  let foldNote: string | undefined;
  let folded = 0;
  try {
    const r = foldConstants(model, { inputShapes, allowSymbolic: true });
    // keep the source order of the remaining nodes (folding may re-sort them), so the layer
    // order follows the ONNX file like onnx2ncnn's does
    const pos = new Map<string, number>();
    model.graph.nodes.forEach((n, i) => n.outputs.forEach((o) => pos.set(o, i)));
    const nodes = [...r.model.graph.nodes].sort((a, b) => (pos.get(a.outputs[0]) ?? 1e9) - (pos.get(b.outputs[0]) ?? 1e9));
    work = { ...r.model, graph: { ...r.model.graph, nodes }, path: model.path };
    folded = r.folded;
  } catch (e) {
    foldNote = `skipped: ${(e as Error).message.split('\n')[0]}`;
  }
  work = prepareForNcnn(work, inputShapes, { fuse: optimize }); // sequence-major recurrent regions, strided slices, fusions
  let infos: ReturnType<typeof inferShapes> | undefined;
  try {
    infos = inferShapes(work, { inputShapes, allowSymbolic: true });
  } catch {
    infos = undefined;
  }
  const inputRanks: Record<string, number> = {};
  for (const [k, v] of Object.entries(inputShapes ?? {})) inputRanks[k] = v.length;

  // 2. lowering
  const { ctx, stats } = lowerGraph(work, { inputRanks, inputShapesFull: inputShapes, dims: (n) => infos?.get(n)?.shape });
  const outputs = new Set(work.graph.outputs.map((o) => o.name));
  const inputLayers = ctx.layers.filter((l) => l.type === 'Input');
  const net: NcnnNet = { layers: [...inputLayers, ...ctx.memoryData, ...ctx.layers.filter((l) => l.type !== 'Input')] };

  // 3. passes
  const reports: Partial<Record<PassName, PassReport>> = {};
  for (const p of PASSES) if (optimize || !p.optimize) reports[p.name] = p.run(net, { outputs });
  const layers = net.layers;
  for (const o of outputs)
    if (!layers.some((l) => l.outputs.includes(o))) throw new FdkError(`graph output '${o}' is not produced by any converted layer`, { file: model.path });
  const passSummaries = {} as Record<PassName, PassSummary>;
  for (const p of PASSES) {
    const c: string[] = reports[p.name]?.changes ?? [];
    passSummaries[p.name] = { [p.count]: c.length, ...('countOnly' in p ? {} : { detail: c }) };
  }

  let param: string;
  let bin: Uint8Array[];
  try {
    param = writeParam(net);
    bin = writeBin(layers, { fp16: opts.fp16 });
  } catch (e) {
    throw new FdkError((e as Error).message, { file: model.path });
  }
  const layerTypes: Record<string, number> = {};
  for (const l of layers) layerTypes[l.type] = (layerTypes[l.type] ?? 0) + 1;
  const summary: ConvertSummary = {
    onnxNodes,
    ncnnLayers: layers.length,
    blobs: blobCount(net),
    passes: {
      constantFolding: { removed: folded, ...(foldNote ? { note: foldNote } : {}) },
      shapeGlue: { removed: stats.glueNodes.length },
      identities: { removed: stats.aliased.length },
      ...passSummaries,
    },
    layerTypes,
    inputs: inputLayers.map((l) => l.outputs[0]),
    outputs: [...outputs],
    weightBytes: binByteLength(bin),
    fp16: !!opts.fp16,
    optimize,
  };
  return { param, bin, net, summary };
}
