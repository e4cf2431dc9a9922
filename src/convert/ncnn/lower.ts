/**
 * Lowering: walks the ONNX graph in topological order and emits ncnn layers through the op table
 * (op-table.ts), evaluating shape glue on the way (passes/shape-glue.ts) and tracking each
 * activation's rank so the batch axis can be removed (passes/batch-axis.ts).
 *
 * Blob names are ONNX tensor names, so graph inputs and outputs keep their names in ncnn.
 */
import type { Model, Node } from '../../onnx/model.js';
import { opsetVersion, runtimeInputs } from '../../onnx/model.js';
import type { Tensor } from '../../onnx/tensor.js';
import { topologicalOrder } from '../../onnx/topo-order.js';
import { FdkError } from '../../util/errors.js';
import { evalGlue, symFromTensor, allNumeric, type SymTensor, type SymEl } from './passes/shape-glue.js';
import { BatchAxisError, constantNcnnShape, memoryDataParams } from './passes/batch-axis.js';
import { int, type NcnnLayer, type ParamDict, type ParamValue, type WeightBlob } from './format/param.js';
import { OP_TABLE, lowerFor, type LowerResult } from './op-table.js';

export interface LowerOptions {
  /** Static ONNX dims per tensor, when a shape inference is available (strings = symbolic). */
  dims?: (name: string) => (number | string)[] | undefined;
  /** Ranks of the graph inputs (with batch); default from the declared input shapes. */
  inputRanks?: Record<string, number>;
  /** Shapes given by the user (--input), written into the Input layers. */
  inputShapesFull?: Record<string, number[]>;
}

export interface LowerStats {
  onnxNodes: number;
  glueNodes: string[];
  aliased: string[];
}

/** Thrown by op lowerings; turned into an FdkError naming op and node. */
export class LowerError extends Error {
  constructor(message: string, readonly kind: 'unsupported' | 'batch' | 'dtype' | 'runtime-weight' = 'unsupported') {
    super(message);
  }
}

export class LowerContext {
  readonly opset: number;
  node!: Node;
  readonly layers: NcnnLayer[] = [];
  /** MemoryData layers for constants used as activations; placed after the inputs. */
  readonly memoryData: NcnnLayer[] = [];
  private readonly sym = new Map<string, SymTensor>();
  private readonly ranks = new Map<string, number>();
  /**
   * The unit axis ncnn drops, for activations where it is not axis 0 (a Transpose that moved batch 1
   * behind another axis, as in attention's [1,N,3,H,D] -> [3,1,H,N,D]). Only ops marked
   * `unitAxisAnywhere` in the table read such tensors.
   */
  private readonly unitAxes = new Map<string, number>();
  private readonly alias = new Map<string, string>();
  private readonly constBlob = new Map<string, string>();
  private readonly layerNames = new Set<string>();
  constructor(readonly model: Model, readonly opts: LowerOptions) {
    this.opset = opsetVersion(model);
  }

