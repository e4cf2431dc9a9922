/**
 * Constant folding: every node whose outputs shape inference could evaluate (Constant nodes,
 * shape glue once the input shape is fixed, arithmetic on constants) is removed, and the values
 * still consumed by the remaining nodes or exposed as graph outputs become initializers.
 *
 * When folding used fixed `inputShapes`, the result is only valid for those shapes, so the
 * graph inputs are rewritten to declare them.
 */
import type { Graph, Model, Node, ValueInfo } from './model.js';
import type { Tensor } from './tensor.js';
import { propagate, takeKeptPropagation, type InferOptions } from './shape-inference.js';
import { tensorFromVal } from './ops/value.js';

export interface FoldResult {
  model: Model;
  /** Number of nodes removed. */
  folded: number;
  /** Names (or first output when unnamed) of the removed nodes. */
  removedNodes: string[];
}

export function foldConstants(model: Model, opts: InferOptions = {}): FoldResult {
  const g = model.graph;
  const p = takeKeptPropagation(model, opts) ?? propagate(model, opts);
  const keep: Node[] = [];
  const removed: Node[] = [];
  for (const n of p.order) {
    const allKnown = n.outputs.length > 0 && n.outputs.every((o) => !o || p.evaluated.has(o));
    (allKnown ? removed : keep).push(n);
  }

  // Values still needed: inputs of kept nodes and graph outputs.
  const needed = new Set<string>();
  for (const n of keep) for (const i of n.inputs) if (i) needed.add(i);
  for (const o of g.outputs) needed.add(o.name);

  const initializers = new Map<string, Tensor>();
  const removedOutputs = new Set(removed.flatMap((n) => n.outputs));
  for (const [name, t] of g.initializers) initializers.set(name, t);
  for (const name of removedOutputs) {
    if (!name || !needed.has(name)) continue;
    initializers.set(name, tensorFromVal(name, p.value(name)!));
  }

  // Declared input shapes become the fixed ones folding relied on.
  const fixed = p.runtimeInputs;
  const inputs: ValueInfo[] = g.inputs.map((vi) => {
    if (!fixed.includes(vi.name)) return vi;
    const info = p.infos.get(vi.name)!;
    return { ...vi, shape: [...info.shape] };
  });

  const valueInfo = new Map([...g.valueInfo].filter(([name]) => !removedOutputs.has(name)));
  const graph: Graph = { ...g, nodes: keep, inputs, initializers, valueInfo };
  return {
    model: { ...model, graph },
    folded: removed.length,
    removedNodes: removed.map((n) => n.name || n.outputs[0]),
  };
}
