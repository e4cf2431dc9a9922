/**
 * WIDER FACE evaluation, equal to the WiderFace-Evaluation Python code (and, with
 * protocol 'matlab', to the official MATLAB tools' read_pred.m + evaluation.m):
 *   - scores min-max normalised over every prediction taking part;
 *   - per image, each prediction (in file order) takes the ground-truth face of highest IoU
 *     (+1 pixel convention, first index on ties); at IoU >= 0.5 a kept face is recalled once,
 *     an ignored face swallows the prediction (neither true nor false positive);
 *   - 1000 score thresholds 1 - (t+1)/1000; at each, an image contributes the proposal count and
 *     recall count of its LAST prediction (in file order) whose score passes the threshold;
 *   - VOC all-point AP over the summed curve.
 *
 * Speed: the Python code loops 1000 thresholds per image and per difficulty. Here each prediction
 * gets the first threshold it passes once, and an image's contribution, a step function of the
 * threshold, is added to a difference array in O(predictions). All sums are integer counts, so
 * the result is identical, not just close. IoUs are computed once per image and shared by the
 * three difficulties (only the ignore flags differ).
 */
import { DIFFICULTIES, type Difficulty, type WiderGroundTruth } from './ground-truth.js';
import type { PredBoxes } from './predictions.js';

export const THRESHOLDS = 1000;
export const IOU_THRESHOLD = 0.5;
export type Protocol = 'python' | 'matlab';

export interface PrCurve {
  /** Index t is score threshold 1 - (t+1)/1000 (descending). NaN where nothing passes (null in JSON). */
  precision: number[];
  recall: number[];
}

export interface EvalCore {
  ap: Record<Difficulty, number>;
  pr: Record<Difficulty, PrCurve>;
  /** Faces that count per difficulty (the recall denominator). */
  faces: Record<Difficulty, number>;
  /** Images evaluated. */
  images: number;
  /** Predictions taking part in score normalisation, and the min/max used. */
  normalisation: { predictions: number; min: number; max: number };
}

/** The score thresholds, computed exactly as the evaluators do (1 - (t+1)/N in float64). */
const THRESH = Float64Array.from({ length: THRESHOLDS }, (_, t) => 1 - (t + 1) / THRESHOLDS);

/** First threshold index t with score >= THRESH[t]; THRESHOLDS if none (e.g. NaN). */
function firstPassingThreshold(score: number): number {
  if (!(score >= THRESH[THRESHOLDS - 1])) return THRESHOLDS;
  let lo = 0;
  let hi = THRESHOLDS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (score >= THRESH[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * numpy's float64 add-reduction (pairwise summation, 8 accumulators, blocks of 128), so that AP
 * sums in the same order as np.sum does.
 */
export function numpyPairwiseSum(a: ArrayLike<number>, start = 0, n = a.length): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpyPairwiseSum(a, start, n2) + numpyPairwiseSum(a, start + n2, n - n2);
}

/**
 * VOC all-point AP. Python: precision envelope with np.maximum (NaN propagates), np.sum.
 * MATLAB: max() skips NaN, sum in order. Both only differ on degenerate curves.
 */
export function vocAp(rec: ArrayLike<number>, prec: ArrayLike<number>, protocol: Protocol = 'python'): number {
  const n = rec.length + 2;
  const mrec = new Float64Array(n);
  const mpre = new Float64Array(n);
  mrec[n - 1] = 1;
  for (let i = 0; i < rec.length; i++) {
    mrec[i + 1] = rec[i];
    mpre[i + 1] = prec[i];
  }
  for (let i = n - 1; i > 0; i--) {
    const a = mpre[i - 1];
    const b = mpre[i];
    if (protocol === 'python') mpre[i - 1] = Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b);
    else mpre[i - 1] = Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b);
  }
  const terms: number[] = [];
  for (let i = 0; i < n - 1; i++) if (mrec[i + 1] !== mrec[i]) terms.push((mrec[i + 1] - mrec[i]) * mpre[i + 1]);
  if (protocol === 'python') return numpyPairwiseSum(terms);
  let s = 0;
  for (const t of terms) s += t;
  return s;
}

/**
 * For each prediction: the highest IoU with any ground-truth face and its index (first on ties),
 * as bbox_overlaps (+1 convention, float64) followed by row max/argmax. A NaN IoU (degenerate
 * boxes) makes numpy's max NaN, which never passes the threshold: marked with index -1.
 *
 * Only the result at IoU >= 0.5 matters (below it nothing happens), so faces that cannot reach
 * 0.5 are skipped: with positive widths, IoU >= 0.5 needs intersection >= (Ap + Ag)/3, hence
 * iw >= Wg/3 and Wg <= 3·Wp, which bounds the face's x1 to [px1 - 2·Wp, px2 + 1] (we widen it by
 * 1 against rounding). Faces are sorted by x1 and scanned only in that window; among candidates
 * the max and its lowest original index are exactly what the full scan gives. Degenerate or
 * non-finite boxes take the full scan.
 */