  // --- inputs of the current node
  inputName(i: number): string {
    return this.node.inputs[i] ?? '';
  }
  hasInput(i: number): boolean {
    return !!this.node.inputs[i];
  }
  get inputCount(): number {
    return this.node.inputs.filter(Boolean).length;
  }
  /** Symbolically known value of input i (initializers, Constant nodes, folded glue). */
  known(i: number): SymTensor | undefined {
    const n = this.node.inputs[i];
    return n ? this.symOf(n) : undefined;
  }
  /**
   * Dims of input i when it is a constant (initializer or folded glue), without reading its
   * elements: known() turns every element into a JS number, which for a MatMul weight asked only
   * whether it is constant (Swin's and ViT's 27-85 M weights) was an array of 8 bytes a value.
   */
  knownDims(i: number): number[] | undefined {
    const n = this.node.inputs[i];
    return n && !this.isActivation(n) ? this.constantDims(n) : undefined;
  }
  symOf(name: string): SymTensor | undefined {
    const s = this.sym.get(name);
    if (s) return s;
    const t = this.model.graph.initializers.get(name);
    if (t) {
      const v = symFromTensor(t);
      if (v) this.sym.set(name, v);
      return v;
    }
    return undefined;
  }
  initializer(i: number): Tensor | undefined {
    const n = this.node.inputs[i];
    return n ? this.model.graph.initializers.get(n) : undefined;
  }
  /** Input i as constant numbers; fails when it is computed at run time. */
  constNumbers(i: number, what: string): number[] {
    const k = this.isActivation(this.inputName(i)) ? undefined : this.known(i);
    if (!k) this.fail(`${what} (input '${this.inputName(i)}') must be a constant, but it is computed at run time`, 'runtime-weight');
    if (!allNumeric(k)) this.fail(`${what} (input '${this.inputName(i)}') depends on run-time tensor sizes`, 'runtime-weight');
    return k.els as number[];
  }
  constDims(i: number): number[] {
    const n = this.inputName(i);
    const d = this.isActivation(n) ? undefined : this.constantDims(n);
    if (!d) this.fail(`input '${n}' must be a constant, but it is computed at run time`, 'runtime-weight');
    return d;
  }
  /** Input i as float32 weights (any float/int constant). */
  weight(i: number, what: string): Float32Array {
    const t = this.isActivation(this.inputName(i)) ? undefined : this.initializer(i);
    if (t && (t.dtype === 'float32')) return t.toFloat32();
    return Float32Array.from(this.constNumbers(i, what));
  }
  /** Symbolic elements of input i (shape glue), or fails. */
  symbolic(i: number, what: string): SymEl[] {
    const k = this.known(i);
    if (!k) this.fail(`${what} (input '${this.inputName(i)}') must be a constant or computed from tensor shapes`, 'runtime-weight');
    return k.els;
  }
  /** ONNX rank (with batch) of activation input i. */
  rank(i: number): number {
    const n = this.node.inputs[i];
    const r = this.rankOf(n);
    if (r === undefined) this.fail(`rank of input '${n}' is unknown`);
    return r;
  }
  rankOf(name: string): number | undefined {
    return this.ranks.get(this.resolve(name)) ?? this.constantDims(name)?.length;
  }
  dimsOf(name: string): (number | string)[] | undefined {
    return this.constantDims(name) ?? this.opts.dims?.(name);
  }
  /**
   * Dims of a known constant (glue value or initializer) without its elements: symOf turns every
   * element into a JS number, which for a weight asked only for its rank or dims (ResNet's
   * convolutions: 6x the convert CPU; Swin's folded masks and bias tables) was most of the
   * lowering's time.
   */
  private constantDims(name: string): number[] | undefined {
    if (this.sym.has(name)) return this.sym.get(name)!.dims;
    const t = this.model.graph.initializers.get(name);
    return t ? [...t.dims] : undefined;
  }
  /**
   * ncnn blob for activation input i. A constant input becomes a MemoryData layer shaped for
   * broadcasting against an activation of onnx rank `dataRank`.
   */
  blob(i: number, dataRank?: number): string {
    const n = this.node.inputs[i];
    if (!n) this.fail(`missing input ${i}`);
    if (this.ranks.has(this.resolve(n))) return this.resolve(n);
    // a float initializer goes to its MemoryData as it is, not through symOf's array of numbers
    const t = this.sym.has(n) ? undefined : this.model.graph.initializers.get(n);
    if (t && t.dtype === 'float32' && t.hasData) return this.memoryDataFor(n, [...t.dims], () => t.toFloat32(), dataRank ?? t.dims.length);
    const k = this.symOf(n);
    if (!k) this.fail(`input '${n}' is produced by nothing converted before it`);
    if (!allNumeric(k)) this.fail(`input '${n}' is a shape computed at run time, used as data`, 'runtime-weight');
    return this.memoryDataFor(n, k.dims, () => Float32Array.from(k.els as number[]), dataRank ?? k.dims.length);
  }
  private memoryDataFor(name: string, kDims: number[], data: () => Float32Array, dataRank: number): string {
    const key = `${name}@${dataRank}`;
    const have = this.constBlob.get(key);
    if (have) return have;
    let dims: number[];
    try {
      dims = constantNcnnShape(kDims, dataRank);
    } catch (e) {
      this.fail(`constant '${name}' [${kDims}]: ${(e as Error).message}`, 'batch');
    }
    const blob = this.constBlob.has(name) ? `${name}_r${dataRank}` : name;
    const params: ParamDict = new Map();
    for (const [key2, v] of [...memoryDataParams(dims).entries()].sort((a, b) => a[0] - b[0])) params.set(key2, int(v));
    this.memoryData.push({ type: 'MemoryData', name: this.uniqueLayerName(blob), inputs: [], outputs: [blob], params, weights: [{ data: data(), tagged: false }] });
    this.constBlob.set(key, blob);
    this.constBlob.set(name, blob);
    this.ranks.set(blob, dataRank);
    return blob;
  }

  resolve(name: string): string {
    let n = name;
    while (this.alias.has(n)) n = this.alias.get(n)!;
    return n;
  }

  fail(message: string, kind: LowerError['kind'] = 'unsupported'): never {
    throw new LowerError(message, kind);
  }

