/**
 * Detection-level parity: after the model's own postprocessing (fdk's pipeline, src/accuracy),
 * detections of two runtimes are matched greedily by IoU (best score first) and the score and box
 * deltas of matched pairs are reported. Low-score detections come and go with 1e-6 changes: at the
 * score threshold, at the pre-NMS candidate cut and the top-k cut (Ultra-Light keeps the best 800
 * candidates and 400 boxes, many of them at nearly equal scores ~0.105). So a detection without a
 * partner fails parity only when it is confident: score > max(threshold, confidentScore) + scoreTol,
 * and score / box deltas are held to tolerance only for pairs with a confident score (a low-score box
 * whose twin was suppressed matches a neighbour). All deltas and unmatched boxes are still reported.
 */
export interface Det {
  box: [number, number, number, number];
  score: number;
}

export interface DetectionDiff {
  a: number;
  b: number;
  matched: number;
  unmatchedA: number;
  unmatchedB: number;
  /** Unmatched confident detections (score > max(threshold, confidentScore) + scoreTol): these fail parity. */
  unmatchedSignificant: number;
  /** Over all matched pairs (low-score pairs included: NMS flips among near-duplicates show here). */
  maxScoreDelta: number;
  /** Largest coordinate difference of matched boxes, in original-image pixels. */
  maxBoxDelta: number;
  minIoU: number;
  /** Matched pairs where either score is confident: these decide `ok` with the unmatched count. */
  confidentMatched: number;
  confidentMaxScoreDelta: number;
  confidentMaxBoxDelta: number;
  ok: boolean;
}

export function iou(a: Det['box'], b: Det['box']): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return ua > 0 ? inter / ua : 0;
}

export function compareDetections(
  A: Det[],
  B: Det[],
  opts: { iouMin?: number; scoreThreshold: number; confidentScore?: number; scoreTol?: number; boxTol?: number },
): DetectionDiff {
  const iouMin = opts.iouMin ?? 0.5;
  const scoreTol = opts.scoreTol ?? 1e-3;
  const boxTol = opts.boxTol ?? 0.5;
  const order = A.map((_, i) => i).sort((i, j) => A[j].score - A[i].score);
  const usedB = new Uint8Array(B.length);
  let matched = 0;
  let maxScoreDelta = 0;
  let maxBoxDelta = 0;
  let minIoU = 1;
  let confMatched = 0;
  let confScore = 0;
  let confBox = 0;
  const level = Math.max(opts.scoreThreshold, opts.confidentScore ?? 0.5) + scoreTol;
  const unmatchedA: Det[] = [];
  for (const i of order) {
    let best = -1;
    let bestIoU = iouMin;
    for (let j = 0; j < B.length; j++) {
      if (usedB[j]) continue;
      const v = iou(A[i].box, B[j].box);
      if (v >= bestIoU) {
        bestIoU = v;
        best = j;
      }
    }
    if (best < 0) {
      unmatchedA.push(A[i]);
      continue;
    }
    usedB[best] = 1;
    matched++;
    minIoU = Math.min(minIoU, bestIoU);
    const ds = Math.abs(A[i].score - B[best].score);
    let db = 0;
    for (let k = 0; k < 4; k++) db = Math.max(db, Math.abs(A[i].box[k] - B[best].box[k]));
    maxScoreDelta = Math.max(maxScoreDelta, ds);
    maxBoxDelta = Math.max(maxBoxDelta, db);
    if (A[i].score > level || B[best].score > level) {
      confMatched++;
      confScore = Math.max(confScore, ds);
      confBox = Math.max(confBox, db);
    }
  }
  const unmatchedB = B.filter((_, j) => !usedB[j]);
  const significant = [...unmatchedA, ...unmatchedB].filter((d) => d.score > level).length;
  return {
    a: A.length,
    b: B.length,
    matched,
    unmatchedA: unmatchedA.length,
    unmatchedB: unmatchedB.length,
    unmatchedSignificant: significant,
    maxScoreDelta,
    maxBoxDelta,
    minIoU: matched ? minIoU : NaN,
    confidentMatched: confMatched,
    confidentMaxScoreDelta: confScore,
    confidentMaxBoxDelta: confBox,
    ok: significant === 0 && confScore <= scoreTol && confBox <= boxTol,
  };
}

export function worstDetections(ds: DetectionDiff[]): DetectionDiff {
  return ds.reduce(
    (w, d) => ({
      a: w.a + d.a,
      b: w.b + d.b,
      matched: w.matched + d.matched,
      unmatchedA: w.unmatchedA + d.unmatchedA,
      unmatchedB: w.unmatchedB + d.unmatchedB,
      unmatchedSignificant: w.unmatchedSignificant + d.unmatchedSignificant,
      maxScoreDelta: Math.max(w.maxScoreDelta, d.maxScoreDelta),
      maxBoxDelta: Math.max(w.maxBoxDelta, d.maxBoxDelta),
      minIoU: Number.isNaN(d.minIoU) ? w.minIoU : Math.min(w.minIoU, d.minIoU),
      confidentMatched: w.confidentMatched + d.confidentMatched,
      confidentMaxScoreDelta: Math.max(w.confidentMaxScoreDelta, d.confidentMaxScoreDelta),
      confidentMaxBoxDelta: Math.max(w.confidentMaxBoxDelta, d.confidentMaxBoxDelta),
      ok: w.ok && d.ok,
    }),
    {
      a: 0, b: 0, matched: 0, unmatchedA: 0, unmatchedB: 0, unmatchedSignificant: 0, maxScoreDelta: 0, maxBoxDelta: 0, minIoU: 1,
      confidentMatched: 0, confidentMaxScoreDelta: 0, confidentMaxBoxDelta: 0, ok: true,
    },
  );
}
