/**
 * Shape inference with partial evaluation.
 *
 * Walks the graph in topological order computing every tensor's dtype and shape. Alongside it
 * tracks constant values (initializers, Constant nodes, and anything computable from them or
 * from static shapes), because the Ultra-Light exports compute their Reshape targets with
 * Shape→Gather→Unsqueeze→Concat glue: with a known input shape that glue evaluates to constants,
 * which both fixes the downstream shapes and lets `fold.ts` remove it.
 *
 * Graph inputs that also have an initializer (PyTorch 1.2 exports list weights as inputs) are
 * treated as constants. Weights are never read unless a node consuming them is evaluated.
 */
import { opsetVersion, runtimeInputs, type Model, type Node } from './model.js';
import type { Tensor } from './tensor.js';
import { topologicalOrder } from './topo-order.js';
import { FdkError } from '../util/errors.js';
import { SHAPE_RULES } from './ops/shape-rules.js';
import { EVALUATORS, SHAPE_ONLY_INPUTS } from './ops/evaluators.js';
import { isStatic, type OpContext, type TensorInfo } from './ops/context.js';
import { isEvaluableType, size, valFromTensor, type Dim, type Val } from './ops/value.js';

export type { TensorInfo } from './ops/context.js';
export type { Dim } from './ops/value.js';

export interface InferOptions {
  /** Fixed shapes for graph inputs; key '' means the first (non-initializer) input. */
  inputShapes?: Record<string, number[]>;
  /**
   * Allow symbolic/unknown input dims to flow through as names (shapes then contain strings).
   * Off by default: analysis needs numbers, so a symbolic input dim without --input is an error.
   */
  allowSymbolic?: boolean;
  /** Largest output (elements) that constant evaluation may produce. Default 1<<22. */
  evalLimit?: number;
}

export interface Propagation {
  infos: Map<string, TensorInfo>;
  /** Known constant values, computed lazily for initializers (weights are not read). */
  value(name: string): Val | undefined;
  /** True when the tensor is a constant (initializer, Constant output, or evaluated). */
  isConstant(name: string): boolean;
  /** Names of tensors computed by evaluating nodes (not initializers). */
  evaluated: Set<string>;
  /** Nodes in the topological order used. */
  order: Node[];
  /** The graph inputs that are real runtime inputs (no initializer). */
  runtimeInputs: string[];
}


/** --input shapes by input name: the key '' (the first runtime input) under that input's name, unless it is given too. */
function namedInputShapes(shapes: Record<string, number[]> | undefined, runtime: string[]): Record<string, number[]> {
  const given = { ...(shapes ?? {}) };
  if ('' in given) {
    if (runtime.length && !(runtime[0] in given)) given[runtime[0]] = given[''];
    delete given[''];
  }
  return given;
}

