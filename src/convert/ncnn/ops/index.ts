/**
 * Op lowerings added for real-world ONNX exports (recurrent, transformer, tensor and logic ops),
 * one file per family. op-table.ts spreads NEW_OPS after its own entries, so an entry here
 * replaces a simpler one there (Gemm, MatMul).
 */
import type { Model } from '../../../onnx/model.js';
import type { OpEntry } from '../op-table.js';
import { RECURRENT_OPS } from './recurrent.js';
import { ACTIVATION_OPS } from './activations.js';
import { TENSOR_OPS } from './tensor-ops.js';
import { EINSUM_OPS } from './einsum.js';
import { ALGEBRA_OPS } from './algebra.js';
import { SPACE_TO_DEPTH_OPS, rewriteStridedSlices } from './strided-slice.js';
import { relayoutSequenceMajor } from './sequence-layout.js';
import { fusePatterns } from './fuse-patterns.js';
import { reduceRanks } from './rank-reduce.js';

export const NEW_OPS: Record<string, OpEntry> = {
  ...RECURRENT_OPS,
  ...ACTIVATION_OPS,
  ...TENSOR_OPS,
  ...EINSUM_OPS,
  ...ALGEBRA_OPS,
  ...SPACE_TO_DEPTH_OPS,
};

/**
 * ONNX-to-ONNX rewrites run after constant folding and before lowering, each producing a graph
 * that computes the same bytes in a form the op table can lower: sequence-major recurrent
 * regions made batch-major, rank-6 views folded to rank 5 (ops/rank-reduce.ts), step-2 H/W slices made SpaceToDepth + channel slices, decomposed
 * GELU / LayerNorm / SiLU fused.
 */
export function prepareForNcnn(model: Model, inputShapes?: Record<string, number[]>, opts: { fuse?: boolean } = {}): Model {
  const m = rewriteStridedSlices(reduceRanks(relayoutOrKeep(model, inputShapes), inputShapes), inputShapes);
  // fusion is an optimisation: --no-optimize keeps the op-by-op layers (like onnx2ncnn)
  return opts.fuse === false ? m : fusePatterns(m);
}

/**
 * The sequence-major re-layout is required for recurrent ops (ncnn's LSTM/GRU/RNN run batch-major);
 * for a graph without them, a batch axis moved by a Transpose can also be carried through by the
 * lowering itself (Split/Squeeze drop the unit axis, see batch-axis.ts). So a re-layout that gives up
 * on such a graph leaves it to the lowering, which converts it or names the node it cannot.
 */
function relayoutOrKeep(model: Model, inputShapes?: Record<string, number[]>): Model {
  try {
    return relayoutSequenceMajor(model, inputShapes);
  } catch (e) {
    if (model.graph.nodes.some((n) => n.opType === 'LSTM' || n.opType === 'GRU' || n.opType === 'RNN')) throw e;
    return model;
  }
}
