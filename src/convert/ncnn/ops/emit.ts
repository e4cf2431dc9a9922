/** Small helpers shared by the op lowerings in this folder (kept apart from op-table.ts to avoid an import cycle). */
import type { ParamValue } from '../format/param.js';
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


/**
 * Dims of constant input i, read from the initializer when there is one: LowerContext.constDims
 * goes through the symbolic form, which copies every element of a weight into a JS array.
 */
export function weightDims(c: LowerContext, i: number): number[] {
  const t = c.isActivation(c.inputName(i)) ? undefined : c.initializer(i);
  return t ? [...t.dims] : c.constDims(i);
}

/** Whether input i is a constant (an initializer or folded glue), without materialising it. */
export function isConstant(c: LowerContext, i: number): boolean {
  return !!c.knownDims(i);
}