export function propagate(model: Model, opts: InferOptions = {}): Propagation {
  const g = model.graph;
  const file = model.path;
  const opset = opsetVersion(model);
  const evalLimit = opts.evalLimit ?? 1 << 22;
  const infos = new Map<string, TensorInfo>();
  const values = new Map<string, Val>();
  const evaluated = new Set<string>();
  const constTensors = new Map<string, Tensor>(g.initializers);

  for (const [name, t] of g.initializers) infos.set(name, { dtype: t.dtype, shape: [...t.dims] });

  // Runtime inputs: their shapes come from --input, else from the model's declared dims.
  const runtime = runtimeInputs(g).map((i) => i.name);
  if (opts.inputShapes && '' in opts.inputShapes && !runtime.length) throw new FdkError('model has no runtime input to apply --input to', { file });
  const given = namedInputShapes(opts.inputShapes, runtime);
  for (const name of Object.keys(given))
    if (!runtime.includes(name)) throw new FdkError(`--input names '${name}', but the model's inputs are: ${runtime.join(', ') || '(none)'}`, { file });
  let symCount = 0;
  for (const vi of g.inputs) {
    if (g.initializers.has(vi.name)) continue;
    const fixed = given[vi.name];
    if (fixed) {
      if (vi.shape && vi.shape.length !== fixed.length)
        throw new FdkError(`--input ${vi.name}:${fixed.join('x')} has rank ${fixed.length}, the model declares rank ${vi.shape.length} [${vi.shape.join(', ')}]`, { file });
      infos.set(vi.name, { dtype: vi.dtype, shape: [...fixed] });
      continue;
    }
    if (!vi.shape) throw new FdkError(`input '${vi.name}' has no declared shape (unknown rank); pass --input ${vi.name}:1x3xHxW`, { file });
    const shape: Dim[] = vi.shape.map((d) => (typeof d === 'number' && d < 0 ? `unk${symCount++}` : d));
    if (!opts.allowSymbolic && !isStatic(shape)) {
      const dims = vi.shape.map((d) => (typeof d === 'number' && d < 0 ? '?' : String(d))).join('x');
      throw new FdkError(`input '${vi.name}' has symbolic dims [${dims}]; fix them with --input ${vi.name}:${vi.shape.map((d) => (typeof d === 'number' && d > 0 ? d : `<${typeof d === 'string' ? d : 'N'}>`)).join('x')}`, { file });
    }
    infos.set(vi.name, { dtype: vi.dtype, shape });
  }

  const value = (name: string): Val | undefined => {
    let v = values.get(name);
    if (v) return v;
    const t = constTensors.get(name);
    if (!t || !isEvaluableType(t.dtype) || !t.hasData) return undefined;
    v = valFromTensor(t);
    values.set(name, v);
    return v;
  };
  const isConstant = (name: string) => values.has(name) || constTensors.has(name);

  const sorted = topologicalOrder(g);
  if ('cycle' in sorted) throw new FdkError('graph has a cycle', { file });
  const order = sorted.order;
  let unknownCount = 0;
  for (const node of order) {
    const where = `op ${node.opType} (node '${node.name || node.outputs[0]}')`;
    const fail = (reason: string): never => {
      throw new FdkError(`cannot infer shapes for ${where}: ${reason}`, { file });
    };
    for (const inp of node.inputs) if (inp && !infos.has(inp)) fail(`input '${inp}' is not produced by any node or graph input`);
    const ctx: OpContext = {
      node,
      opset,
      input: (i) => (node.inputs[i] ? infos.get(node.inputs[i]) : undefined),
      value: (i) => (node.inputs[i] ? value(node.inputs[i]) : undefined),
      fail,
      unknownDim: (hint = 'd') => `${hint}_${unknownCount++}`,
    };
    if (node.domain && node.domain !== 'ai.onnx') fail(`custom domain '${node.domain}' is not supported`);
    const rule = SHAPE_RULES[node.opType];
    if (!rule) fail('op not supported by shape inference');
    let outs: TensorInfo[];
    try {
      outs = rule(ctx);
    } catch (e) {
      if (e instanceof FdkError) throw e;
      return fail((e as Error).message);
    }
    // Evaluate when every input value is known (Shape/Size only need a static input shape).
    const ev = EVALUATORS[node.opType];
    if (ev && outs.every((o) => isStatic(o.shape) && isEvaluableType(o.dtype) && size(o.shape as number[]) <= evalLimit)) {
      const shapeOnly = SHAPE_ONLY_INPUTS.has(node.opType);
      const ready = shapeOnly
        ? isStatic(infos.get(node.inputs[0])!.shape)
        : node.inputs.every((n) => !n || (isConstant(n) && isEvaluableType(infos.get(n)!.dtype)));
      if (ready) {
        let vals: Val[];
        try {
          vals = ev(ctx, outs);
        } catch (e) {
          if (e instanceof FdkError) throw e;
          return fail(`constant evaluation failed: ${(e as Error).message}`);
        }
        vals.forEach((v, i) => {
          const name = node.outputs[i];
          if (!name) return;
          values.set(name, v);
          evaluated.add(name);
        });
      }
    }
    outs.forEach((o, i) => {
      const name = node.outputs[i];
      if (name) infos.set(name, o);
    });
  }
  return { infos, value, isConstant, evaluated, order, runtimeInputs: runtime };
}

/**
 * validateOnnx (its conv checks) and the converter's constant folding both propagate the same,
 * unchanged graph with the same options; on a 6261-node graph (torchvision swin_t) each pass costs
 * 0.3-0.4 s of a 1.9 s conversion. The first keeps its result here (`propagateAndKeep`), the
 * second takes it once (`takeKeptPropagation`); the size check only needs to know it succeeded
 * (`peekKeptPropagation`). The key is the model object, its node and
 * initializer arrays and their lengths, and the options: a step that replaces or resizes them in
 * between (prior-table regeneration re-validates, which keeps a fresh result) gets none. Only
 * validation keeps and only folding takes; folding runs before any pass rewrites the graph.
 */
const kept = new WeakMap<Model, { key: string; nodes: unknown; inits: unknown; result: Propagation }>();
function keptKey(model: Model, opts: InferOptions): string {
  // '' (the first runtime input, as the CLI passes --input) and that input's name are one shape
  const shapes = namedInputShapes(opts.inputShapes, runtimeInputs(model.graph).map((i) => i.name));
  const sorted = Object.keys(shapes).sort().map((k) => [k, shapes[k]]);
  return JSON.stringify([sorted, !!opts.allowSymbolic, opts.evalLimit ?? null, model.graph.nodes.length, model.graph.initializers.size]);
}

export function propagateAndKeep(model: Model, opts: InferOptions = {}): Propagation {
  const result = propagate(model, opts);
  kept.set(model, { key: keptKey(model, opts), nodes: model.graph.nodes, inits: model.graph.initializers, result });
  return result;
}

/** The kept propagation of this unchanged model and options, left in place (undefined when none). */
export function peekKeptPropagation(model: Model, opts: InferOptions = {}): Propagation | undefined {
  const k = kept.get(model);
  if (!k || k.key !== keptKey(model, opts) || k.nodes !== model.graph.nodes || k.inits !== model.graph.initializers) return undefined;
  return k.result;
}

export function takeKeptPropagation(model: Model, opts: InferOptions = {}): Propagation | undefined {
  const result = peekKeptPropagation(model, opts);
  kept.delete(model);
  return result;
}

/** dtype and shape of every tensor in the graph (inputs, initializers, node outputs). */
export function inferShapes(model: Model, opts: InferOptions = {}): Map<string, TensorInfo> {
  return propagate(model, opts).infos;
}
