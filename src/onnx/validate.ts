/**
 * One validation step shared by `fdk analyze` and `fdk convert`, run on a loaded model before any
 * pass: the structural facts every later stage assumes. Without it a malformed file either gave
 * an internal message with no file name, or converted "successfully" into a .param that ncnn
 * cannot parse or that crashes its worker (issue #15, items 7, 14 and 17).
 *
 * Checked, each failure one FdkError naming the file and the node or tensor:
 *   - supported default-domain opset (1..MAX_OPSET) and known dtypes;
 *   - initializer and Constant tensors: non-negative integer dims, element count within
 *     MAX_TENSOR_ELEMENTS, data length equal to dims x element size;
 *   - every tensor produced once (no two nodes, and no node and a graph input, write one name);
 *   - every node input produced by something, and no cycle (named by a node on it);
 *   - conv/pool attributes: strides, dilations, kernel and group >= 1, pads >= 0, output channels
 *     divisible by group; with known shapes, group divides the input channels and the kernel
 *     (dilated) fits the padded input;
 *   - size limits: node count, rank.
 */
import { opsetVersion, runtimeInputs, attrInt, attrInts, type Graph, type Model, type Node } from './model.js';
import { dtypeSize, type Tensor } from './tensor.js';
import { FdkError, escapeName } from '../util/errors.js';
import { propagateAndKeep, takeKeptPropagation } from './shape-inference.js';
import { topologicalOrder } from './topo-order.js';

/** Newest default-domain opset fdk knows; a file claiming more is refused rather than guessed at. */
export const MAX_OPSET = 23;
export const MAX_NODES = 2_000_000;
export const MAX_RANK = 16;
/** Elements of one stored tensor: beyond this a typed array cannot be made (and no face detector needs it). */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

const CONV_OPS = new Set(['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool']);

export interface ValidateOptions {
  /** Input shapes, as given to analyze/convert; used for the shape-dependent conv checks. */
  inputShapes?: Record<string, number[]>;
}

const nodeLabel = (n: Node, i: number) => `node '${escapeName(n.name || n.outputs[0] || `#${i}`)}' (${escapeName(n.opType)})`;

/** Throws an FdkError naming the model file on the first structural problem. */
export function validateOnnx(model: Model, opts: ValidateOptions = {}): void {
  const file = model.path ?? '<model>';
  const fail = (why: string): never => {
    throw new FdkError(`invalid ONNX model: ${why}`, { file });
  };
  const opset = opsetVersion(model);
  if (!Number.isInteger(opset) || opset < 1 || opset > MAX_OPSET) fail(`default-domain opset ${opset} is not supported (1..${MAX_OPSET})`);
  checkGraph(model.graph, fail);
  checkShapes(model, opts, fail);
}

function checkTensor(t: Tensor, where: string, fail: (why: string) => never): void {
  if (t.dtype === 'undefined') fail(`${where}: unknown data type`);
  if (t.dims.length > MAX_RANK) fail(`${where}: rank ${t.dims.length} is over ${MAX_RANK}`);
  for (const d of t.dims) if (!Number.isSafeInteger(d) || d < 0) fail(`${where}: dimension ${d} is not a non-negative integer`);
  let n = 1;
  for (const d of t.dims) n *= d;
  if (n > MAX_TENSOR_ELEMENTS) fail(`${where}: ${t.dims.join('x')} is ${n} elements, over the limit of ${MAX_TENSOR_ELEMENTS}`);
  if (!t.hasData || t.dtype === 'string') return;
  const es = dtypeSize(t.dtype);
  if (t.byteLength !== n * es) fail(`${where}: dims ${t.dims.join('x')} need ${n * es} bytes of ${t.dtype}, the data has ${t.byteLength}`);
}

function checkGraph(g: Graph, fail: (why: string) => never): void {
  if (g.nodes.length > MAX_NODES) fail(`${g.nodes.length} nodes, over the limit of ${MAX_NODES}`);
  for (const [name, t] of g.initializers) checkTensor(t, `initializer '${escapeName(name)}'`, fail);
  for (const v of [...g.inputs, ...g.outputs]) {
    if (v.dtype === 'undefined' && !v.extra?.type) fail(`graph input/output '${escapeName(v.name)}': unknown data type`);
    if (v.shape && v.shape.length > MAX_RANK) fail(`graph input/output '${escapeName(v.name)}': rank ${v.shape.length} is over ${MAX_RANK}`);
  }

  // Producers: graph inputs and initializers first, then each node output exactly once.
  const producer = new Map<string, number>(); // -1 = graph input / initializer
  for (const i of g.inputs) producer.set(i.name, -1);
  for (const name of g.initializers.keys()) producer.set(name, -1);
  g.nodes.forEach((n, i) => {
    const value = n.attrs.value;
    if (n.opType === 'Constant' && value?.type === 'tensor') checkTensor(value.value, `${nodeLabel(n, i)} value`, fail);
    checkAttributes(n, i, g, fail);
    for (const o of n.outputs) {
      if (!o) continue;
      const p = producer.get(o);
      if (p !== undefined)
        fail(`tensor '${escapeName(o)}' is produced twice: by ${nodeLabel(n, i)} and by ${p < 0 ? 'a graph input or initializer' : nodeLabel(g.nodes[p], p)}`);
      producer.set(o, i);
    }
  });
  g.nodes.forEach((n, i) => {
    for (const inp of n.inputs)
      if (inp && !producer.has(inp)) fail(`${nodeLabel(n, i)}: input '${escapeName(inp)}' is not produced by any node, graph input or initializer`);
  });
  for (const o of g.outputs) if (!producer.has(o.name)) fail(`graph output '${escapeName(o.name)}' is not produced by any node or input`);
  checkAcyclic(g, producer, fail);
}

