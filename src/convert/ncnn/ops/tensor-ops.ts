/**
 * Indexing, broadcasting and selection ops on run-time tensors, where they map to ncnn layers:
 *   Gather (constant indices) -> Crop (+ Squeeze for a scalar index, Concat for scattered ones,
 *     Reshape for indices of rank > 1)
 *   Expand -> BinaryOp add of a zero MemoryData of the target shape (ncnn broadcasts)
 *   Tile -> Tile (repeats outer-first, batch entry dropped)
 *   Where (constant condition) -> x * mask + y * (1 - mask)
 * With only constant (or tensor-size) inputs all of these, and Equal/Less/Greater/Not/And/Or,
 * fold before lowering (src/onnx/fold.ts, passes/shape-glue.ts); the comparisons on run-time data
 * have no ncnn layer and fail naming the node.
 */
import { attrInt } from '../../../onnx/model.js';
import { int, ints, type ParamValue } from '../format/param.js';
import { BatchAxisError, constantNcnnShape, memoryDataParams, reshapeParams } from '../passes/batch-axis.js';
import type { EmittedLayer, LowerContext } from '../lower.js';
import type { LowerResult, OpEntry } from '../op-table.js';
import { P, axisOf, single } from './emit.js';

/** A MemoryData layer holding `data` shaped for an activation of onnx rank `rank`. */
export function memoryData(c: LowerContext, blob: string, onnxDims: number[], data: Float32Array, rank: number): EmittedLayer {
  let dims: number[];
  try {
    dims = constantNcnnShape(onnxDims, rank);
  } catch (e) {
    if (e instanceof BatchAxisError) c.fail(`constant [${onnxDims}]: ${e.message}`, 'batch');
    throw e;
  }
  const params = new Map<number, ParamValue>([...memoryDataParams(dims).entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, int(v)]));
  return { type: 'MemoryData', params, weights: [{ data, tagged: false }], inputs: [], outputs: [blob], suffix: blob.slice(blob.lastIndexOf('_') + 1) };
}

const staticDims = (c: LowerContext, i: number): number[] | undefined => {
  const d = c.dimsOf(c.inputName(i));
  return d && d.every((x) => typeof x === 'number' && x >= 0) ? (d as number[]) : undefined;
};

function gather(c: LowerContext): LowerResult {
  const r = c.rank(0);
  let a = attrInt(c.node, 'axis', 0);
  if (a < 0) a += r;
  const ax = axisOf(c, a, r);
  const idxDims = c.constDims(1);
  let idx = c.constNumbers(1, 'indices');
  if (idx.some((i) => i < 0)) {
    const d = staticDims(c, 0)?.[a];
    if (d === undefined) c.fail('negative indices on an axis of run-time size');
    idx = idx.map((i) => (i < 0 ? i + d : i));
  }
  const base = c.node.outputs[0];
  const crop = (s: number, e: number, out?: string, suffix?: string): EmittedLayer => ({ type: 'Crop', params: P([9, ints([s])], [10, ints([e])], [11, ints([ax])]), inputs: [c.blob(0)], outputs: out ? [out] : undefined, suffix });
  if (idxDims.length === 0) {
    const picked = `${base}_pick`;
    return { layers: [crop(idx[0], idx[0] + 1, picked, 'pick'), { type: 'Squeeze', params: P([3, ints([ax])]), inputs: [picked] }], ranks: [r - 1] };
  }
  if (idx.length === 0) c.fail('empty indices');
  // runs of consecutive indices become one Crop each, joined by a Concat
  const runs: [number, number][] = [];
  for (const i of idx) {
    const last = runs[runs.length - 1];
    if (last && i === last[1]) last[1]++;
    else runs.push([i, i + 1]);
  }
  // indices of rank k > 1 pick along the flattened indices, then a Reshape splits that axis into k
  const flat = idxDims.length > 1 ? `${base}_flat` : undefined;
  const parts = runs.length === 1 ? [crop(runs[0][0], runs[0][1], flat, flat && 'flat')] : runs.map(([s, e], k) => crop(s, e, `${base}_run${k}`, `run${k}`));
  const layers = runs.length === 1 ? parts : [...parts, { type: 'Concat', params: P([0, int(ax)]), inputs: parts.map((p) => p.outputs![0]), outputs: flat ? [flat] : undefined, suffix: flat && 'flat' }];
  if (!flat) return { layers, ranks: [r] };
  const dims = staticDims(c, 0) ?? c.fail(`indices of rank ${idxDims.length} on a tensor of run-time size`);
  const outDims = [...dims.slice(0, a), ...idxDims, ...dims.slice(a + 1)];
  if (outDims.length > 5) c.fail(`indices of rank ${idxDims.length} make a rank-${outDims.length} output, beyond ncnn's 4-D Mats`);
  const pm = reshapeParams(outDims, r);
  layers.push({ type: 'Reshape', params: P(...[...pm.entries()].sort((x, y) => x[0] - y[0]).map(([k, v]) => [k, int(v)] as [number, ParamValue])), inputs: [flat] });
  return { layers, ranks: [outDims.length] };
}