  uniqueLayerName(base: string): string {
    let n = base || 'layer';
    for (let k = 1; this.layerNames.has(n); k++) n = `${base}_${k}`;
    this.layerNames.add(n);
    return n;
  }

  // --- bookkeeping used by lowerGraph
  /** Input layer; a fully static shape is written as 0=w 1=h (11=d) 2=c so tools know the size. */
  addInput(name: string, rank: number, shape?: (number | string)[]): void {
    this.ranks.set(name, rank);
    const params: ParamDict = new Map();
    const dims = shape?.slice(1);
    // (4-D Mats are left without: readers of the Input line, like the runtime's, know w/h/c only)
    if (dims && dims.length >= 1 && dims.length <= 3 && dims.every((d) => typeof d === 'number' && d > 0)) {
      const keys = dims.length === 1 ? [0] : dims.length === 2 ? [1, 0] : [2, 1, 0];
      const entries = keys.map((k, i) => [k, int(dims[i] as number)] as [number, ParamValue]).sort((a, b) => a[0] - b[0]);
      for (const [k, v] of entries) params.set(k, v);
    }
    this.layers.push({ type: 'Input', name: this.uniqueLayerName(name), inputs: [], outputs: [name], params, weights: [] });
  }
  setSym(name: string, v: SymTensor): void {
    this.sym.set(name, v);
  }
  /** ONNX position of the unit axis ncnn drops for activation `name` (0 = the batch axis). */
  unitAxisOf(name: string): number {
    return this.unitAxes.get(this.resolve(name)) ?? 0;
  }
  setUnitAxis(name: string, axis: number): void {
    if (axis) this.unitAxes.set(name, axis);
  }
  setRank(name: string, r: number): void {
    this.ranks.set(name, r);
  }
  setAlias(from: string, to: string): void {
    this.alias.set(from, to);
  }
  isActivation(name: string): boolean {
    return this.ranks.has(this.resolve(name));
  }
}

export interface EmittedLayer {
  type: string;
  params?: Map<number, ParamValue>;
  weights?: WeightBlob[];
  inputs?: string[];
  outputs?: string[];
  /** Name suffix for extra layers emitted by one node. */
  suffix?: string;
}

/** The graph's topological order (onnx/topo-order.ts); a node on a cycle is named. */
function loweringOrder(model: Model): Node[] {
  const r = topologicalOrder(model.graph);
  if (!('cycle' in r)) return r.order;
  const n = model.graph.nodes[r.done.indexOf(0)];
  throw new FdkError(`${nodeLabel(n)} is on or behind a cycle of the graph`);
}

export function nodeLabel(n: Node): string {
  return `node '${n.name || n.outputs[0]}' (${n.opType})`;
}

