/**
 * A re-implementation of OpenCV's `cv::resize(..., INTER_LINEAR)` for interleaved images, bit-exact
 * for 8-bit input and to float32 rounding for float input, because WIDER AP is sensitive to the
 * last pixel: the reference pipelines resize with cv2 and we must see the same pixels.
 *
 * What OpenCV does (imgproc/src/resize.cpp, `resizeGeneric_` + HResizeLinear/VResizeLinear):
 *  - source coordinate of output column dx: fx = (dx + 0.5) * scale_x - 0.5, sx = floor(fx), weights
 *    (1 - frac, frac) in float32; fx is rounded to float32 first on the 8-bit path but not on the
 *    float path (measured against cv2 4.x, the difference reaches 1e-2 grey levels at x ≈ 1000); outside the image the index is clamped and the weight
 *    collapses onto one pixel. scale_x is 1 / inv_scale_x, where inv_scale_x is `fx` when the caller
 *    passed factors, else dst/src size.
 *  - rows likewise, with row indices clamped to the image.
 *  - float32: horizontal pass then vertical pass, each a*w0 + b*w1 in float32.
 *  - uint8: fixed point, weights rounded to 11 bits (×2048), horizontal pass in int32; vertical pass
 *    in SIMD for all but a short tail of each row: ((S0>>4)*b0 >> 16) + ((S1>>4)*b1 >> 16), then
 *    (v + 2) >> 2; the tail uses the exact (S0*b0 + S1*b1 + 2^21) >> 22. The two can differ by one
 *    grey level, so the tail width of the 128-bit SSE code path is reproduced too.
 *  - an exact 2× downscale with INTER_LINEAR is routed to INTER_AREA's fast path (2×2 mean).
 */

import { resize3ToPlanesWasm, resizeKernels } from './cv-resize-wasm.js';
import { forEachRowPair, pixelTaps3, RowCache, taps, type Taps } from './cv-resize-rows.js';

export interface ResizeSpec {
  /** output size */
  width: number;
  height: number;
  /** source step per output pixel, as OpenCV computes it (1 / inv_scale) */
  scaleX: number;
  scaleY: number;
}

/** `cv2.resize(img, None, fx=r, fy=r)`: size saturate_cast<int>(w*r) (round half to even), step 1/r. */
export function resizeSpecByFactor(srcW: number, srcH: number, fx: number, fy = fx): ResizeSpec {
  return { width: roundHalfEven(srcW * fx), height: roundHalfEven(srcH * fy), scaleX: 1 / fx, scaleY: 1 / fy };
}

/** `cv2.resize(img, (w, h))`: step 1 / (w / srcW). */
export function resizeSpecBySize(srcW: number, srcH: number, width: number, height: number): ResizeSpec {
  return { width, height, scaleX: 1 / (width / srcW), scaleY: 1 / (height / srcH) };
}

export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Per-element horizontal taps (output element x = dx*cn + k reads src[ix0[x]] and src[ix1[x]]).
 * Past `max` OpenCV reads one pixel with weight 1 (the clamped weights are already 1 / 0 there);
 * ix1 then repeats ix0 so no read leaves the row.
 */
function elementTaps(xt: Taps, dw: number, cn: number): { ix0: Int32Array; ix1: Int32Array; a0: Float32Array; a1: Float32Array } {
  const n = dw * cn;
  const ix0 = new Int32Array(n), ix1 = new Int32Array(n), a0 = new Float32Array(n), a1 = new Float32Array(n);
  for (let dx = 0; dx < dw; dx++)
    for (let k = 0; k < cn; k++) {
      const x = dx * cn + k;
      ix0[x] = xt.ofs[dx] * cn + k;
      ix1[x] = dx < xt.max ? ix0[x] + cn : ix0[x];
      a0[x] = xt.w0[dx];
      a1[x] = dx < xt.max ? xt.w1[dx] : 0;
    }
  return { ix0, ix1, a0, a1 };
}

