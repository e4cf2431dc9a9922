/** Small constructors shared by the op lowerings (op-table.ts and ops/*.ts). */
import type { ParamValue } from './format/param.js';
import { int } from './format/param.js';
import { memoryDataParams } from './passes/batch-axis.js';
import type { EmittedLayer, LowerContext } from './lower.js';

/** Layers and output ranks; `unitAxes` when an output's dropped unit axis is not axis 0. */
export type LowerResult = { alias: number } | { layers: EmittedLayer[]; ranks: number[]; unitAxes?: number[] };
export type Lower = (c: LowerContext) => LowerResult;

/** A param dict from [key, value] pairs. */
export const P = (...kv: [number, ParamValue][]) => new Map<number, ParamValue>(kv);

/** One layer reading input 0 of the node and writing its output. */
export const one = (type: string, c: LowerContext, params: Map<number, ParamValue>, rank: number, extra: Partial<EmittedLayer> = {}): LowerResult => ({
  layers: [{ type, params, inputs: [c.blob(0)], ...extra }],
  ranks: [rank],
});

/** A MemoryData layer holding `data` with ncnn dims `dims` (outer-first, no batch). */
export function memoryData(blob: string, dims: number[], data: Float32Array, suffix: string): EmittedLayer {
  const params = new Map<number, ParamValue>();
  for (const [k, v] of [...memoryDataParams(dims).entries()].sort((a, b) => a[0] - b[0])) params.set(k, int(v));
  return { type: 'MemoryData', params, inputs: [], outputs: [blob], weights: [{ data, tagged: false }], suffix };
}

/**
 * [rows, cols] row-major -> [cols, rows] (ONNX MatMul's [K, N] weight -> ncnn InnerProduct's
 * [N, K]), times `scale`, in 16x16 tiles (cache-friendlier than the plain double loop on ViT-B's
 * 85 M weights).
 */
export function transposed(src: ArrayLike<number>, rows: number, cols: number, scale = 1): Float32Array {
  const out = new Float32Array(rows * cols);
  const T = 16;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let c = c0; c < c1; c++) {
        const o = c * rows;
        for (let r = r0; r < r1; r++) out[o + r] = scale * src[r * cols + c];
      }
    }
  }
  return out;
}

/** `src` times `scale`: `src` itself when the scale is 1 (weights are never written to in place). */
export function scaled(src: Float32Array, scale: number): Float32Array {
  if (scale === 1) return src;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = scale * src[i];
  return out;
}