function expand(c: LowerContext): LowerResult {
  const r = c.rank(0);
  const target = c.constNumbers(1, 'shape');
  const inDims = staticDims(c, 0);
  if (!inDims) c.fail('Expand of a tensor of run-time size');
  const outRank = Math.max(r, target.length);
  const out: number[] = [];
  for (let i = 0; i < outRank; i++) {
    const d = inDims[i - (outRank - r)] ?? 1;
    const t = target[i - (outRank - target.length)] ?? 1;
    out.push(t === 1 ? d : t);
  }
  if (out.length === r && out.every((d, i) => d === inDims[i])) return { alias: 0 };
  if (out[0] !== 1) c.fail(`Expand to [${out}] grows the batch axis`, 'batch');
  const zeros = `${c.node.outputs[0]}_zeros`;
  return {
    layers: [memoryData(c, zeros, out, new Float32Array(out.reduce((p, q) => p * q, 1)), outRank), { type: 'BinaryOp', params: P([0, int(0)]), inputs: [c.blob(0), zeros] }],
    ranks: [outRank],
  };
}

function tile(c: LowerContext): LowerResult {
  const r = c.rank(0);
  const reps = c.constNumbers(1, 'repeats');
  if (reps.length !== r) c.fail(`repeats of length ${reps.length} for rank ${r}`);
  if (reps[0] !== 1) c.fail(`Tile repeats the batch axis ${reps[0]} times`, 'batch');
  if (reps.every((x) => x === 1)) return { alias: 0 };
  if (r > 5) c.fail(`Tile of rank ${r}`);
  return single('Tile', c, P([2, ints(reps.slice(1))]), r);
}

function where(c: LowerContext): LowerResult {
  if (c.isActivation(c.inputName(0))) c.fail('condition computed at run time (ncnn has no select layer)');
  const cond = c.known(0);
  if (!cond) c.fail('condition is not known');
  const mask = Float32Array.from(cond.els as number[], (v) => (v ? 1 : 0));
  const r = Math.max(...[1, 2].map((i) => c.rankOf(c.inputName(i)) ?? 0), cond.dims.length);
  const base = c.node.outputs[0];
  const m = `${base}_mask`, inv = `${base}_notmask`, a = `${base}_a`, b = `${base}_b`;
  const layers: EmittedLayer[] = [
    memoryData(c, m, cond.dims, mask, r),
    memoryData(c, inv, cond.dims, mask.map((v) => 1 - v), r),
    { type: 'BinaryOp', params: P([0, int(2)]), inputs: [c.blob(1, r), m], outputs: [a], suffix: 'a' },
    { type: 'BinaryOp', params: P([0, int(2)]), inputs: [c.blob(2, r), inv], outputs: [b], suffix: 'b' },
    { type: 'BinaryOp', params: P([0, int(0)]), inputs: [a, b] },
  ];
  return { layers, ranks: [r] };
}

const noRuntimeCompare = (c: LowerContext): LowerResult =>
  c.fail(`${c.node.opType} of run-time data: ncnn has no comparison or logic layer (only comparisons of constants and tensor sizes fold)`);

export const TENSOR_OPS: Record<string, OpEntry> = {
  Gather: { ncnn: 'Crop / Squeeze / Concat / Reshape', lower: gather },
  Expand: { ncnn: 'BinaryOp / MemoryData', lower: expand },
  Tile: { ncnn: 'Tile', lower: tile },
  Where: { ncnn: 'BinaryOp / MemoryData', lower: where },
  ...Object.fromEntries(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor'].map((k) => [k, { ncnn: '(folded only)', lower: noRuntimeCompare } satisfies OpEntry])),
};
