/**
 * Resize / Upsample -> ncnn Interp, or two MatMuls with constant sampling matrices.
 *
 * The opset versions differ only in how the node states what it wants (attribute scales,
 * scales input, roi/scales/sizes, axes/antialias/keep_aspect_ratio_policy); each version has its
 * own reader producing one ResizeSpec, and one lowering handles every spec:
 *
 *   - static sizes: the ONNX sampling matrix of each axis is compared with what Interp computes
 *     (ops/resize-sampling.ts); when they agree the node becomes Interp, otherwise it becomes
 *     y = Mh · x · Mwᵀ as ncnn MatMul layers with the matrices as MemoryData (exact for every mode,
 *     coordinate transformation, cubic coefficient, exclude_outside, antialias and crop-and-resize,
 *     at the cost of a dense product per axis);
 *   - sizes known only at run time: Interp when the mode is one whose Interp equivalent does not
 *     depend on the sizes, otherwise a refusal naming the mode.
 */
import { attrFloat, attrFloats, attrInt, attrInts, attrString } from '../../../onnx/model.js';
import { float, int, type ParamValue } from '../format/param.js';
import { isNum, type SymEl } from '../passes/shape-glue.js';
import type { LowerContext, EmittedLayer } from '../lower.js';
import { P, memoryData, one, type Lower, type LowerResult } from '../lowering-helpers.js';
import { interpSampling, isIdentityAxis, onnxSampling, sameSampling, type AxisResize, type ResizeKernel, type ResizeMode, type Sampling } from './resize-sampling.js';

export interface ResizeSpec extends ResizeKernel {
  scales?: SymEl[];
  sizes?: SymEl[];
  /** roi as [starts..., ends...] over the resized axes */
  roi?: number[];
  axes?: number[];
  extrapolation: number;
  keepAspect: string;
}

function modeOf(c: LowerContext, s: string): ResizeMode {
  const m = s === 'bilinear' ? 'linear' : s === 'bicubic' ? 'cubic' : s;
  if (m !== 'nearest' && m !== 'linear' && m !== 'cubic') c.fail(`Resize mode '${s}'`);
  return m;
}

/** Upsample-7 / Upsample-9 / Resize-10: scales only; coordinates are asymmetric, nearest floors. */
const legacy = (scales: (c: LowerContext) => SymEl[]) => (c: LowerContext): ResizeSpec => ({
  mode: modeOf(c, attrString(c.node, 'mode', 'nearest')),
  ctm: 'asymmetric',
  nearestMode: 'floor',
  cubicA: -0.75,
  excludeOutside: false,
  antialias: false,
  extrapolation: 0,
  keepAspect: 'stretch',
  scales: scales(c),
});

/** Resize-11/13: X, roi, scales, sizes and the interpolation attributes. */
function readResize11(c: LowerContext): ResizeSpec {
  const n = c.node;
  let scales = c.hasInput(2) ? c.symbolic(2, 'scales') : undefined;
  const sizes = c.hasInput(3) ? c.symbolic(3, 'sizes') : undefined;
  if (scales && scales.length === 0) scales = undefined;
  const ctm = attrString(n, 'coordinate_transformation_mode', 'half_pixel');
  const roiEls = ctm === 'tf_crop_and_resize' && c.hasInput(1) ? c.constNumbers(1, 'roi') : undefined;
  return {
    mode: modeOf(c, attrString(n, 'mode', 'nearest')),
    ctm,
    nearestMode: attrString(n, 'nearest_mode', 'round_prefer_floor'),
    cubicA: attrFloat(n, 'cubic_coeff_a', -0.75),
    excludeOutside: attrInt(n, 'exclude_outside', 0) === 1,
    antialias: false,
    extrapolation: attrFloat(n, 'extrapolation_value', 0),
    keepAspect: 'stretch',
    scales,
    sizes: sizes && sizes.length ? sizes : undefined,
    roi: roiEls,
  };
}