/**
 * Resizes an interleaved float32 image (any channel count) like cv2 INTER_LINEAR on CV_32F.
 * `src` may be the uint8 pixels themselves: `np.float32(img)` is exact, so reading bytes gives
 * the same result without converting the full-size image first.
 */
export function resizeLinearF32(src: Float32Array | Uint8Array, sw: number, sh: number, cn: number, spec: ResizeSpec): Float32Array {
  const { width: dw, height: dh } = spec;
  if (isArea2x(sw, sh, spec)) return area2xF32(src, sw, cn, dw, dh);
  const yt = taps(dh, sh, spec.scaleY, false, false);
  const rowLen = dw * cn;
  const rows = new RowCache([new Float32Array(rowLen), new Float32Array(rowLen)], hresizeF32(src, sw, cn, taps(dw, sw, spec.scaleX, true, false)));
  const fr = Math.fround;
  const out = new Float32Array(dh * rowLen);
  forEachRowPair(yt, sh, rows, (dy, r0, r1, b0, b1) => {
    const o = dy * rowLen;
    for (let x = 0; x < rowLen; x++) out[o + x] = fr(r0[x] * b0) + fr(r1[x] * b1);
  });
  return out;
}

/**
 * The horizontal pass of the float resize as a row filler (HResizeLinear on CV_32F: a*w0 + b*w1
 * in float32). Three channels, the hot path, use per-pixel taps with the channels unrolled; other
 * channel counts per-element taps. Both give the same values.
 */
function hresizeF32(src: Float32Array | Uint8Array, sw: number, cn: number, xt: Taps): (sy: number, r: Float32Array) => void {
  const fr = Math.fround;
  if (cn === 3) {
    const { x0, x1, a0, a1 } = pixelTaps3(xt);
    const dw = x0.length;
    return (sy, r) => {
      const base = sy * sw * 3;
      for (let dx = 0, o = 0; dx < dw; dx++, o += 3) {
        const p = base + x0[dx];
        const q = base + x1[dx];
        const w0 = a0[dx];
        const w1 = a1[dx];
        r[o] = fr(src[p] * w0) + fr(src[q] * w1);
        r[o + 1] = fr(src[p + 1] * w0) + fr(src[q + 1] * w1);
        r[o + 2] = fr(src[p + 2] * w0) + fr(src[q + 2] * w1);
      }
    };
  }
  const { ix0, ix1, a0, a1 } = elementTaps(xt, xt.ofs.length, cn);
  const rowLen = ix0.length;
  return (sy, r) => {
    const base = sy * sw * cn;
    for (let x = 0; x < rowLen; x++) r[x] = fr(src[base + ix0[x]] * a0[x]) + fr(src[base + ix1[x]] * a1[x]);
  };
}

/** Per-plane normalisation written by {@link resizeLinearF32ToCHW}: out = (v - mean) / std. */
export interface PlanarNormalize {
  mean: number[];
  std: number[];
  /** Plane index of each source channel (e.g. [2, 1, 0] to swap R and B on the way). */
  planeOf: [number, number, number];
  /** Use the JS loops even where the WebAssembly kernels are available (tests compare the two). */
  jsOnly?: boolean;
}

/**
 * A 3-channel HWC image (`plane` pixels) to CHW planes of float32((x - mean) / std), each step
 * rounded to float32 like numpy's `(img.astype(float32) - mean) / std`; source channel k goes to
 * plane planeOf[k], whose mean and std apply.
 */
export function hwcToPlanes(hwc: Float32Array | Uint8Array, plane: number, norm: PlanarNormalize, out: Float32Array = new Float32Array(3 * plane)): Float32Array {
  const fr = Math.fround;
  for (let k = 0; k < 3; k++) {
    const p = norm.planeOf[k];
    const o = p * plane;
    const m = fr(norm.mean[p]);
    const s = fr(norm.std[p]);
    if (s === 1) for (let i = 0, j = k; i < plane; i++, j += 3) out[o + i] = hwc[j] - m;
    else for (let i = 0, j = k; i < plane; i++, j += 3) out[o + i] = fr(hwc[j] - m) / s;
  }
  return out;
}

