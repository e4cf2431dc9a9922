/**
 * ONNX model -> LayerGraph: shape inference (with the input shapes fixed), constant subgraphs
 * (Constant nodes, Shape→Gather→Unsqueeze→Concat glue) set aside, every remaining node a layer
 * costed under the chosen convention. Weights are never read: only their dims and dtypes.
 */
import type { Model, Node } from '../onnx/model.js';
import { dtypeSize, type DType } from '../onnx/tensor.js';
import { propagate } from '../onnx/shape-inference.js';
import { isStatic, type TensorInfo } from '../onnx/ops/context.js';
import { FdkError } from '../util/errors.js';
import { nodeCost, paramCount } from './conventions.js';
import type { ActivationRef, Convention, Layer, LayerGraph } from './types.js';

export interface OnnxAnalyzeOptions {
  convention?: Convention;
  inputShapes?: Record<string, number[]>;
  /**
   * Count BatchNormalization folded into the convolution before it (as deployment runtimes run
   * it): the BN layer costs nothing and the conv gains a bias (MACs + out elements, params + C)
   * unless it already had one, in which case the BN's shift merges into it.
   */
  foldBn?: boolean;
  /**
   * Keep nodes that evaluate to constants (Constant, Shape→Gather→Unsqueeze→Concat glue) as
   * layers. Default: only under the onnx-tool convention, because onnx-tool profiles every node
   * (and counts initializers such glue consumes as params); thop only ever sees modules.
   */
  keepConstantNodes?: boolean;
}

function bytesOf(info: TensorInfo): number {
  return (info.shape as number[]).reduce((a, b) => a * b, 1) * Math.max(1, dtypeSize(info.dtype as DType));
}

export function onnxLayerGraph(model: Model, opts: OnnxAnalyzeOptions = {}): LayerGraph {
  const convention = opts.convention ?? 'thop';
  const g = model.graph;
  const file = model.path ?? '<model>';
  const p = propagate(model, { inputShapes: opts.inputShapes });

  const shapeOf = (name: string, node: Node): number[] => {
    const info = p.infos.get(name)!;
    if (!isStatic(info.shape))
      throw new FdkError(`tensor '${name}' of ${node.opType} node '${node.name || node.outputs[0]}' has unknown dims [${info.shape.join(', ')}]; fix the input shape with --input`, { file });
    return info.shape;
  };
  // Constants are not activations: they keep their shape for display but occupy no activation memory.
  const ref = (name: string, node: Node): ActivationRef => {
    shapeOf(name, node);
    return { name, shape: p.infos.get(name)!.shape as number[], bytes: p.isConstant(name) ? 0 : bytesOf(p.infos.get(name)!) };
  };
  const keepConstants = opts.keepConstantNodes ?? convention === 'onnx-tool';
  // thop counts module weights however the exporter stored them: an initializer, a Constant node's
  // value, or a constant subgraph (e.g. Transpose of a stored weight) all become parameters. onnx-tool
  // takes its params from graph initializers only, so that convention keeps to them.
  const isWeight = (name: string): boolean =>
    !!name && (g.initializers.has(name) || (convention === 'thop' && p.isConstant(name)));

  const counted = new Set<string>(); // weights already counted (shared weights count once)
  const layers: Layer[] = [];
  const layerOf = new Map<string, number>(); // output name -> layer index
  const consumers = new Map<string, number>();
  for (const n of p.order) for (const i of n.inputs) if (i) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of g.outputs) consumers.set(o.name, (consumers.get(o.name) ?? 0) + 1);

  let constantNodes = 0;
  let weightBytes = 0;
  const usedWeights = new Set<string>();
  for (const node of p.order) {
    for (const i of node.inputs) if (i && g.initializers.has(i)) usedWeights.add(i);
    const outs = node.outputs.filter(Boolean);
    if (node.opType === 'Constant') {
      const t = node.attrs.value;
      if (t?.type === 'tensor') weightBytes += t.value.byteLength;
    }
    if (!keepConstants && outs.length > 0 && outs.every((o) => p.evaluated.has(o))) {
      constantNodes++;
      continue;
    }
    const cost = nodeCost(convention, {
      node,
      inShapes: node.inputs.map((i) => (i ? shapeOf(i, node) : undefined)),
      outShapes: outs.map((o) => shapeOf(o, node)),
      isWeight: (i) => isWeight(node.inputs[i]),
    });
    let params = 0;
    for (const i of cost.paramInputs) {
      const name = node.inputs[i];
      if (counted.has(name)) continue;
      counted.add(name);
      params += paramCount(convention, g.initializers.get(name)?.dims ?? (p.infos.get(name)!.shape as number[]));
    }
    const idx = layers.length;
    layers.push({
      name: node.name || outs[0],
      op: node.opType,
      inputs: node.inputs.filter((i) => i && !p.isConstant(i)).map((i) => ref(i, node)),
      outputs: outs.map((o) => ref(o, node)),
      params,
      macs: cost.macs,
    });
    for (const o of outs) layerOf.set(o, idx);
  }
  for (const w of usedWeights) weightBytes += g.initializers.get(w)!.byteLength;


  const inputShapes: Record<string, number[]> = {};
  for (const name of p.runtimeInputs) inputShapes[name] = p.infos.get(name)!.shape as number[];
  return {
    file,
    format: 'onnx',
    convention,
    inputs: p.runtimeInputs.map((name) => ({ name, shape: inputShapes[name], bytes: bytesOf(p.infos.get(name)!) })),
    outputs: g.outputs.map((o) => o.name),
    layers: opts.foldBn ? foldBatchNorm(layers, layerOf, consumers, p.order) : layers,
    weightBytes,
    constantNodes,
    inputShapes,
  };
}

/** Removes BN layers that directly follow a conv (sole consumer), moving their cost into the conv. */
function foldBatchNorm(layers: Layer[], layerOf: Map<string, number>, consumers: Map<string, number>, order: Node[]): Layer[] {
  const byName = new Map<string, Node>();
  for (const n of order) byName.set(n.name || n.outputs[0], n);
  const folded = new Set<Layer>();
  for (const l of layers) {
    if (l.op !== 'BatchNormalization' || l.inputs.length !== 1) continue;
    const src = l.inputs[0].name;
    const ci = layerOf.get(src);
    if (ci === undefined) continue;
    const conv = layers[ci];
    if ((conv.op !== 'Conv' && conv.op !== 'ConvTranspose') || consumers.get(src) !== 1) continue;
    const convNode = byName.get(conv.name)!;
    if (!convNode.inputs[2]) {
      conv.macs += conv.outputs[0].shape.reduce((a, b) => a * b, 1); // the BN shift becomes a bias add
      conv.params += conv.outputs[0].shape[1];
    }
    conv.outputs = l.outputs;
    folded.add(l);
  }
  return layers.filter((l) => !folded.has(l));
}
