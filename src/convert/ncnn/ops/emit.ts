/** Small helpers shared by the op lowerings in this folder (kept apart from op-table.ts to avoid an import cycle). */
import { int, type ParamValue } from '../format/param.js';
import { BatchAxisError, ncnnAxis } from '../passes/batch-axis.js';
import type { EmittedLayer, LowerContext } from '../lower.js';
import type { LowerResult } from '../op-table.js';

export const P = (...kv: [number, ParamValue][]) => new Map<number, ParamValue>(kv);

/** One ncnn layer reading input 0 and writing the node's output. */
export function single(type: string, c: LowerContext, params: Map<number, ParamValue>, rank: number, extra: Partial<EmittedLayer> = {}): LowerResult {
  return { layers: [{ type, params, inputs: [c.blob(0)], ...extra }], ranks: [rank] };
}

/** ONNX axis -> ncnn axis, failing the node when it is the batch axis. */
export function axisOf(c: LowerContext, a: number, rank: number): number {
  try {
    return ncnnAxis(a, rank);
  } catch (e) {
    if (e instanceof BatchAxisError) c.fail(e.message, 'batch');
    throw e;
  }
}

/** ncnn UnaryOp op_type numbers used here. */
export const UNARY_LOG = 8;

