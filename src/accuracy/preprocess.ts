/**
 * Model input from a decoded image, driven by the model description (input.resize, preprocess),
 * reproducing the original pipelines:
 *  - long-side / short-side (seed): the BGR image as float32, scale r chosen as the seed's
 *    test_widerface.py does, cv2.resize(img, None, fx=r, fy=r, INTER_LINEAR) on float32, minus the
 *    mean, CHW.
 *  - fixed (Ultra-Light): BGR -> RGB uint8, cv2.resize(img, (W, H)) on uint8 (fixed-point), then
 *    (x - mean) / std, CHW.
 */
import type { ModelDescription } from '../models/description.js';
import { FdkError } from '../util/errors.js';
import type { BgrImage } from './image.js';
import { hwcToPlanes, resizeLinearF32, resizeLinearF32ToCHW, resizeLinearU8, resizeSpecByFactor, resizeSpecBySize, roundHalfEven, type ResizeSpec } from './cv-resize.js';

export interface Preprocessed {
  tensor: Float32Array;
  dims: [1, 3, number, number];
  /** Resize factor of the seed pipeline (r), or [sx, sy] = resized/original per axis for fixed resizes. */
  scale: number;
  scaleXY: [number, number];
  resized: { width: number; height: number };
  original: { width: number; height: number };
  /**
   * The resized image before normalisation, HWC in the model's channel order (float32 or uint8).
   * The seed path computes it on access only: the tensor is resized straight into CHW.
   */
  readonly resizedHWC: Float32Array | Uint8Array;
}

export interface PreprocessOptions {
  /** Long side for 'long-side' models (default 320). Fixed-size models ignore it. */
  longSide?: number;
  /**
   * A buffer the caller reuses across images (the Detector runs one image at a time): the seed
   * tensor is then a view into `scratch.tensor`, valid until the next call with the same scratch.
   * Saves allocating (and page-faulting) a fresh ~4 MB array per image at long side 640.
   */
  scratch?: { tensor?: Float32Array };
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

/** short-side rule: r = size / short side, unless round(r * long side) > max, then r = max / long side. */
export function shortSideResizeFactor(width: number, height: number, size: number, max: number): number {
  let r = size / Math.min(width, height);
  if (roundHalfEven(r * Math.max(width, height)) > max) r = max / Math.max(width, height);
  return r;
}

export function preprocess(image: BgrImage, desc: ModelDescription, opts: PreprocessOptions = {}): Preprocessed {
  const { width: w, height: h } = image;
  const rs = desc.input.resize;
  const { mean, std, channelOrder } = desc.preprocess;
  if (rs.mode !== 'fixed') {
    const longSide = opts.longSide ?? rs.size ?? 320;
    if (!(Number.isInteger(longSide) && longSide > 0)) throw new FdkError(`bad long side ${longSide}: expected a positive integer`);
    const r = rs.mode === 'long-side' ? seedResizeFactor(w, h, longSide) : shortSideResizeFactor(w, h, rs.size!, rs.max!);
    const swap = (channelOrder === 'RGB') !== !!image.rgb;
    let spec: ResizeSpec = { width: w, height: h, scaleX: 1, scaleY: 1 };
    let tensor: Float32Array;
    // the resized HWC image (model channel order), only built when someone asks for it (tests, debugging)
    let hwc: () => Float32Array;
    if (r !== 1) {
      spec = resizeSpecByFactor(w, h, r);
      checkResizedSize(spec.width, spec.height, image); // no zero-width input for the runtime
      const s = spec;
      const scratch = opts.scratch;
      if (scratch && (scratch.tensor?.length ?? 0) < 3 * s.width * s.height) scratch.tensor = new Float32Array(3 * s.width * s.height);
      tensor = resizeLinearF32ToCHW(image.data, w, h, s, { mean, std, planeOf: swap ? [2, 1, 0] : [0, 1, 2] }, scratch?.tensor);
      hwc = () => {
        const out = resizeLinearF32(image.data, w, h, 3, s);
        if (swap) swapRB(out);
        return out;
      };
    } else {
      // the seed skips cv2.resize when r == 1
      const out = new Float32Array(image.data);
      if (swap) swapRB(out);
      tensor = hwcToPlanes(out, w * h, { mean, std, planeOf: [0, 1, 2] });
      hwc = () => out;
    }
    return {
      tensor,
      dims: [1, 3, spec.height, spec.width],
      scale: r,
      scaleXY: [r, r],
      resized: { width: spec.width, height: spec.height },
      original: { width: w, height: h },
      get resizedHWC() {
        return hwc();
      },
    };
  }
  // fixed size: uint8 resize (Ultra-Light), or float32
  const W = rs.width!;
  const H = rs.height!;
  // cvtColor then resize = resize then swap: the resize treats channels independently
  const same = W === w && H === h;
  const resized = rs.pixelType === 'uint8'
    ? (same ? image.data.slice() : resizeLinearU8(image.data, w, h, 3, resizeSpecBySize(w, h, W, H)))
    : (same ? new Float32Array(image.data) : resizeLinearF32(image.data, w, h, 3, resizeSpecBySize(w, h, W, H)));
  if ((channelOrder === 'RGB') !== !!image.rgb) swapRB(resized);
  // numpy: image.astype(float32) - mean, then / std, both in float32
  const tensor = hwcToPlanes(resized, W * H, { mean, std, planeOf: [0, 1, 2] });
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

/**
 * A resized image must keep at least one pixel per side (the runtime would fail without a name).
 * Kept here, not in util/limits.ts: this module also runs in the demo page, which has no node:os.
 */
export function checkResizedSize(width: number, height: number, src: { width: number; height: number }): void {
  if (!(width >= 1 && height >= 1))
    throw new FdkError(`image ${src.width}x${src.height} resizes to ${width}x${height} at this size: a side would be empty (image too narrow for the long side)`);
}
