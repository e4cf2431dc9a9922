/**
 * Anchor (prior) boxes in center form [cx, cy, w, h], normalised to the input size, from the
 * manifest's anchor settings. Values are computed in double and stored as float32, exactly as the
 * originals build a Python list and turn it into a float32 tensor.
 */
import type { RetinaAnchors, UltraLightAnchors } from '../models/manifest.js';

/**
 * The seed's PriorBox (layers/functions/prior_box.py): feature maps ceil(H/step) x ceil(W/step),
 * row-major over (i, j), then min sizes; not clipped unless the config says so.
 */
export function retinaPriors(cfg: RetinaAnchors, height: number, width: number): Float32Array {
  // sized up front and written in place (each image size is new work: no intermediate number[])
  let count = 0;
  cfg.steps.forEach((step, k) => (count += Math.ceil(height / step) * Math.ceil(width / step) * cfg.min_sizes[k].length));
  const p = new Float32Array(count * 4);
  let o = 0;
  cfg.steps.forEach((step, k) => {
    const fh = Math.ceil(height / step);
    const fw = Math.ceil(width / step);
    const sizes = cfg.min_sizes[k];
    for (let i = 0; i < fh; i++) {
      const cy = ((i + 0.5) * step) / height;
      for (let j = 0; j < fw; j++) {
        // same association as the Python: x * step / W
        const cx = ((j + 0.5) * step) / width;
        for (const m of sizes) {
          p[o++] = cx;
          p[o++] = cy;
          p[o++] = m / width;
          p[o++] = m / height;
        }
      }
    }
  });
  if (cfg.clip) for (let i = 0; i < p.length; i++) p[i] = Math.min(1, Math.max(0, p[i]));
  return p;
}

/**
 * Ultra-Light's generate_priors (vision/utils/box_utils.py with fd_config): for each level with a
 * ceil(size / stride) feature map, center (i + 0.5) / scale over rows j then columns i, then min boxes;
 * clamped to [0, 1] in float32.
 */
export function ultraLightPriors(cfg: UltraLightAnchors, width = cfg.imageSize[0], height = cfg.imageSize[1]): Float32Array {
  const out: number[] = [];
  cfg.strides.forEach((stride, k) => {
    const fw = Math.ceil(width / stride);
    const fh = Math.ceil(height / stride);
    // fd_config: shrinkage = size / feature map, then scale = size / shrinkage (≈ the map size)
    const scaleW = width / (width / fw);
    const scaleH = height / (height / fh);
    for (let j = 0; j < fh; j++)
      for (let i = 0; i < fw; i++)
        for (const b of cfg.min_boxes[k]) out.push((i + 0.5) / scaleW, (j + 0.5) / scaleH, b / width, b / height);
  });
  const p = Float32Array.from(out);
  if (cfg.clip) for (let i = 0; i < p.length; i++) p[i] = Math.min(1, Math.max(0, p[i]));
  return p;
}

/** Cache: the same input size recurs across a dataset (the Ultra-Light size is fixed). */
const cache = new Map<string, Float32Array>();

export function priorsFor(anchors: RetinaAnchors | UltraLightAnchors, height: number, width: number): Float32Array {
  const key = `${JSON.stringify(anchors)}|${height}x${width}`;
  let p = cache.get(key);
  if (!p) {
    p = anchors.kind === 'retinaface' ? retinaPriors(anchors, height, width) : ultraLightPriors(anchors, width, height);
    if (cache.size > 256) cache.clear();
    cache.set(key, p);
  }
  return p;
}
