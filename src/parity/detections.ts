/**
 * Detection-level parity: after the model's own postprocessing (fdk's pipeline, src/accuracy),
 * detections of two runtimes are matched greedily by IoU (best score first) and the score and box
 * deltas of matched pairs are reported. Low-score detections come and go with 1e-6 changes: at the
 * score threshold, at the pre-NMS candidate cut and the top-k cut (Ultra-Light keeps the best 800
 * candidates and 400 boxes, many of them at nearly equal scores ~0.105). So a detection without a
 * partner fails parity only when it is confident: score > max(threshold, confidentScore) + scoreTol.
 * All unmatched detections are still counted in the report.
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
  maxScoreDelta: number;
  /** Largest coordinate difference of matched boxes, in input-image pixels. */
  maxBoxDelta: number;
  minIoU: number;
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
    maxScoreDelta = Math.max(maxScoreDelta, Math.abs(A[i].score - B[best].score));
    for (let k = 0; k < 4; k++) maxBoxDelta = Math.max(maxBoxDelta, Math.abs(A[i].box[k] - B[best].box[k]));
  }
  const unmatchedB = B.filter((_, j) => !usedB[j]);
  const level = Math.max(opts.scoreThreshold, opts.confidentScore ?? 0.5) + scoreTol;
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
    ok: significant === 0 && maxScoreDelta <= scoreTol && maxBoxDelta <= boxTol,
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
      ok: w.ok && d.ok,
    }),
    { a: 0, b: 0, matched: 0, unmatchedA: 0, unmatchedB: 0, unmatchedSignificant: 0, maxScoreDelta: 0, maxBoxDelta: 0, minIoU: 1, ok: true },
  );
}
