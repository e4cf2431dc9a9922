/**
 * evaluateWider: the one call behind `fdk eval` and `fdk accuracy`. Takes a WIDER prediction
 * folder or in-memory predictions, the ground-truth folder, an optional subset, and a protocol.
 */
import { join, resolve } from 'node:path';
import { resolveDataDir } from '../../util/data.js';
import { FdkError, escapeName } from '../../util/errors.js';
import { imageKey, loadGroundTruth, readSubsetList, type Difficulty, type WiderGroundTruth } from './ground-truth.js';
import { readPredictionDir, toPredBoxes, type PredBoxes, type PredInput } from './predictions.js';
import { evaluatePredictions, type PrCurve, type Protocol } from './evaluate.js';

export { DIFFICULTIES, loadGroundTruth, readSubsetList, type Difficulty, type WiderGroundTruth } from './ground-truth.js';
export { readPredictionDir, readPredictionFile, parsePredictionText } from './predictions.js';
export { evaluatePredictions, vocAp, THRESHOLDS, IOU_THRESHOLD, type Protocol, type PrCurve } from './evaluate.js';

export interface EvaluateWiderOptions {
  /** Folder with the four ground-truth .mat files; default `<data>/wider/ground_truth`. */
  gtDir?: string;
  /** A list file (`event/name.jpg` lines) or the image keys/paths themselves. */
  subset?: string | Iterable<string>;
  protocol?: Protocol;
}

export interface WiderResult {
  easy: number;
  medium: number;
  hard: number;
  pr: Record<Difficulty, PrCurve>;
  /** Images evaluated. */
  images: number;
  /** Evaluated images without a prediction file / entry (counted as zero detections). */
  missing: number;
  missingExamples: string[];
  /** Prediction files of images outside the evaluated set (they still enter score normalisation without a subset). */
  extra: number;
  faces: Record<Difficulty, number>;
  protocol: Protocol;
  subset: string | null;
  normalisation: { predictions: number; min: number; max: number };
  gtDir: string;
  /**
   * Inputs the evaluation accepted but that change its meaning, one sentence each (the CLI
   * prints them as `fdk: warning:` lines): prediction files for images outside the ground truth,
   * scores outside [0, 1].
   */
  warnings: string[];
}

const gtCache = new Map<string, WiderGroundTruth>();

/** Ground truth of `dir`, parsed once per process (fdk accuracy evaluates several rows). */
export function groundTruth(dir?: string): WiderGroundTruth {
  const d = resolve(dir ?? join(resolveDataDir()!, 'wider', 'ground_truth'));
  let gt = gtCache.get(d);
  if (!gt) {
    gt = loadGroundTruth(d);
    gtCache.set(d, gt);
  }
  return gt;
}

export function evaluateWider(
  predictions: string | Map<string, PredInput>,
  opts: EvaluateWiderOptions = {},
): WiderResult {
  const protocol = opts.protocol ?? 'python';
  if (protocol !== 'python' && protocol !== 'matlab') throw new FdkError(`unknown protocol '${protocol}' (python or matlab)`);
  const gt = groundTruth(opts.gtDir);

  let subsetKeys: string[] | undefined;
  let subsetName: string | null = null;
  if (typeof opts.subset === 'string') {
    subsetKeys = readSubsetList(opts.subset, gt);
    subsetName = opts.subset;
  } else if (opts.subset) {
    subsetKeys = [...opts.subset].map(imageKey);
    const unknown = subsetKeys.find((k) => !gt.byKey.has(k));
    if (unknown) throw new FdkError(`subset image ${unknown} is not in the WIDER ground truth`);
    subsetName = `${subsetKeys.length} images`;
  }
  const wanted = subsetKeys ?? gt.images.map((im) => im.key);

  let preds: Map<string, PredBoxes>;
  let missing: string[];
  let extra: string[];
  if (typeof predictions === 'string') {
    // Without a subset the Python evaluator normalises over every file of the folder: read extras too.
    const set = readPredictionDir(predictions, { wanted, includeExtra: !subsetKeys });
    preds = set.boxes;
    missing = set.missing;
    extra = set.extra;
  } else {
    preds = new Map();
    const wantedSet = new Set(wanted);
    extra = [];
    for (const [k0, v] of predictions) {
      const k = imageKey(k0);
      if (!wantedSet.has(k)) {
        if (subsetKeys) continue;
        extra.push(k);
      }
      preds.set(k, toPredBoxes(v, k));
    }
    missing = wanted.filter((k) => !preds.has(k));
  }

  const warnings = predictionWarnings(preds, extra, gt, subsetKeys ?? [...preds.keys()]);
  const core = evaluatePredictions({
    gt,
    preds,
    images: subsetKeys,
    // Subset: normalise over the listed images only; whole set: over everything read.
    normaliseOver: subsetKeys ?? [...preds.keys()],
    protocol,
  });
  return {
    easy: core.ap.easy,
    medium: core.ap.medium,
    hard: core.ap.hard,
    pr: core.pr,
    images: core.images,
    missing: missing.length,
    missingExamples: missing.slice(0, 5),
    extra: extra.length,
    faces: core.faces,
    protocol,
    subset: subsetName,
    normalisation: core.normalisation,
    gtDir: gt.dir,
    warnings,
  };
}

/** See WiderResult.warnings. */
function predictionWarnings(preds: Map<string, PredBoxes>, extra: string[], gt: WiderGroundTruth, normalised: string[]): string[] {
  const out: string[] = [];
  const unknown = extra.filter((k) => !gt.byKey.has(k));
  if (unknown.length)
    out.push(`${unknown.length} prediction file(s) for images not in the ground truth (e.g. ${unknown.slice(0, 3).map(escapeName).join(', ')}) take part in score normalisation`);
  let outside = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const k of normalised) {
    const b = preds.get(k);
    if (!b) continue;
    for (let i = 4; i < b.length; i += 5) {
      if (b[i] < 0 || b[i] > 1) outside++;
      if (b[i] < lo) lo = b[i];
      if (b[i] > hi) hi = b[i];
    }
  }
  if (outside)
    out.push(`${outside} score(s) outside [0, 1] (range ${lo} .. ${hi}): min-max normalisation over them squeezes every other score, which lowers AP`);
  return out;
}