/**
 * The 3-channel float resize fused with the model's input layout: the same arithmetic as
 * {@link resizeLinearF32} (every value rounded to float32 exactly where OpenCV rounds), but each
 * output value goes straight to its CHW plane as float32((v - mean) / std), the way
 * `(img - mean).transpose(2, 0, 1)` does in numpy. Skipping the HWC image, the channel swap and
 * the transpose pass saves most of the preprocessing time at long side 640. A uint8 source runs
 * on the WebAssembly row kernels (cv-resize-wasm.ts), which compute the same float32 operations.
 */
export function resizeLinearF32ToCHW(src: Float32Array | Uint8Array, sw: number, sh: number, spec: ResizeSpec, norm: PlanarNormalize, into?: Float32Array): Float32Array {
  const { width: dw, height: dh } = spec;
  const plane = dw * dh;
  // `into` (when large enough) is reused: a fresh multi-megabyte array per image costs page faults
  const out = into && into.length >= 3 * plane ? into.subarray(0, 3 * plane) : new Float32Array(3 * plane);
  const fr = Math.fround;
  const m = norm.mean.map(fr);
  const sd = norm.std.map(fr);
  const [p0, p1, p2] = norm.planeOf.map((p) => p * plane);
  // mean/std are per model channel (plane); source channel k lands on plane planeOf[k]
  const [m0, m1, m2] = norm.planeOf.map((p) => m[p]);
  // rare shapes / non-unit std: the unfused path, then the same per-value normalisation
  if (isArea2x(sw, sh, spec) || sd.some((v) => v !== 1)) return hwcToPlanes(resizeLinearF32(src, sw, sh, 3, spec), plane, norm, out);
  const yt = taps(dh, sh, spec.scaleY, false, false);
  const xt = taps(dw, sw, spec.scaleX, true, false);
  const wasm = src instanceof Uint8Array && !norm.jsOnly ? resizeKernels() : null;
  if (wasm) return resize3ToPlanesWasm(wasm, src as Uint8Array, sw, sh, dw, dh, xt, yt, norm.planeOf, m, out);
  const rowLen = dw * 3;
  const rows = new RowCache([new Float32Array(rowLen), new Float32Array(rowLen)], hresizeF32(src, sw, 3, xt));
  forEachRowPair(yt, sh, rows, (dy, r0, r1, b0, b1) => {
    const o = dy * dw;
    for (let dx = 0, x = 0; dx < dw; dx++, x += 3) {
      // fr(fr(r0 * b0) + fr(r1 * b1)) is the float32 pixel; minus the float32 mean, rounded on store
      out[p0 + o + dx] = fr(fr(r0[x] * b0) + fr(r1[x] * b1)) - m0;
      out[p1 + o + dx] = fr(fr(r0[x + 1] * b0) + fr(r1[x + 1] * b1)) - m1;
      out[p2 + o + dx] = fr(fr(r0[x + 2] * b0) + fr(r1[x + 2] * b1)) - m2;
    }
  });
  return out;
}

const COEF_SCALE = 2048; // INTER_RESIZE_COEF_SCALE: 11-bit fixed-point weights

/**
 * Resizes an interleaved uint8 image like cv2 INTER_LINEAR on CV_8U, bit-exact with OpenCV 4.x
 * built for x86-64 with 128-bit SIMD (`simdLanes` = 16 bytes per vector).
 */