function bestOverlaps(pred: PredBoxes, n: number, gt: Float64Array, g: number): { best: Float64Array; idx: Int32Array } {
  const best = new Float64Array(n);
  const idx = new Int32Array(n);
  const qx1 = new Float64Array(g), qy1 = new Float64Array(g), qx2 = new Float64Array(g), qy2 = new Float64Array(g), qa = new Float64Array(g);
  let gtRegular = true;
  for (let k = 0; k < g; k++) {
    qx1[k] = gt[k * 4];
    qy1[k] = gt[k * 4 + 1];
    qx2[k] = gt[k * 4 + 2] + gt[k * 4];
    qy2[k] = gt[k * 4 + 3] + gt[k * 4 + 1];
    qa[k] = (qx2[k] - qx1[k] + 1) * (qy2[k] - qy1[k] + 1);
    if (!(qx2[k] - qx1[k] + 1 > 0 && qy2[k] - qy1[k] + 1 > 0 && Number.isFinite(qa[k]))) gtRegular = false;
  }
  // Faces in x1 order, for the candidate window.
  const order = Int32Array.from({ length: g }, (_, k) => k).sort((a, b) => qx1[a] - qx1[b] || a - b);
  const sortedX1 = Float64Array.from(order, (k) => qx1[k]);

  const overlap = (k: number, px1: number, py1: number, px2: number, py2: number, parea: number): number => {
    const iw = Math.min(px2, qx2[k]) - Math.max(px1, qx1[k]) + 1;
    if (iw > 0) {
      const ih = Math.min(py2, qy2[k]) - Math.max(py1, qy1[k]) + 1;
      if (ih > 0) {
        const ua = parea + qa[k] - iw * ih;
        return (iw * ih) / ua;
      }
    }
    return 0;
  };

  for (let h = 0; h < n; h++) {
    const px1 = pred[h * 5], py1 = pred[h * 5 + 1];
    const px2 = pred[h * 5 + 2] + px1, py2 = pred[h * 5 + 3] + py1;
    const pw = px2 - px1 + 1;
    const parea = pw * (py2 - py1 + 1);
    let m = -Infinity;
    let mi = 0;
    let nan = false;
    const regular = gtRegular && pw > 0 && py2 - py1 + 1 > 0 && Number.isFinite(parea) && Number.isFinite(px1) && Number.isFinite(py1);
    if (regular) {
      const lo = px1 - 2 * pw - 1;
      const hi = px2 + 2;
      // First face with x1 >= lo.
      let a = 0, b = g;
      while (a < b) {
        const mid = (a + b) >> 1;
        if (sortedX1[mid] < lo) a = mid + 1;
        else b = mid;
      }
      m = 0; // faces outside the window overlap < 0.5; only a value >= 0.5 is ever used
      for (let s = a; s < g && sortedX1[s] <= hi; s++) {
        const k = order[s];
        // overlap() inlined: this loop runs about a million times on full val
        let o = 0;
        const iw = Math.min(px2, qx2[k]) - Math.max(px1, qx1[k]) + 1;
        if (iw > 0) {
          const ih = Math.min(py2, qy2[k]) - Math.max(py1, qy1[k]) + 1;
          if (ih > 0) o = (iw * ih) / (parea + qa[k] - iw * ih);
        }
        if (o > m || (o === m && o > 0 && k < mi)) {
          m = o;
          mi = k;
        }
      }
    } else {
      for (let k = 0; k < g; k++) {
        const o = overlap(k, px1, py1, px2, py2, parea);
        if (Number.isNaN(o)) nan = true;
        if (o > m) {
          m = o;
          mi = k;
        }
      }
    }
    best[h] = nan ? NaN : m;
    idx[h] = nan ? -1 : mi;
  }
  return { best, idx };
}

