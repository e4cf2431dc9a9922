/**
 * Resize as sampling matrices. Resize is separable: along one axis every output position is a
 * weighted sum of input positions, so an axis is fully described by an [out x in] matrix.
 *
 * `onnxSampling` builds that matrix the way the ONNX specification (and its reference
 * implementation) defines it, for every mode, coordinate transformation, nearest rounding, cubic
 * coefficient, exclude_outside and antialias. `interpSampling` builds the matrix ncnn's Interp
 * layer computes (nearest = floor(y * ratio); bilinear / bicubic with half-pixel or align-corner
 * coordinates, A = -0.75, edges clamped). The converter emits Interp only when the two matrices
 * agree, which is an exact answer to "can Interp express this Resize?" for the given sizes
 * instead of a list of mode combinations that is easy to get subtly wrong.
 */

export type ResizeMode = 'nearest' | 'linear' | 'cubic';

export interface ResizeKernel {
  mode: ResizeMode;
  /** coordinate_transformation_mode */
  ctm: string;
  nearestMode: string;
  cubicA: number;
  excludeOutside: boolean;
  antialias: boolean;
}

export interface AxisResize {
  inSize: number;
  outSize: number;
  /** ONNX scale_factor of the axis (out/in when sizes are given). */
  scale: number;
  /** tf_crop_and_resize region of the axis, as fractions of the input. */
  roi?: [number, number];
}

export interface Sampling {
  outSize: number;
  inSize: number;
  /** Row-major [out][in] weights. */
  w: Float64Array;
  /** Output positions whose value is the extrapolation value (tf_crop_and_resize only). */
  extrapolated?: boolean[];
}

const identity = (n: number): Sampling => {
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) w[i * n + i] = 1;
  return { outSize: n, inSize: n, w };
};

/** True when an axis is left as it is (the ONNX reference skips such axes). */
export function isIdentityAxis(a: AxisResize): boolean {
  const roiDefault = !a.roi || (Math.abs(a.roi[0]) < 1e-9 && Math.abs(a.roi[1] - 1) < 1e-9);
  return a.outSize === a.inSize && Math.abs(a.scale - 1) < 1e-9 && roiDefault;
}

/** Source coordinate of output position y, or undefined when it is extrapolated. */
function sourceCoordinate(ctm: string, y: number, a: AxisResize): number | undefined {
  const { inSize, outSize, scale } = a;
  const outFloat = scale * inSize;
  switch (ctm) {
    case 'align_corners':
      return outFloat === 1 ? 0 : (y * (inSize - 1)) / (outFloat - 1);
    case 'asymmetric':
      return y / scale;
    case 'pytorch_half_pixel':
      return outFloat === 1 ? -0.5 : (y + 0.5) / scale - 0.5;
    case 'half_pixel':
      return (y + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const offset = (inSize / 2) * (1 - outSize / outFloat);
      return offset + (y + 0.5) / scale - 0.5;
    }
    case 'tf_half_pixel_for_nn':
      return (y + 0.5) / scale;
    case 'tf_crop_and_resize': {
      const [s, e] = a.roi ?? [0, 1];
      const x = (outFloat === 1 ? ((e - s) * (inSize - 1)) / 2 : (y * (e - s) * (inSize - 1)) / (outFloat - 1)) + s * (inSize - 1);
      return x < 0 || x > inSize - 1 ? undefined : x;
    }
  }
  throw new Error(`coordinate_transformation_mode '${ctm}'`);
}

function cubicCoeffs(r: number, A: number): number[] {
  return [
    ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A,
    ((A + 2) * r - (A + 3)) * r * r + 1,
    ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1,
    ((A * (1 - r + 1) - 5 * A) * (1 - r + 1) + 8 * A) * (1 - r + 1) - 4 * A,
  ];
}