/** Lowers the whole graph; throws FdkError naming the node on anything it cannot convert. */
export function lowerGraph(model: Model, opts: LowerOptions = {}): { ctx: LowerContext; stats: LowerStats } {
  const ctx = new LowerContext(model, opts);
  const g = model.graph;
  const stats: LowerStats = { onnxNodes: g.nodes.length, glueNodes: [], aliased: [] };
  const realInputs = runtimeInputs(g);
  for (const i of realInputs) {
    const rank = opts.inputRanks?.[i.name] ?? i.shape?.length;
    if (rank === undefined) throw new FdkError(`input '${i.name}' has no declared rank; pass --input ${i.name}:1x3xHxW`, { file: model.path });
    if (rank < 2 || rank > 5) throw new FdkError(`input '${i.name}' has rank ${rank}; ncnn takes inputs of rank 2..5 with a leading batch axis`, { file: model.path });
    const full = opts.inputShapesFull?.[i.name] ?? i.shape;
    if (full?.some((d) => d === 0)) throw new FdkError(`input '${i.name}' has a zero-size dim [${full}]; ncnn has no empty Mats`, { file: model.path });
    const b = i.shape?.[0];
    if (typeof b === 'number' && b > 1) throw new FdkError(`input '${i.name}' has batch ${b}; ncnn runs batch 1`, { file: model.path });
    ctx.addInput(i.name, rank, opts.inputShapesFull?.[i.name] ?? i.shape);
  }
  const glue = {
    get: (n: string) => (ctx.isActivation(n) ? undefined : ctx.symOf(n)),
    rank: (n: string) => ctx.rankOf(n),
    dims: (n: string) => ctx.dimsOf(n),
    isActivation: (n: string) => ctx.isActivation(n),
    opset: ctx.opset,
  };
  for (const node of loweringOrder(model)) {
    ctx.node = node;
    const label = nodeLabel(node);
    try {
      const v = evalGlue(node, glue);
      if (v) {
        node.outputs.forEach((o, k) => o && v[k] && ctx.setSym(o, v[k]));
        stats.glueNodes.push(node.name || node.outputs[0]);
        continue;
      }
      const entry = node.domain && node.domain !== 'ai.onnx' ? undefined : OP_TABLE[node.opType];
      const lower = entry && lowerFor(entry, ctx.opset);
      if (entry && !lower) throw new LowerError(`${node.opType} of opset ${ctx.opset} is older than every version fdk converts`);
      if (!entry || !lower) {
        const fromSizes = node.inputs.some(Boolean) && node.inputs.every((i) => !i || (!ctx.isActivation(i) && ctx.symOf(i)));
        if (fromSizes)
          throw new LowerError(`computes values from tensor sizes known only at run time (e.g. priors generated from the input size), which ncnn cannot; fix the input size with --input NAME:1x3xHxW`, 'runtime-weight');
        throw new LowerError(`unsupported op ${node.opType}${node.domain ? ` (domain ${node.domain})` : ''}`);
      }
      const moved = node.inputs.find((i) => i && ctx.isActivation(i) && ctx.unitAxisOf(i) !== 0);
      if (moved && !entry.unitAxisAnywhere)
        throw new LowerError(`input '${moved}' has its unit (batch) axis at position ${ctx.unitAxisOf(moved)} after a Transpose; ${node.opType} needs it in front (ncnn has no batch axis)`, 'batch');
      const r: LowerResult = lower(ctx);
      if ('alias' in r) {
        ctx.setAlias(node.outputs[0], ctx.resolve(node.inputs[r.alias]));
        stats.aliased.push(node.name || node.outputs[0]);
        continue;
      }
      const tooBig = r.ranks.find((x) => x > 5);
      if (tooBig) throw new LowerError(`output of rank ${tooBig} is beyond ncnn's 4-D Mats (rank 5 with the batch axis)`);
      const base = node.name || node.outputs[0];
      const layers = r.layers;
      layers.forEach((l, k) => {
        const last = k === layers.length - 1;
        ctx.layers.push({
          type: l.type,
          name: ctx.uniqueLayerName(l.suffix ? `${base}_${l.suffix}` : base),
          inputs: l.inputs ?? [],
          outputs: l.outputs ?? (last ? node.outputs.filter(Boolean) : [`${base}_${l.suffix ?? k}`]),
          params: l.params ?? new Map(),
          weights: l.weights ?? [],
        });
      });
      node.outputs.forEach((o, k) => o && ctx.setRank(o, r.ranks[k] ?? r.ranks[0]));
      node.outputs.forEach((o, k) => o && r.unitAxes && ctx.setUnitAxis(o, r.unitAxes[k] ?? 0));
    } catch (e) {
      if (e instanceof LowerError || e instanceof BatchAxisError) throw new FdkError(`${label}: ${e.message}`, { file: model.path });
      if (e instanceof FdkError) throw e;
      throw new FdkError(`${label}: ${(e as Error).message}`, { file: model.path, cause: e });
    }
  }
  // graph outputs must be real blobs with their ONNX names
  const inputNames = new Set(realInputs.map((i) => i.name));
  const outputNames = new Set(g.outputs.map((o) => o.name));
  for (const o of g.outputs) {
    const r = ctx.resolve(o.name);
    if (r !== o.name) {
      // an output that is another name of an input, another output or a constant gets its own
      // blob through a one-output Split (ncnn's zero-copy pass-through); otherwise rename
      const producer = ctx.layers.find((l) => l.outputs.includes(r));
      if (inputNames.has(r) || outputNames.has(r) || !producer || producer.type === 'MemoryData')
        ctx.layers.push({ type: 'Split', name: ctx.uniqueLayerName(o.name), inputs: [r], outputs: [o.name], params: new Map(), weights: [] });
      else renameBlob(ctx.layers, r, o.name);
    }
    if (!ctx.isActivation(o.name) && !ctx.layers.some((l) => l.outputs.includes(o.name))) {
      if (ctx.symOf(o.name)) throw new FdkError(`output '${o.name}' is a constant or a shape computation; ncnn cannot produce it as a blob`, { file: model.path });
    }
  }
  return { ctx, stats };
}

function renameBlob(layers: NcnnLayer[], from: string, to: string): void {
  for (const l of layers) {
    l.inputs = l.inputs.map((b) => (b === from ? to : b));
    l.outputs = l.outputs.map((b) => (b === from ? to : b));
  }
}
