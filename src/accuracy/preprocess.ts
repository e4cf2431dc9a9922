/**
 * Model input from a decoded image, driven by the manifest entry, reproducing the original
 * pipelines:
 *  - seed (long-side): the BGR image as float32, scale r chosen as the seed's test_widerface.py does,
 *    cv2.resize(img, None, fx=r, fy=r, INTER_LINEAR) on float32, minus the mean, CHW.
 *  - Ultra-Light (fixed): BGR -> RGB uint8, cv2.resize(img, (W, H)) on uint8 (fixed-point), then
 *    (x - mean) / std, CHW.
 */
import type { ModelEntry } from '../models/manifest.js';
import { FdkError } from '../util/errors.js';
import type { BgrImage } from './image.js';
import { resizeLinearF32, resizeLinearU8, resizeSpecByFactor, resizeSpecBySize, roundHalfEven, type ResizeSpec } from './cv-resize.js';

export interface Preprocessed {
  tensor: Float32Array;
  dims: [1, 3, number, number];
  /** Resize factor of the seed pipeline (r), or [sx, sy] = resized/original per axis for fixed resizes. */
  scale: number;
  scaleXY: [number, number];
  resized: { width: number; height: number };
  original: { width: number; height: number };
  /** The resized image before normalisation, HWC in the model's channel order (float32 or uint8). */
  resizedHWC: Float32Array | Uint8Array;
}

export interface PreprocessOptions {
  /** Long side for 'long-side' models (default 320). Fixed-size models ignore it. */
  longSide?: number;
}

/**
 * The seed's scale rule (test_widerface.py): r = target / short side, unless round(r * long side)
 * exceeds the maximum, then r = max / long side; both target and max are the long side here.
 */
export function seedResizeFactor(width: number, height: number, longSide: number): number {
  const min = Math.min(width, height);
  const max = Math.max(width, height);
  let r = longSide / min;
  if (roundHalfEven(r * max) > longSide) r = longSide / max;
  return r;
}

export function preprocess(image: BgrImage, entry: ModelEntry, opts: PreprocessOptions = {}): Preprocessed {
  const { width: w, height: h } = image;
  const rs = entry.input.resize;
  const { mean, std, channelOrder } = entry.preprocess;
  if (rs.mode === 'long-side') {
    const longSide = opts.longSide ?? 320;
    if (!(Number.isInteger(longSide) && longSide > 0)) throw new FdkError(`bad long side ${longSide}: expected a positive integer`);
    const r = seedResizeFactor(w, h, longSide);
    let resized: Float32Array;
    let spec: ResizeSpec = { width: w, height: h, scaleX: 1, scaleY: 1 };
    if (r !== 1) {
      spec = resizeSpecByFactor(w, h, r);
      resized = resizeLinearF32(image.data, w, h, 3, spec);
    } else resized = new Float32Array(image.data); // the seed skips cv2.resize when r == 1
    if ((channelOrder === 'RGB') !== !!image.rgb) swapRB(resized);
    const tensor = toCHW(resized, spec.width, spec.height, mean, std);
    return {
      tensor,
      dims: [1, 3, spec.height, spec.width],
      scale: r,
      scaleXY: [r, r],
      resized: { width: spec.width, height: spec.height },
      original: { width: w, height: h },
      resizedHWC: resized,
    };
  }
  // fixed size, uint8 resize (Ultra-Light)
  const W = rs.width!;
  const H = rs.height!;
  // cvtColor then resize = resize then swap: the resize treats channels independently
  const resized = W === w && H === h ? image.data.slice() : resizeLinearU8(image.data, w, h, 3, resizeSpecBySize(w, h, W, H));
  if ((channelOrder === 'RGB') !== !!image.rgb) swapRB(resized);
  // numpy: image.astype(float32) - mean, then / std, both in float32
  const tensor = toCHW(resized, W, H, mean, std);
  return {
    tensor,
    dims: [1, 3, H, W],
    scale: W / w,
    scaleXY: [W / w, H / h],
    resized: { width: W, height: H },
    original: { width: w, height: h },
    resizedHWC: resized,
  };
}

function swapRB(a: Float32Array | Uint8Array): void {
  for (let i = 0; i < a.length; i += 3) {
    const t = a[i];
    a[i] = a[i + 2];
    a[i + 2] = t;
  }
}

/** HWC -> CHW with (x - mean) / std per channel, each step rounded to float32 like numpy. */
function toCHW(hwc: Float32Array | Uint8Array, w: number, h: number, mean: number[], std: number[]): Float32Array {
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  const fr = Math.fround;
  for (let c = 0; c < 3; c++) {
    const o = c * plane;
    const m = fr(mean[c]);
    const s = fr(std[c]);
    if (s === 1) for (let i = 0, j = c; i < plane; i++, j += 3) out[o + i] = hwc[j] - m;
    else for (let i = 0, j = c; i < plane; i++, j += 3) out[o + i] = fr(hwc[j] - m) / s;
  }
  return out;
}