/** Resize-18/19: adds axes, antialias and keep_aspect_ratio_policy. */
function readResize18(c: LowerContext): ResizeSpec {
  return {
    ...readResize11(c),
    antialias: attrInt(c.node, 'antialias', 0) === 1,
    keepAspect: attrString(c.node, 'keep_aspect_ratio_policy', 'stretch'),
    axes: attrInts(c.node, 'axes'),
  };
}

/** Per-axis resize description for a static input, following the ONNX reference. */
function axesOf(c: LowerContext, spec: ResizeSpec, dims: number[]): AxisResize[] {
  const r = dims.length;
  const axes = (spec.axes ?? dims.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
  const num = (els: SymEl[]) => els.map((e) => (isNum(e) ? e : NaN));
  const scale = dims.map(() => 1);
  let out = [...dims];
  if (spec.sizes) {
    const sz = num(spec.sizes);
    if (sz.length !== axes.length) c.fail(`Resize sizes has ${sz.length} entries for ${axes.length} axes`);
    axes.forEach((a, i) => {
      out[a] = sz[i];
      scale[a] = sz[i] / dims[a];
    });
    if (spec.keepAspect !== 'stretch') {
      const ss = axes.map((a) => scale[a]);
      const s = spec.keepAspect === 'not_larger' ? Math.min(...ss) : Math.max(...ss);
      out = dims.map((d, a) => (axes.includes(a) ? Math.floor(s * d + 0.5) : d));
      axes.forEach((a) => (scale[a] = s));
    }
  } else if (spec.scales) {
    const sc = num(spec.scales);
    if (sc.length !== axes.length) c.fail(`Resize scales has ${sc.length} entries for ${axes.length} axes`);
    axes.forEach((a, i) => {
      scale[a] = sc[i];
      out[a] = Math.floor(sc[i] * dims[a]);
    });
  } else c.fail('Resize without scales or sizes');
  return dims.map((d, a) => {
    const k = axes.indexOf(a);
    const roi: [number, number] | undefined = spec.roi && k >= 0 ? [spec.roi[k], spec.roi[axes.length + k]] : undefined;
    return { inSize: d, outSize: out[a], scale: scale[a], roi };
  });
}

/** Interp params reproducing both spatial axes exactly, if there are any. */
function exactInterp(spec: ResizeSpec, h: AxisResize, w: AxisResize, mh: Sampling, mw: Sampling): Map<number, ParamValue> | undefined {
  const type = ({ nearest: 1, linear: 2, cubic: 3 } as const)[spec.mode];
  const scaled = !!spec.scales && !spec.sizes;
  for (const align of [false, true]) {
    // ncnn: with scales the output is trunc(in * scale) and the step 1/scale; with sizes, in/out
    const outOf = (a: AxisResize) => (scaled ? Math.trunc(Math.fround(a.inSize * Math.fround(a.scale))) : a.outSize);
    const ratio = (a: AxisResize) => (scaled ? 1 / Math.fround(a.scale) : a.inSize / a.outSize);
    if (outOf(h) !== h.outSize || outOf(w) !== w.outSize) continue;
    if (!sameSampling(mh, interpSampling(type, align, h.inSize, h.outSize, ratio(h)))) continue;
    if (!sameSampling(mw, interpSampling(type, align, w.inSize, w.outSize, ratio(w)))) continue;
    const p = P([0, int(type)]);
    if (scaled) p.set(1, float(h.scale)).set(2, float(w.scale));
    else p.set(3, int(h.outSize)).set(4, int(w.outSize));
    if (align) p.set(6, int(1));
    return p;
  }
  return undefined;
}

/** y = Mh · x · Mwᵀ (+ extrapolation value where crop-and-resize samples outside the input). */
function matmulResize(c: LowerContext, spec: ResizeSpec, mh: Sampling, mw: Sampling, hId: boolean, wId: boolean): LowerResult {
  const base = c.node.outputs[0];
  const layers: EmittedLayer[] = [];
  let x = c.blob(0);
  if (!wId) {
    // Mwᵀ as a [W, Wout] matrix: (C,H,W) x (W,Wout) -> (C,H,Wout)
    const t = new Float32Array(mw.inSize * mw.outSize);
    for (let o = 0; o < mw.outSize; o++) for (let i = 0; i < mw.inSize; i++) t[i * mw.outSize + o] = mw.w[o * mw.inSize + i];
    layers.push(memoryData(`${base}_mw`, [mw.inSize, mw.outSize], t, 'mw'));
    layers.push({ type: 'MatMul', params: P(), inputs: [x, `${base}_mw`], outputs: [`${base}_w`], suffix: 'w' });
    x = `${base}_w`;
  }
  if (!hId) {
    // Mh as a [Hout, H] matrix broadcast over channels: (Hout,H) x (C,H,Wout) -> (C,Hout,Wout)
    layers.push(memoryData(`${base}_mh`, [mh.outSize, mh.inSize], Float32Array.from(mh.w), 'mh'));
    layers.push({ type: 'MatMul', params: P(), inputs: [`${base}_mh`, x], outputs: [`${base}_h`], suffix: 'h' });
    x = `${base}_h`;
  }
  if ((mh.extrapolated || mw.extrapolated) && spec.extrapolation !== 0) {
    const bias = new Float32Array(mh.outSize * mw.outSize);
    for (let i = 0; i < mh.outSize; i++)
      for (let j = 0; j < mw.outSize; j++) if (mh.extrapolated?.[i] || mw.extrapolated?.[j]) bias[i * mw.outSize + j] = spec.extrapolation;
    layers.push(memoryData(`${base}_extrapolation`, [1, mh.outSize, mw.outSize], bias, 'extrapolation'));
    layers.push({ type: 'BinaryOp', params: P([0, int(0)]), inputs: [x, `${base}_extrapolation`], outputs: [`${base}_e`], suffix: 'e' });
  }
  if (layers.length === 0) return { alias: 0 };
  // the last layer writes the node's output
  const last = layers[layers.length - 1];
  last.outputs = undefined;
  last.suffix = undefined;
  return { layers, ranks: [4] };
}

/**
 * Sizes unknown until run time: Interp is exact for any size only for these modes (nearest
 * asymmetric + floor is PyTorch's nearest; half-pixel linear/cubic with A = -0.75 and
 * align-corners are Interp's own coordinates).
 */
function sizeIndependentInterp(c: LowerContext, spec: ResizeSpec): { type: number; align: boolean } {
  const why = `${spec.mode} Resize with coordinate_transformation_mode '${spec.ctm}'`;
  if (spec.antialias) c.fail(`antialiased Resize needs static input sizes (fix them with --input NAME:1x3xHxW)`);
  if (spec.mode === 'nearest') {
    if (spec.ctm === 'asymmetric' && spec.nearestMode === 'floor') return { type: 1, align: false };
    // half-pixel + rounding picks floor(y / s) too when s is an integer >= 1 (no ties can occur)
    const spatial = spec.scales && !spec.sizes && !spec.axes ? spec.scales.slice(2) : [];
    const integral = spatial.length === 2 && spatial.every((s) => isNum(s) && Number.isInteger(s) && s >= 1);
    if (integral && (spec.ctm === 'half_pixel' || spec.ctm === 'pytorch_half_pixel') && spec.nearestMode.startsWith('round_prefer_')) return { type: 1, align: false };
    c.fail(`${why}, nearest_mode '${spec.nearestMode}' matches ncnn Interp only for known sizes; fix the input size with --input NAME:1x3xHxW`);
  }
  if (spec.mode === 'cubic' && (spec.cubicA !== -0.75 || spec.excludeOutside)) c.fail(`cubic Resize with cubic_coeff_a ${spec.cubicA}${spec.excludeOutside ? ', exclude_outside' : ''} needs static input sizes`);
  const type = spec.mode === 'linear' ? 2 : 3;
  if (spec.ctm === 'half_pixel' || spec.ctm === 'pytorch_half_pixel') return { type, align: false };
  if (spec.ctm === 'align_corners') return { type, align: true };
  c.fail(`${why} matches ncnn Interp only for known sizes; fix the input size with --input NAME:1x3xHxW`);
}

function dynamicResize(c: LowerContext, spec: ResizeSpec): LowerResult {
  const { type, align } = sizeIndependentInterp(c, spec);
  const params = P([0, int(type)]);
  if (align) params.set(6, int(1));
  const full = spec.axes ? undefined : spec.scales ?? spec.sizes;
  if (!full || full.length !== 4) c.fail('Resize with axes needs static input sizes');
  if (spec.scales && !spec.sizes) {
    const s = spec.scales;
    if (!s.every(isNum)) c.fail('Resize scales computed at run time');
    if (s[0] !== 1 || s[1] !== 1) c.fail(`Resize scales [${s}] change batch or channels`);
    params.set(1, float(s[2] as number)).set(2, float(s[3] as number));
    return one('Interp', c, params, 4);
  }
  const [, , h, w] = spec.sizes!;
  if (isNum(h) && isNum(w)) {
    params.set(3, int(h)).set(4, int(w));
    return one('Interp', c, params, 4);
  }
  if (!isNum(h) && !isNum(w) && h.ref === w.ref && h.axis === 2 && w.axis === 3 && h.scale === 1 && w.scale === 1) {
    // the size of another tensor: Interp with a reference blob stays dynamic
    params.set(5, int(1));
    return { layers: [{ type: 'Interp', params, inputs: [c.blob(0), c.resolve(h.ref)] }], ranks: [4] };
  }
  if (!isNum(h) && !isNum(w) && h.ref === c.inputName(0) && w.ref === h.ref && h.axis === 2 && w.axis === 3) {
    params.set(1, float(h.scale)).set(2, float(w.scale));
    return one('Interp', c, params, 4);
  }
  c.fail('Resize sizes computed from tensor shapes in a form ncnn Interp cannot express');
}

function lowerResize(read: (c: LowerContext) => ResizeSpec): Lower {
  return (c) => {
    const r = c.rank(0);
    if (r !== 4) c.fail(`only 4-D ${c.node.opType} (N,C,H,W) is supported, not rank ${r}`);
    const spec = read(c);
    const dims = c.dimsOf(c.inputName(0));
    const staticDims = dims?.every((d) => typeof d === 'number' && d > 0) ? (dims as number[]) : undefined;
    const known = [...(spec.scales ?? []), ...(spec.sizes ?? [])].every(isNum);
    if (!staticDims || !known) return dynamicResize(c, spec);
    const ax = axesOf(c, spec, staticDims);
    for (const a of [0, 1]) if (!isIdentityAxis(ax[a])) c.fail(`Resize changes the ${a === 0 ? 'batch' : 'channel'} axis (${ax[a].inSize} -> ${ax[a].outSize}), which ncnn Interp cannot`);
    let mh: Sampling, mw: Sampling;
    try {
      mh = onnxSampling(ax[2], spec);
      mw = onnxSampling(ax[3], spec);
    } catch (e) {
      c.fail(`Resize ${(e as Error).message} is not supported`);
    }
    const interp = exactInterp(spec, ax[2], ax[3], mh!, mw!);
    if (interp) return one('Interp', c, interp, 4);
    return matmulResize(c, spec, mh!, mw!, isIdentityAxis(ax[2]), isIdentityAxis(ax[3]));
  };
}

/** Versioned entries: the reader changes with the opset, the lowering does not. */
export const RESIZE_VERSIONS: Record<number, Lower> = {
  10: lowerResize(legacy((c) => c.symbolic(1, 'scales'))),
  11: lowerResize(readResize11),
  18: lowerResize(readResize18),
};
export const UPSAMPLE_VERSIONS: Record<number, Lower> = {
  7: lowerResize(legacy((c) => attrFloats(c.node, 'scales') ?? c.fail('Upsample without scales'))),
  9: lowerResize(legacy((c) => c.symbolic(1, 'scales'))),
};
