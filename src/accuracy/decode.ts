/**
 * Box and landmark decoding from raw network offsets and center-form priors, in float32 the way
 * the PyTorch originals compute it (each tensor op rounds to float32; `f` = Math.fround).
 */
const f = Math.fround;

/**
 * The seed's decode() (utils/box_utils.py): center = p.xy + loc.xy * v0 * p.wh,
 * size = p.wh * exp(loc.wh * v1), then corner form. Returns [N*4] normalised x1 y1 x2 y2.
 */
export function decodeRetinaBoxes(loc: Float32Array, priors: Float32Array, variance: [number, number]): Float32Array {
  const n = priors.length / 4;
  const v0 = f(variance[0]);
  const v1 = f(variance[1]);
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const pw = priors[o + 2];
    const ph = priors[o + 3];
    const cx = f(priors[o] + f(f(loc[o] * v0) * pw));
    const cy = f(priors[o + 1] + f(f(loc[o + 1] * v0) * ph));
    const w = f(pw * f(Math.exp(f(loc[o + 2] * v1))));
    const h = f(ph * f(Math.exp(f(loc[o + 3] * v1))));
    const x1 = f(cx - f(w / 2));
    const y1 = f(cy - f(h / 2));
    out[o] = x1;
    out[o + 1] = y1;
    out[o + 2] = f(w + x1);
    out[o + 3] = f(h + y1);
  }
  return out;
}

/** The seed's decode_landm(): point k = p.xy + pre.k * v0 * p.wh. Returns [N*10] normalised. */
export function decodeRetinaLandmarks(pre: Float32Array, priors: Float32Array, variance: [number, number], points = 5): Float32Array {
  const n = priors.length / 4;
  const v0 = f(variance[0]);
  const stride = points * 2;
  const out = new Float32Array(n * stride);
  for (let i = 0; i < n; i++) {
    const p = i * 4;
    for (let k = 0; k < points; k++) {
      const o = i * stride + 2 * k;
      out[o] = f(priors[p] + f(f(pre[o] * v0) * priors[p + 2]));
      out[o + 1] = f(priors[p + 1] + f(f(pre[o + 1] * v0) * priors[p + 3]));
    }
  }
  return out;
}

/**
 * Ultra-Light's convert_locations_to_boxes + center_form_to_corner_form (vision/utils/box_utils.py):
 * center = loc.xy * cv * p.wh + p.xy, size = exp(loc.wh * sv) * p.wh, corners = c ∓ size / 2.
 */
export function decodeUltraLightBoxes(loc: Float32Array, priors: Float32Array, centerVariance: number, sizeVariance: number): Float32Array {
  const n = priors.length / 4;
  const cv = f(centerVariance);
  const sv = f(sizeVariance);
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const cx = f(f(f(loc[o] * cv) * priors[o + 2]) + priors[o]);
    const cy = f(f(f(loc[o + 1] * cv) * priors[o + 3]) + priors[o + 1]);
    const hw = f(f(f(Math.exp(f(loc[o + 2] * sv))) * priors[o + 2]) / 2);
    const hh = f(f(f(Math.exp(f(loc[o + 3] * sv))) * priors[o + 3]) / 2);
    out[o] = f(cx - hw);
    out[o + 1] = f(cy - hh);
    out[o + 2] = f(cx + hw);
    out[o + 3] = f(cy + hh);
  }
  return out;
}