/** Kernel weights for ratio in (0, 1] (ratio 1 = exactly on a source position). */
function coefficients(k: ResizeKernel, ratio: number, scale: number): number[] {
  if (k.mode === 'nearest') {
    if (Number.isInteger(ratio)) return [0, 1];
    switch (k.nearestMode) {
      case 'round_prefer_floor': return ratio <= 0.5 ? [1, 0] : [0, 1];
      case 'round_prefer_ceil': return ratio < 0.5 ? [1, 0] : [0, 1];
      case 'floor': return [1, 0];
      case 'ceil': return [0, 1];
    }
    throw new Error(`nearest_mode '${k.nearestMode}'`);
  }
  if (k.mode === 'linear') {
    if (!k.antialias) return [1 - ratio, ratio];
    const s = Math.min(scale, 1);
    const start = Math.floor(-1 / s) + 1;
    const c: number[] = [];
    for (let i = start; i < start + 2 - 2 * start; i++) c.push(Math.min(1, Math.max(0, 1 - Math.abs((i - ratio) * s))));
    const sum = c.reduce((a, b) => a + b, 0);
    return c.map((v) => v / sum);
  }
  if (!k.antialias) return cubicCoeffs(ratio, k.cubicA);
  const s = Math.min(scale, 1);
  const A = k.cubicA;
  const f = (x0: number) => {
    const x = Math.abs(x0);
    if (x <= 1) return (A + 2) * x ** 3 - (A + 3) * x * x + 1;
    if (x < 2) return A * x ** 3 - 5 * A * x * x + 8 * A * x - 4 * A;
    return 0;
  };
  const iStart = Math.floor(-2 / s) + 1;
  const c: number[] = [];
  for (let i = iStart; i < 2 - iStart; i++) c.push(f(s * (i - ratio)));
  const sum = c.reduce((a, b) => a + b, 0);
  return c.map((v) => v / sum);
}

/** The [out x in] matrix ONNX Resize applies along one axis. */
export function onnxSampling(a: AxisResize, k: ResizeKernel): Sampling {
  if (isIdentityAxis(a)) return identity(a.inSize);
  const { inSize, outSize } = a;
  const w = new Float64Array(outSize * inSize);
  const extrapolated: boolean[] = [];
  for (let y = 0; y < outSize; y++) {
    const x = sourceCoordinate(k.ctm, y, a);
    extrapolated.push(x === undefined);
    if (x === undefined) continue;
    const onGrid = Number.isInteger(x);
    const ratio = onGrid ? 1 : x - Math.floor(x);
    let c = coefficients(k, ratio, a.scale);
    const n = c.length;
    // the n source positions nearest to x, ties to the left (even n: window centred between two)
    const first = (onGrid ? x - 1 : Math.floor(x)) - n / 2 + 1;
    if (k.excludeOutside) {
      c = c.map((v, i) => (first + i < 0 || first + i >= inSize ? 0 : v));
      const sum = c.reduce((s, v) => s + v, 0) || 1;
      c = c.map((v) => v / sum);
    }
    c.forEach((v, i) => {
      // edge padding == clamped indices
      const idx = Math.min(inSize - 1, Math.max(0, first + i));
      w[y * inSize + idx] += v;
    });
  }
  return { outSize, inSize, w, extrapolated: extrapolated.some(Boolean) ? extrapolated : undefined };
}

/**
 * What ncnn's Interp computes along one axis. `ratio` is the source step per output position:
 * 1/scale when the layer is given scales (params 1/2), in/out when given sizes (params 3/4).
 * Returns undefined for a configuration Interp does not handle (align_corner to one pixel).
 */
export function interpSampling(type: 1 | 2 | 3, align: boolean, inSize: number, outSize: number, ratio: number): Sampling | undefined {
  const w = new Float64Array(outSize * inSize);
  const put = (y: number, idx: number, v: number) => (w[y * inSize + Math.min(inSize - 1, Math.max(0, idx))] += v);
  if (inSize === outSize) return identity(inSize); // Interp passes the blob through
  if (type === 1) {
    if (align) return undefined;
    const hs = Math.fround(ratio);
    for (let y = 0; y < outSize; y++) put(y, Math.min(Math.trunc(Math.fround(y * hs)), inSize - 1), 1);
    return { outSize, inSize, w };
  }
  if (align && outSize === 1) return undefined;
  const step = align ? (inSize - 1) / (outSize - 1) : ratio;
  for (let y = 0; y < outSize; y++) {
    const fx = Math.fround(align ? y * step : (y + 0.5) * step - 0.5);
    const sx = Math.floor(fx);
    const f = fx - sx;
    if (type === 2) {
      if (sx < 0) put(y, 0, 1);
      else if (sx >= inSize - 1) put(y, inSize - 1, 1);
      else {
        put(y, sx, 1 - f);
        put(y, sx + 1, f);
      }
    } else {
      const c = cubicCoeffs(f, -0.75);
      c.forEach((v, i) => put(y, sx - 1 + i, v));
    }
  }
  return { outSize, inSize, w };
}

/** Same matrices within float32 rounding of the weights. */
export function sameSampling(a: Sampling | undefined, b: Sampling | undefined): boolean {
  if (!a || !b || a.outSize !== b.outSize || a.inSize !== b.inSize || a.extrapolated || b.extrapolated) return false;
  for (let i = 0; i < a.w.length; i++) if (Math.abs(a.w[i] - b.w[i]) > 1e-5) return false;
  return true;
}
