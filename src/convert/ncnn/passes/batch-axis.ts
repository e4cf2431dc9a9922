/**
 * Batch-axis removal: ncnn Mats have no batch axis, so an ONNX tensor [1, C, H, W] is an ncnn
 * (c, h, w) Mat and every axis number, permutation and target shape has to be re-expressed
 * without axis 0. These helpers do that translation; the op table calls them and fails the
 * conversion (naming the node) when an op really works across the batch axis.
 *
 * Conventions: "onnx rank" includes the batch axis; ncnn axes count outer-first like ONNX
 * (axis 0 of a 3-D Mat is c), which is what Concat/Softmax/Crop/Slice/Reduction expect.
 */

export class BatchAxisError extends Error {}

/** ONNX axis (may be negative) of a rank-`rank` tensor -> ncnn axis, or throw when it is the batch axis. */
export function ncnnAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new BatchAxisError(`axis ${axis} is out of range for rank ${rank}`);
  if (a === 0) throw new BatchAxisError(`axis ${axis} is the batch axis, which ncnn does not have`);
  return a - 1;
}

/**
 * ncnn Permute order_type for an ONNX perm with the batch axis first and fixed. ncnn names orders by
 * the source dims listed innermost first (e.g. "CWH" = output (h, w, c) outer-first).
 */
const ORDER_NAMES: Record<number, string[]> = {
  2: ['WH', 'HW'],
  3: ['WHC', 'HWC', 'WCH', 'CWH', 'HCW', 'CHW'],
  4: ['WHDC', 'HWDC', 'WDHC', 'DWHC', 'HDWC', 'DHWC', 'WHCD', 'HWCD', 'WCHD', 'CWHD', 'HCWD', 'CHWD',
    'WDCH', 'DWCH', 'WCDH', 'CWDH', 'DCWH', 'CDWH', 'HDCW', 'DHCW', 'HCDW', 'CHDW', 'DCHW', 'CDHW'],
};
const DIM_LETTERS: Record<number, string[]> = { 2: ['H', 'W'], 3: ['C', 'H', 'W'], 4: ['C', 'D', 'H', 'W'] };

/** Returns the order_type, or -1 for the identity on a 1-D Mat, or throws when impossible. */
export function permuteOrderType(perm: number[]): number {
  const rank = perm.length;
  if (perm[0] !== 0) throw new BatchAxisError(`perm [${perm}] moves the batch axis`);
  const p = perm.slice(1).map((x) => x - 1);
  if (p.length === 1) return -1;
  const letters = DIM_LETTERS[p.length];
  if (!letters) throw new BatchAxisError(`perm of rank ${rank} is beyond ncnn's 4-D Mats`);
  const name = p.map((i) => letters[i]).reverse().join('');
  const idx = ORDER_NAMES[p.length].indexOf(name);
  if (idx < 0) throw new BatchAxisError(`perm [${perm}] has no ncnn Permute order`);
  return idx;
}

/** ncnn Mat shape keys for dims listed outer-first (without batch): w=0, h=1, d=11, c=2. */
export function shapeKeys(rank: number): number[] {
  switch (rank) {
    case 1: return [0];
    case 2: return [1, 0];
    case 3: return [2, 1, 0];
    case 4: return [2, 11, 1, 0];
    default: throw new BatchAxisError(`rank ${rank} (without batch) is beyond ncnn's 4-D Mats`);
  }
}

/**
 * Target shape of an ONNX Reshape as ncnn Reshape params (ONNX shape includes batch).
 * `0` entries (copy the input dim) are kept only when input and output have the same rank,
 * because ncnn copies by dim name (w, h, c), which equals ONNX's copy-by-position only then.
 */
export function reshapeParams(shape: number[], inRank: number): Map<number, number> {
  if (shape.length === 0) throw new BatchAxisError('reshape to a scalar drops the batch axis');
  const rest = shape.slice(1);
  if (rest.length === 0) throw new BatchAxisError('reshape to rank 1 merges the batch axis');
  if (rest.includes(0) && shape.length !== inRank) throw new BatchAxisError(`reshape [${shape}] copies input dims (0) while changing rank`);
  const keys = shapeKeys(rest.length);
  const out = new Map<number, number>();
  rest.forEach((d, i) => out.set(keys[i], d));
  return out;
}

/**
 * Shape of a constant operand as an ncnn Mat next to an activation of onnx rank `dataRank`:
 * numpy right-alignment, then the batch axis dropped (it must be 1). Returns outer-first dims.
 */
export function constantNcnnShape(dims: number[], dataRank: number): number[] {
  const padded = [...new Array(Math.max(0, dataRank - dims.length)).fill(1), ...dims];
  if (padded.length > dataRank) throw new BatchAxisError(`constant of rank ${dims.length} is larger than the data rank ${dataRank}`);
  if (padded[0] !== 1) throw new BatchAxisError(`constant [${dims}] has ${padded[0]} entries along the batch axis`);
  const rest = padded.slice(1);
  // leading 1s are harmless for ncnn broadcasting only when shapes keep the same rank; keep them.
  return rest.length ? rest : [1];
}

/** MemoryData params for a constant with outer-first ncnn dims. */
export function memoryDataParams(dims: number[]): Map<number, number> {
  const keys = shapeKeys(dims.length);
  const out = new Map<number, number>();
  dims.forEach((d, i) => out.set(keys[i], d));
  return out;
}
