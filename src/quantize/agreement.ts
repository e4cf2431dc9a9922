/**
 * Detection-level agreement of an int8 model with its fp32 reference. A 1e-4 tensor check makes
 * no sense for int8, what matters is whether the faces stay: the share of confident fp32
 * detections (score >= 0.5) that the int8 model also finds at IoU >= 0.5, and how much their
 * scores move. Matching is greedy, best fp32 score first, each int8 detection used once.
 */
import type { ModelEntry } from '../models/manifest.js';
import type { Detection, ModelFileChoice } from '../accuracy/pipeline.js';
import { iou } from '../parity/detections.js';

export const AGREE_SCORE = 0.5;
export const AGREE_IOU = 0.5;

export interface Agreement {
  images: number;
  /** fp32 detections with score >= AGREE_SCORE. */
  reference: number;
  matched: number;
  /** matched / reference (1 when there is nothing to match). */
  share: number;
  meanAbsScoreDelta: number;
  maxAbsScoreDelta: number;
}

/** Matches one image's detections; returns the score deltas (int8 - fp32) of the matched confident fp32 boxes. */
export function matchConfident(ref: Detection[], other: Detection[], minScore = AGREE_SCORE, minIou = AGREE_IOU): { reference: number; deltas: number[] } {
  const conf = ref.filter((d) => d.score >= minScore).sort((a, b) => b.score - a.score);
  const used = new Set<number>();
  const deltas: number[] = [];
  for (const r of conf) {
    let best = -1;
    let bestIou = minIou;
    for (let j = 0; j < other.length; j++) {
      if (used.has(j)) continue;
      const v = iou(r.box, other[j].box);
      if (v >= bestIou) {
        bestIou = v;
        best = j;
      }
    }
    if (best >= 0) {
      used.add(best);
      deltas.push(other[best].score - r.score);
    }
  }
  return { reference: conf.length, deltas };
}

export function summarize(perImage: { reference: number; deltas: number[] }[]): Agreement {
  const reference = perImage.reduce((s, x) => s + x.reference, 0);
  const deltas = perImage.flatMap((x) => x.deltas);
  const abs = deltas.map(Math.abs);
  return {
    images: perImage.length,
    reference,
    matched: deltas.length,
    share: reference ? deltas.length / reference : 1,
    meanAbsScoreDelta: abs.length ? abs.reduce((a, b) => a + b, 0) / abs.length : 0,
    maxAbsScoreDelta: abs.length ? Math.max(...abs) : 0,
  };
}

/** Runs both model files through the pipeline (ncnn runtime) on the images and compares detections. */
export async function detectionAgreement(entry: ModelEntry, fp32: ModelFileChoice, int8: ModelFileChoice, images: string[], longSide: number): Promise<Agreement> {
  const { Detector } = await import('../accuracy/pipeline.js');
  const a = await Detector.create(entry, { runtime: 'ncnn', longSide, file: fp32 });
  const b = await Detector.create(entry, { runtime: 'ncnn', longSide, file: int8 });
  try {
    const per: { reference: number; deltas: number[] }[] = [];
    for (const p of images) {
      const ra = await a.detectFile(p);
      const rb = await b.detect(ra.image);
      per.push(matchConfident(ra.detections, rb.detections));
    }
    return summarize(per);
  } finally {
    await a.release();
    await b.release();
  }
}