export function resizeLinearU8(src: Uint8Array, sw: number, sh: number, cn: number, spec: ResizeSpec, simdLanes = 16): Uint8Array {
  const { width: dw, height: dh } = spec;
  if (isArea2x(sw, sh, spec)) return area2xU8(src, sw, cn, dw, dh);
  const yt = taps(dh, sh, spec.scaleY, false, true);
  const et = elementTaps(taps(dw, sw, spec.scaleX, true, true), dw, cn);
  const { ix0, ix1 } = et;
  const ia0 = Int32Array.from(et.a0, (w) => roundHalfEven(w * COEF_SCALE));
  const ia1 = Int32Array.from(et.a1, (w) => roundHalfEven(w * COEF_SCALE));
  const rowLen = dw * cn;
  const rows = new RowCache(
    [new Int32Array(rowLen), new Int32Array(rowLen)],
    (sy, r) => {
      const base = sy * sw * cn;
      for (let x = 0; x < rowLen; x++) r[x] = src[base + ix0[x]] * ia0[x] + src[base + ix1[x]] * ia1[x];
    },
  );
  // The SIMD part of VResizeLinearVec_32s8u: whole 16-byte vectors, then 8-lane steps while
  // x < width - 8 (strict), the rest in scalar code.
  const half = simdLanes >> 1;
  let simdEnd = 0;
  while (simdEnd <= rowLen - simdLanes) simdEnd += simdLanes;
  while (simdEnd < rowLen - half) simdEnd += half;
  const out = new Uint8Array(dh * rowLen);
  forEachRowPair(yt, sh, rows, (dy, r0, r1, w0, w1) => {
    const b0 = roundHalfEven(w0 * COEF_SCALE);
    const b1 = roundHalfEven(w1 * COEF_SCALE);
    const o = dy * rowLen;
    for (let x = 0; x < simdEnd; x++) {
      // v_mul_hi on int16 = arithmetic (a*b) >> 16; v_rshr_pack_u<2> = (v + 2) >> 2 saturated
      const v = (((r0[x] >> 4) * b0) >> 16) + (((r1[x] >> 4) * b1) >> 16);
      out[o + x] = sat8((v + 2) >> 2);
    }
    for (let x = simdEnd; x < rowLen; x++) out[o + x] = sat8((r0[x] * b0 + r1[x] * b1 + (1 << 21)) >> 22);
  });
  return out;
}

const sat8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** OpenCV replaces INTER_LINEAR by INTER_AREA when both axes shrink by exactly 2. */
function isArea2x(sw: number, sh: number, spec: ResizeSpec): boolean {
  const ix = Math.round(spec.scaleX);
  const iy = Math.round(spec.scaleY);
  const fast = Math.abs(spec.scaleX - ix) < Number.EPSILON && Math.abs(spec.scaleY - iy) < Number.EPSILON;
  return fast && ix === 2 && iy === 2 && spec.width * 2 <= sw && spec.height * 2 <= sh;
}

function area2xF32(src: Float32Array | Uint8Array, sw: number, cn: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh * cn);
  const rs = sw * cn;
  for (let y = 0; y < dh; y++)
    for (let x = 0; x < dw; x++)
      for (let k = 0; k < cn; k++) {
        const i = 2 * y * rs + 2 * x * cn + k;
        // resizeAreaFast_ float: (a + b + c + d) * 0.25 in float32
        const s = Math.fround(Math.fround(Math.fround(src[i] + src[i + cn]) + src[i + rs]) + src[i + rs + cn]);
        out[(y * dw + x) * cn + k] = Math.fround(s * 0.25);
      }
  return out;
}

function area2xU8(src: Uint8Array, sw: number, cn: number, dw: number, dh: number): Uint8Array {
  const out = new Uint8Array(dw * dh * cn);
  const rs = sw * cn;
  for (let y = 0; y < dh; y++)
    for (let x = 0; x < dw; x++)
      for (let k = 0; k < cn; k++) {
        const i = 2 * y * rs + 2 * x * cn + k;
        out[(y * dw + x) * cn + k] = (src[i] + src[i + cn] + src[i + rs] + src[i + rs + cn] + 2) >> 2;
      }
  return out;
}