/** A node left over by the topological order sits on (or behind) a cycle: name one that is on it. */
function checkAcyclic(g: Graph, producer: Map<string, number>, fail: (why: string) => never): void {
  const r = topologicalOrder(g);
  if (!('cycle' in r)) return;
  // Walk back along unfinished producers from any unfinished node until a node repeats: it is on a cycle.
  let cur = r.done.indexOf(0);
  const seen = new Set<number>();
  while (!seen.has(cur)) {
    seen.add(cur);
    const prev = g.nodes[cur].inputs.map((x) => (x ? producer.get(x) : undefined)).find((p) => p !== undefined && p >= 0 && !r.done[p]);
    if (prev === undefined) break;
    cur = prev;
  }
  fail(`the graph has a cycle through ${nodeLabel(g.nodes[cur], cur)}`);
}

function checkAttributes(n: Node, i: number, g: Graph, fail: (why: string) => never): void {
  if (!CONV_OPS.has(n.opType)) return;
  const where = nodeLabel(n, i);
  const atLeast = (name: string, min: number) => {
    const v = attrInts(n, name);
    if (v && v.some((x) => !Number.isSafeInteger(x) || x < min)) fail(`${where}: ${name} [${v.join(', ')}] must be integers >= ${min}`);
  };
  atLeast('strides', 1);
  atLeast('dilations', 1);
  atLeast('kernel_shape', 1);
  atLeast('pads', 0);
  atLeast('output_padding', 0);
  const group = attrInt(n, 'group', 1);
  if (!Number.isSafeInteger(group) || group < 1) fail(`${where}: group ${group} must be an integer >= 1`);
  const w = n.opType === 'Conv' || n.opType === 'ConvTranspose' ? g.initializers.get(n.inputs[1]) : undefined;
  if (w && w.dims.length >= 3) {
    // Conv weight is [M, C/g, k...]: M divisible by g. ConvTranspose is [C, M/g, k...]: C divisible by g.
    if (w.dims[0] % group !== 0) fail(`${where}: group ${group} does not divide the weight's first dimension ${w.dims[0]}`);
    const ks = attrInts(n, 'kernel_shape');
    if (ks && (ks.length !== w.dims.length - 2 || ks.some((k, j) => k !== w.dims[j + 2])))
      fail(`${where}: kernel_shape [${ks.join(', ')}] does not match the weight ${w.dims.join('x')}`);
  }
}

/**
 * Checks that need tensor shapes: group against the input channels and kernel against the padded
 * input. Shape inference failures are left to the caller's own passes (they report them).
 */
function checkShapes(model: Model, opts: ValidateOptions, fail: (why: string) => never): void {
  takeKeptPropagation(model); // a new validation drops what an earlier one kept (the graph may have changed since)
  if (!model.graph.nodes.some((n) => CONV_OPS.has(n.opType))) return;
  let infos: ReturnType<typeof propagateAndKeep>['infos'];
  try {
    infos = propagateAndKeep(model, { inputShapes: opts.inputShapes, allowSymbolic: true }).infos; // the converter's folding reuses it
  } catch {
    return;
  }
  if (runtimeInputs(model.graph).length === 0) return;
  model.graph.nodes.forEach((n, i) => {
    if (!CONV_OPS.has(n.opType)) return;
    const x = infos.get(n.inputs[0])?.shape;
    if (!x || x.length < 3) return;
    const where = nodeLabel(n, i);
    const group = attrInt(n, 'group', 1);
    const w = n.inputs[1] ? infos.get(n.inputs[1])?.shape : undefined;
    const c = x[1];
    if (typeof c === 'number' && c > 0 && (n.opType === 'Conv' || n.opType === 'ConvTranspose')) {
      if (c % group !== 0) fail(`${where}: group ${group} does not divide the ${c} input channels`);
      if (n.opType === 'Conv' && w && typeof w[1] === 'number' && w[1] * group !== c)
        fail(`${where}: weight expects ${w[1]} x group ${group} = ${(w[1] as number) * group} input channels, the input has ${c}`);
    }
    if (n.opType === 'ConvTranspose') return;
    const spatial = x.length - 2;
    const kernel = attrInts(n, 'kernel_shape') ?? (w ? w.slice(2) : undefined);
    if (!kernel) return;
    const pads = attrInts(n, 'pads') ?? [];
    const dil = attrInts(n, 'dilations') ?? [];
    const autoPad = n.attrs.auto_pad?.type === 'string' ? n.attrs.auto_pad.value : 'NOTSET';
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') return;
    for (let k = 0; k < spatial; k++) {
      const size = x[k + 2];
      const kk = kernel[k];
      if (typeof size !== 'number' || size < 0 || typeof kk !== 'number') continue;
      const padded = size + (pads[k] ?? 0) + (pads[k + spatial] ?? 0);
      const extent = (dil[k] ?? 1) * (kk - 1) + 1;
      if (extent > padded) fail(`${where}: kernel ${kk} (dilated ${extent}) is larger than the padded input ${padded} on spatial axis ${k}`);
    }
  });
}