/** Min-max normalisation bounds as each protocol initialises them (Python: max 0, min 1; MATLAB: single realmin/realmax). */
function scoreBounds(sets: Iterable<PredBoxes>, protocol: Protocol): { min: number; max: number; predictions: number } {
  let max = protocol === 'python' ? 0 : 1.1754943508222875e-38;
  let min = protocol === 'python' ? 1 : 3.4028234663852886e38;
  let predictions = 0;
  for (const b of sets) {
    const n = b.length / 5;
    if (n === 0) continue;
    predictions += n;
    let lo = b[4];
    let hi = b[4];
    for (let i = 1; i < n; i++) {
      const s = b[i * 5 + 4];
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    if (hi > max) max = hi;
    if (lo < min) min = lo;
  }
  return { min, max, predictions };
}

/** Stable sort of an image's boxes by descending score (MATLAB read_pred.m's sort(..., 'descend')). */
function sortByScore(b: PredBoxes): PredBoxes {
  const n = b.length / 5;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((i, j) => b[j * 5 + 4] - b[i * 5 + 4] || i - j);
  const out = new Float64Array(b.length);
  order.forEach((src, dst) => out.set(b.subarray(src * 5, src * 5 + 5), dst * 5));
  return out;
}

export interface EvalInput {
  gt: WiderGroundTruth;
  /** `event/name` -> boxes (x, y, w, h, raw score). Images without an entry have no detections. */
  preds: Map<string, PredBoxes>;
  /** Images that count, in any order; default all ground-truth images. */
  images?: Iterable<string>;
  /** Predictions taking part in score normalisation; default those of `images`. */
  normaliseOver?: Iterable<string>;
  protocol?: Protocol;
}

/** Evaluates predictions against the ground truth: AP and PR curve per difficulty. */
export function evaluatePredictions(input: EvalInput): EvalCore {
  const protocol = input.protocol ?? 'python';
  const { gt, preds } = input;
  const selected = input.images ? new Set(input.images) : undefined;
  // Evaluate in ground-truth order, like the reference code (order does not change integer sums).
  const images = selected ? gt.images.filter((im) => selected.has(im.key)) : gt.images;
  const normKeys = input.normaliseOver ? [...input.normaliseOver] : images.map((im) => im.key);
  const bounds = scoreBounds(normKeys.map((k) => preds.get(k)).filter((b): b is PredBoxes => !!b), protocol);
  const diff = bounds.max - bounds.min;

  // Difference arrays over thresholds: proposals and recalled faces, per difficulty.
  const dP = DIFFICULTIES.map(() => new Float64Array(THRESHOLDS + 1));
  const dR = DIFFICULTIES.map(() => new Float64Array(THRESHOLDS + 1));
  const faces = DIFFICULTIES.map(() => 0);

  for (const im of images) {
    DIFFICULTIES.forEach((d, di) => (faces[di] += im.keep[d].length));
    const raw = preds.get(im.key);
    if (!raw || raw.length === 0 || im.faces === 0) continue;
    const boxes = protocol === 'matlab' ? sortByScore(raw) : raw;
    const n = boxes.length / 5;
    // Normalised scores -> first passing threshold of each prediction.
    const tStart = new Int32Array(n);
    for (let h = 0; h < n; h++) tStart[h] = firstPassingThreshold((boxes[h * 5 + 4] - bounds.min) / diff);
    const { best, idx } = bestOverlaps(boxes, n, im.boxes, im.faces);

    const recallState = new Int8Array(im.faces);
    const kept = new Uint8Array(im.faces);
    const cumProposals = new Int32Array(n);
    const predRecall = new Int32Array(n);
    DIFFICULTIES.forEach((d, di) => {
      recallState.fill(0);
      kept.fill(0);
      for (const k of im.keep[d]) kept[k] = 1;
      let recalled = 0;
      let proposals = 0;
      for (let h = 0; h < n; h++) {
        let isProposal = true;
        if (best[h] >= IOU_THRESHOLD) {
          const k = idx[h];
          if (!kept[k]) {
            recallState[k] = -1;
            isProposal = false;
          } else if (recallState[k] === 0) {
            recallState[k] = 1;
            recalled++;
          }
        }
        if (isProposal) proposals++;
        cumProposals[h] = proposals;
        predRecall[h] = recalled;
      }
      // At threshold t the image contributes the counts at its last prediction passing t:
      // walking back from the end, each new minimum of tStart opens a step [tStart, previous min).
      const p = dP[di];
      const r = dR[di];
      let until = THRESHOLDS;
      for (let h = n - 1; h >= 0 && until > 0; h--) {
        const t = tStart[h];
        if (t >= until) continue;
        p[t] += cumProposals[h];
        p[until] -= cumProposals[h];
        r[t] += predRecall[h];
        r[until] -= predRecall[h];
        until = t;
      }
    });
  }

  const ap = {} as Record<Difficulty, number>;
  const pr = {} as Record<Difficulty, PrCurve>;
  const facesOut = {} as Record<Difficulty, number>;
  DIFFICULTIES.forEach((d, di) => {
    const precision: number[] = new Array(THRESHOLDS);
    const recall: number[] = new Array(THRESHOLDS);
    let props = 0;
    let hits = 0;
    for (let t = 0; t < THRESHOLDS; t++) {
      props += dP[di][t];
      hits += dR[di][t];
      precision[t] = hits / props;
      recall[t] = hits / faces[di];
    }
    ap[d] = vocAp(recall, precision, protocol);
    pr[d] = { precision, recall };
    facesOut[d] = faces[di];
  });
  return { ap, pr, faces: facesOut, images: images.length, normalisation: bounds };
}
