/**
 * Every prior / anchor table fdk uses is generated here, from a description's decode parameters:
 * the pipeline's decoding, the builders' baked prior constants and the exporter's output sizes all
 * call these functions (one place, so they cannot drift apart).
 *
 * Prior boxes are in center form [cx, cy, w, h], normalised to the input size. Values are computed
 * in double and stored as float32, exactly as the originals build a Python list and turn it into a
 * float32 tensor.
 */

/** What prior generation needs (the prior family's parameters). */
export interface PriorConfig {
  /** retinaface: the seed's PriorBox; ultra-light: Linzaer's generate_priors (same boxes, other rounding). */
  variant: 'retinaface' | 'ultra-light';
  minSizes: number[][];
  steps: number[];
  clip: boolean;
}

/** Number of priors for an input of height x width: ceil(size / step) feature maps. */
export function priorCount(cfg: Pick<PriorConfig, 'minSizes' | 'steps'>, height: number, width: number): number {
  let n = 0;
  cfg.steps.forEach((step, k) => (n += Math.ceil(height / step) * Math.ceil(width / step) * cfg.minSizes[k].length));
  return n;
}

/**
 * The seed's PriorBox (layers/functions/prior_box.py): feature maps ceil(H/step) x ceil(W/step),
 * row-major over (i, j), then min sizes; not clipped unless the config says so.
 */
export function retinaPriors(cfg: Pick<PriorConfig, 'minSizes' | 'steps' | 'clip'>, height: number, width: number): Float32Array {
  // sized up front and written in place (each image size is new work: no intermediate number[])
  const p = new Float32Array(priorCount(cfg, height, width) * 4);
  let o = 0;
  cfg.steps.forEach((step, k) => {
    const fh = Math.ceil(height / step);
    const fw = Math.ceil(width / step);
    const sizes = cfg.minSizes[k];
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
 * clamped to [0, 1] in float32 when `clip`.
 */
export function ultraLightPriors(cfg: Pick<PriorConfig, 'minSizes' | 'steps' | 'clip'>, height: number, width: number): Float32Array {
  const out: number[] = [];
  cfg.steps.forEach((stride, k) => {
    const fw = Math.ceil(width / stride);
    const fh = Math.ceil(height / stride);
    // fd_config: shrinkage = size / feature map, then scale = size / shrinkage (≈ the map size)
    const scaleW = width / (width / fw);
    const scaleH = height / (height / fh);
    for (let j = 0; j < fh; j++)
      for (let i = 0; i < fw; i++)
        for (const b of cfg.minSizes[k]) out.push((i + 0.5) / scaleW, (j + 0.5) / scaleH, b / width, b / height);
  });
  const p = Float32Array.from(out);
  if (cfg.clip) for (let i = 0; i < p.length; i++) p[i] = Math.min(1, Math.max(0, p[i]));
  return p;
}

/** Cache: the same input size recurs across a dataset (fixed-size models always). */
const cache = new Map<string, Float32Array>();

export function priorsFor(cfg: PriorConfig, height: number, width: number): Float32Array {
  const key = `${cfg.variant}|${JSON.stringify(cfg.minSizes)}|${cfg.steps}|${cfg.clip}|${height}x${width}`;
  let p = cache.get(key);
  if (!p) {
    p = cfg.variant === 'retinaface' ? retinaPriors(cfg, height, width) : ultraLightPriors(cfg, height, width);
    if (cache.size > 256) cache.clear();
    cache.set(key, p);
  }
  return p;
}

/** What an anchor-free grid needs (the grid family's parameters). */
export interface GridConfig {
  strides: number[];
  anchorsPerCell: number;
  /** Cell centre offset in strides: 0 (SCRFD: anchor at the cell corner) or 0.5 (FCOS / YOLO). */
  centerOffset: number;
}

export function gridCount(cfg: GridConfig, height: number, width: number): number {
  return cfg.strides.reduce((n, s) => n + Math.ceil(height / s) * Math.ceil(width / s) * cfg.anchorsPerCell, 0);
}

/**
 * Anchor points of an anchor-free detector, in input pixels: rows [cx, cy, stride], level by level,
 * row-major over the ceil(H/s) x ceil(W/s) map, `anchorsPerCell` copies per cell (SCRFD's layout).
 */
export function gridAnchors(cfg: GridConfig, height: number, width: number): Float64Array {
  const out = new Float64Array(gridCount(cfg, height, width) * 3);
  let o = 0;
  for (const s of cfg.strides) {
    const fh = Math.ceil(height / s);
    const fw = Math.ceil(width / s);
    for (let i = 0; i < fh; i++)
      for (let j = 0; j < fw; j++)
        for (let a = 0; a < cfg.anchorsPerCell; a++) {
          out[o++] = (j + cfg.centerOffset) * s;
          out[o++] = (i + cfg.centerOffset) * s;
          out[o++] = s;
        }
  }
  return out;
}
