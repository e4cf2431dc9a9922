/**
 * Activation thresholds from calibration statistics, one function per method. Each turns the
 * statistics of one blob (the input of one quantizable layer, over all calibration images) into a
 * clipping threshold T; the int8 scale is then 127 / T (ncnn quantizes x to round(x * scale)).
 *
 *  - kl:         ncnn2table's entropy calibration: 2048-bin histogram of |x| over [0, absmax]
 *                (zeros not counted), every threshold bin from 128 to 2047 tried, the one whose
 *                128-level quantized distribution has the least KL divergence from the clipped
 *                one wins; T = (bin + 0.5) * absmax / 2048.
 *  - aciq:       ncnn2table's ACIQ: the Gaussian clip for 8 bits from absmax and the element count.
 *  - minmax:     T = absmax (no clipping).
 *  - percentile: T = the 99.99th percentile of |x| (zeros not counted), read off the histogram.
 *  - eq:         ncnn2table's eq: starts from kl's T here; quantize.ts then searches each layer's
 *                scale on real ncnn (eq-search.ts), which needs the model, not only the statistics.
 */
export const HISTOGRAM_BINS = 2048;
export const KL_TARGET_BINS = 128;
export const PERCENTILE = 99.99;

export const CALIB_METHODS = ['kl', 'aciq', 'minmax', 'percentile', 'eq'] as const;
export type CalibMethod = (typeof CALIB_METHODS)[number];
/**
 * fdk's default (ncnn2table's is kl): on val-mini at 320, percentile lost the least AP on average
 * over the three seed models (kl was better only for mnet0.25); `npm run bench:int8`, docs/int8.md.
 */
export const DEFAULT_METHOD: CalibMethod = 'percentile';

export interface BlobStats {
  /** max |x| over all calibration images. */
  absmax: number;
  /** Elements of the blob for one image (ACIQ's N; images of different sizes: the mean). */
  total: number;
  /** HISTOGRAM_BINS counts of |x| / absmax (x = 0 not counted), as ncnn2table builds it. */
  histogram: number[];
}

/** ncnn2table's KL threshold search; returns the winning bin (128..2047). */
export function klThresholdBin(histogram: number[]): number {
  const n = histogram.length;
  const sum = histogram.reduce((a, b) => a + b, 0);
  if (sum === 0) return n - 1;
  const h = histogram.map((v) => v / sum);
  const target = KL_TARGET_BINS;
  const eps = 0.0001;
  let best = target;
  let minKl = Infinity;
  for (let threshold = target; threshold < n; threshold++) {
    // the clipped distribution: everything beyond the threshold folded into the last bin
    const clip = new Float64Array(threshold).fill(eps);
    for (let j = 0; j < threshold; j++) clip[j] += h[j];
    for (let j = threshold; j < n; j++) clip[threshold - 1] += h[j];
    // quantize the first `threshold` bins into `target` levels (fractional bin edges), then expand back
    const perBin = threshold / target;
    const quant = new Float64Array(target);
    const expand = new Float64Array(threshold).fill(eps);
    for (let j = 0; j < target; j++) {
      const start = j * perBin;
      const end = j === target - 1 ? threshold : (j + 1) * perBin;
      const leftUpper = Math.ceil(start);
      const leftScale = leftUpper - start;
      const rightLower = Math.floor(end);
      const rightScale = end - rightLower;
      let q = 0;
      if (j > 0 && leftScale > 0) q += leftScale * h[leftUpper - 1];
      if (j < target - 1 && rightScale > 0) q += rightScale * h[rightLower];
      for (let k = j === 0 ? 0 : leftUpper; k < rightLower; k++) q += h[k];
      const width = (rightLower - (j === 0 ? 0 : leftUpper)) + (j > 0 ? leftScale : 0) + (j < target - 1 ? rightScale : 0);
      q /= width;
      quant[j] = q;
      if (j > 0 && leftScale > 0) expand[leftUpper - 1] += leftScale * q;
      if (j < target - 1 && rightScale > 0) expand[rightLower] += rightScale * q;
      for (let k = j === 0 ? 0 : leftUpper; k < rightLower; k++) expand[k] += q;
    }
    let kl = 0;
    for (let i = 0; i < threshold; i++) kl += clip[i] * Math.log(clip[i] / expand[i]);
    if (kl < minKl) {
      minKl = kl;
      best = threshold;
    }
  }
  return best;
}

/** ncnn2table's Gaussian ACIQ clip for `bits` bits. */
export function aciqClip(absmax: number, n: number, bits = 8): number {
  const alpha = [0, 1.71063519, 2.15159277, 2.55913646, 2.93620062, 3.28691474, 3.6151146, 3.92403714];
  const gaussianConst = 0.5 * 0.35 * (1 + Math.sqrt(Math.PI * Math.log(4)));
  const std = (absmax * 2 * gaussianConst) / Math.sqrt(2 * Math.log(n));
  return alpha[bits - 1] * std;
}

/** The |x| below which `p` percent of the non-zero values lie (upper edge of that histogram bin). */
export function percentileThreshold(histogram: number[], absmax: number, p = PERCENTILE): number {
  const sum = histogram.reduce((a, b) => a + b, 0);
  if (sum === 0) return absmax;
  const want = (sum * p) / 100;
  let acc = 0;
  for (let i = 0; i < histogram.length; i++) {
    acc += histogram[i];
    if (acc >= want) return ((i + 1) * absmax) / histogram.length;
  }
  return absmax;
}

export function activationThreshold(s: BlobStats, method: CalibMethod): number {
  switch (method) {
    case 'kl':
    case 'eq':
      return ((klThresholdBin(s.histogram) + 0.5) * s.absmax) / s.histogram.length;
    case 'aciq':
      return Math.min(s.absmax, aciqClip(s.absmax, Math.max(2, s.total)));
    case 'minmax':
      return s.absmax;
    case 'percentile':
      return percentileThreshold(s.histogram, s.absmax);
  }
}

/** 127 / threshold; a blob that is all zeros on the calibration set gets scale 1 (any scale works). */
export function activationScale(s: BlobStats, method: CalibMethod): { threshold: number; scale: number } {
  const threshold = activationThreshold(s, method);
  return { threshold, scale: threshold > 0 ? 127 / threshold : 1 };
}
