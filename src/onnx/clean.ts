/**
 * ONNX clean-up for deployment (`fdk convert model.onnx --to onnx`), in the spirit of
 * onnxruntime's remove_initializer_from_input.py followed by onnx-simplifier's constant folding:
 *  1. graph inputs that are also initializers are dropped. Older exporters (opset 9, e.g. the
 *     Ultra-Light originals) list every weight as an input; onnxruntime must then treat each weight
 *     as something the caller may override, so it neither folds nor fuses them, and runs the model
 *     several times slower.
 *  2. constants are folded (Shape -> Gather -> Unsqueeze -> Concat glue, Constant nodes), with
 *     `inputShapes` when given, else only what does not depend on symbolic input dims.
 *  3. initializers nothing reads any more are removed.
 * The outputs are unchanged: weights keep their values, folded values are computed exactly.
 */
import { runtimeInputs, type Graph, type Model, type Node } from './model.js';
import { foldConstants } from './fold.js';

export interface CleanOptions {
  /** Fixed input shapes (key '' = the first real input); without them symbolic dims stay symbolic. */
  inputShapes?: Record<string, number[]>;
}

export interface CleanSummary {
  /** Graph inputs removed because they were initializers. */
  droppedInputs: number;
  /** Nodes replaced by constants. */
  foldedNodes: number;
  /** Initializers removed because nothing reads them. */
  prunedInitializers: number;
  nodesBefore: number;
  nodesAfter: number;
  inputs: string[];
}

export function cleanOnnx(model: Model, opts: CleanOptions = {}): { model: Model; summary: CleanSummary } {
  const g = model.graph;
  const realInputs = runtimeInputs(g);
  const dropped = g.inputs.length - realInputs.length;
  const withoutWeightInputs: Model = { ...model, graph: { ...g, inputs: realInputs } };
  const folded = foldConstants(withoutWeightInputs, { inputShapes: opts.inputShapes, allowSymbolic: !opts.inputShapes });
  const { graph, pruned } = pruneInitializers(folded.model.graph);
  return {
    model: { ...folded.model, graph },
    summary: {
      droppedInputs: dropped,
      foldedNodes: folded.folded,
      prunedInitializers: pruned,
      nodesBefore: g.nodes.length,
      nodesAfter: graph.nodes.length,
      inputs: graph.inputs.map((i) => i.name),
    },
  };
}

/** Drops initializers that no node and no graph output reads (kept as is when subgraphs exist). */
function pruneInitializers(g: Graph): { graph: Graph; pruned: number } {
  // a subgraph (If/Loop body) may read outer initializers by name: leave such graphs alone
  if (g.nodes.some(hasSubgraph)) return { graph: g, pruned: 0 };
  const read = new Set<string>(g.outputs.map((o) => o.name));
  for (const n of g.nodes) for (const i of n.inputs) if (i) read.add(i);
  const initializers = new Map([...g.initializers].filter(([name]) => read.has(name)));
  return { graph: { ...g, initializers }, pruned: g.initializers.size - initializers.size };
}

function hasSubgraph(n: Node): boolean {
  return Object.values(n.attrs).some((a) => a.type === 'graph' || a.type === 'graphs');
}
