/**
 * Which ncnn layers fdk quantizes, and how their weights split into scale groups. One record per
 * layer type: what ncnn's int8 path supports (ncnn2table / ncnn2int8: Convolution,
 * ConvolutionDepthWise, InnerProduct; ncnn has no int8 Deconvolution, so it stays fp32).
 */
import { paramInt, type NcnnLayer } from '../convert/ncnn/format/index.js';
import type { CalibMethod } from './thresholds.js';
import { aciqClip } from './thresholds.js';

export interface QuantizableType {
  /** Number of weight scales ncnn loads for the layer (per output channel, or per group). */
  scaleCount(l: NcnnLayer): number;
  /** The `int8_scale_term` (param 8) ncnn2int8 writes for this type. */
  int8ScaleTerm: number;
  /**
   * ncnn2table's 6-bit weights: ncnn's int8 Winograd F(4,3) for 3x3 stride-1 dilation-1
   * convolutions needs weights within ±31 to keep its transforms in range.
   */
  weightLevels(l: NcnnLayer): number;
}

const is3x3s1 = (l: NcnnLayer) => {
  const kw = paramInt(l.params, 1, 0), kh = paramInt(l.params, 11, kw);
  const dw = paramInt(l.params, 2, 1), dh = paramInt(l.params, 12, dw);
  const sw = paramInt(l.params, 3, 1), sh = paramInt(l.params, 13, sw);
  return kw === 3 && kh === 3 && dw === 1 && dh === 1 && sw === 1 && sh === 1;
};

export const QUANTIZABLE: Record<string, QuantizableType> = {
  Convolution: { scaleCount: (l) => paramInt(l.params, 0, 0), int8ScaleTerm: 2, weightLevels: (l) => (is3x3s1(l) ? 31 : 127) },
  ConvolutionDepthWise: { scaleCount: (l) => paramInt(l.params, 7, 1), int8ScaleTerm: 1, weightLevels: () => 127 },
  InnerProduct: { scaleCount: (l) => paramInt(l.params, 0, 0), int8ScaleTerm: 2, weightLevels: () => 127 },
};

export function isQuantizable(l: NcnnLayer): boolean {
  return l.type in QUANTIZABLE;
}

/** A layer already holding int8 weights (int8_scale_term set). */
export function isInt8Layer(l: NcnnLayer): boolean {
  return isQuantizable(l) && paramInt(l.params, 8, 0) !== 0;
}

/**
 * Weight scales of one layer: levels / max|w| per output channel (per group for depthwise), as
 * ncnn2table computes them; ACIQ clips each channel's max like it clips activations. With
 * `perChannel` false every channel gets the scale of the whole tensor (written once per channel,
 * the layout ncnn loads).
 */
export function weightScales(l: NcnnLayer, method: CalibMethod, perChannel = true): number[] {
  const t = QUANTIZABLE[l.type];
  const w = l.weights[0].data;
  const n = t.scaleCount(l);
  const per = w.length / n;
  const levels = t.weightLevels(l);
  const absmaxes = new Array<number>(n);
  for (let c = 0; c < n; c++) {
    let m = 0;
    for (let k = c * per; k < (c + 1) * per; k++) m = Math.max(m, Math.abs(w[k]));
    absmaxes[c] = method === 'aciq' && m > 0 ? Math.min(m, aciqClip(m, Math.max(2, per))) : m;
  }
  if (!perChannel) absmaxes.fill(Math.max(...absmaxes));
  return absmaxes.map((m) => (m > 0 ? levels / m : 1));
}
