/**
 * Decode family "prior": SSD-style prior (anchor) boxes, center/size offsets with variances, a
 * softmax class score per prior, optional landmarks. Both bundled model lines are this family with
 * different parameters:
 *  - variant 'retinaface' (biubug6 seed, RetinaFace): PriorBox + decode()/decode_landm() of
 *    test_widerface.py; decodes the candidates above the threshold, scales by the network input
 *    size / resize factor, NMS in image pixels;
 *  - variant 'ultra-light' (Linzaer): generate_priors (clamped) + convert_locations_to_boxes, NMS on
 *    normalised corners, then scaled to the original image size (its Predictor).
 * The variant fixes the float32 operation order of the original, so predictions are byte-identical.
 * Any class count: `classes` score columns, `faceClass` is the one reported (e.g. 3-class
 * masked-face models).
 */
import type { Json, FieldChecker } from '../models/check.js';
import { decodeRetinaBoxes, decodeRetinaLandmarks, decodeUltraLightBoxes } from '../accuracy/decode.js';
import { orderByScoreDesc } from '../accuracy/nms.js';
import { priorCount, priorsFor } from '../accuracy/priors.js';
import type { DecodeFamily, DecodeParams, Detection } from './types.js';
import { boxScoreLandmarkRoles, checkRows, nmsKeep } from './common.js';

const f = Math.fround;

export interface PriorParams extends DecodeParams {
  family: 'prior';
  variant: 'retinaface' | 'ultra-light';
  /** Prior box sizes (input pixels) per level. */
  minSizes: number[][];
  /** Stride of each level; feature maps are ceil(size / step). */
  steps: number[];
  /** [center variance, size variance]. */
  variance: [number, number];
  /** Clamp priors to [0, 1]. */
  clip: boolean;
  /** Score columns (softmax over classes incl. background). */
  classes: number;
  /** The column that is "face". */
  faceClass: number;
  /** Landmark points per box (0 = none). */
  landmarks: number;
  /** The graph decodes its boxes already (corner form in [0,1]); absent = look for an Exp node. */
  boxesDecoded?: boolean;
}

const KEYS = ['family', 'variant', 'minSizes', 'steps', 'variance', 'clip', 'classes', 'faceClass', 'landmarks', 'boxesDecoded'];

export const priorFamily: DecodeFamily<PriorParams> = {
  id: 'prior',
  summary: 'SSD / RetinaFace prior boxes (min sizes per stride, variances), softmax scores, optional landmarks',

  validate(d: Json, c: FieldChecker, path: string): PriorParams {
    c.onlyKeys(d, path, KEYS);
    const at = (k: string) => `${path}.${k}`;
    const steps = c.numbers(c.required(d, 'steps', path), at('steps'), { minLength: 1, int: true, min: 1 });
    const ms = c.array(c.required(d, 'minSizes', path), at('minSizes'), { length: steps.length });
    const minSizes = ms.map((x, k) => c.numbers(x, `${at('minSizes')}[${k}]`, { minLength: 1, min: 0, exclusiveMin: true }));
    const classes = d.classes === undefined ? 2 : c.number(d.classes, at('classes'), { int: true, min: 1 });
    const faceClass = d.faceClass === undefined ? 1 : c.number(d.faceClass, at('faceClass'), { int: true, min: 0 });
    if (faceClass >= classes) c.fail(at('faceClass'), `must be < classes (${classes}), got ${faceClass}`);
    const p: PriorParams = {
      family: 'prior',
      variant: c.oneOf(d.variant ?? 'retinaface', at('variant'), ['retinaface', 'ultra-light'] as const),
      minSizes,
      steps,
      variance: c.numbers(d.variance ?? [0.1, 0.2], at('variance'), { length: 2, min: 0, exclusiveMin: true }) as [number, number],
      clip: d.clip === undefined ? false : c.boolean(d.clip, at('clip')),
      classes,
      faceClass,
      landmarks: d.landmarks === undefined ? 0 : c.number(d.landmarks, at('landmarks'), { int: true, min: 0 }),
    };
    if (d.boxesDecoded !== undefined) p.boxesDecoded = c.boolean(d.boxesDecoded, at('boxesDecoded'));
    if (p.variant === 'retinaface' && p.boxesDecoded) c.fail(at('boxesDecoded'), "only variant 'ultra-light' reads decoded boxes");
    if (p.variant === 'ultra-light' && p.landmarks) c.fail(at('landmarks'), "variant 'ultra-light' has no landmarks; use variant 'retinaface'");
    return p;
  },

  outputRoles: (p) => boxScoreLandmarkRoles(p),

  count: (p, height, width) => priorCount(p, height, width),

  detect(desc, p, out, pre, opts) {
    const [, , height, width] = pre.dims;
    const priors = priorsFor(p, height, width);
    checkRows(out, this.outputRoles(p), priors.length / 4, `priors for a ${width}x${height} input`, opts.file);
    return p.variant === 'retinaface'
      ? detectRetina(desc.postprocess, p, out, priors, width, height, pre.scaleXY)
      : detectUltraLight(desc.postprocess, p, out, priors, !!opts.boxesDecoded, pre.original.width, pre.original.height);
  },
};

type Pp = Parameters<typeof nmsKeep>[0];

/** test_widerface.py after the forward pass. `width`/`height` = network input size, `sxy` = resize factor per axis. */
function detectRetina(pp: Pp, p: PriorParams, out: Record<string, Float32Array>, priors: Float32Array, width: number, height: number, sxy: [number, number]): Detection[] {
  const n = priors.length / 4;
  const { boxes: loc, scores: conf } = out;
  const K = p.classes;
  const L = p.landmarks * 2;
  const thr = f(pp.scoreThreshold);
  const rx = f(sxy[0]);
  const ry = f(sxy[1]);
  const W = f(width);
  const H = f(height);
  // decode only the candidates above the threshold (decoding is per-row, so this changes nothing)
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (conf[i * K + p.faceClass] > thr) idx.push(i);
  const m = idx.length;
  const sel = (src: Float32Array, k: number) => {
    const o = new Float32Array(m * k);
    for (let j = 0; j < m; j++) for (let c = 0, s = idx[j] * k, d = j * k; c < k; c++) o[d + c] = src[s + c];
    return o;
  };
  const pr = sel(priors, 4);
  const boxes = decodeRetinaBoxes(sel(loc, 4), pr, p.variance);
  const lms = L ? decodeRetinaLandmarks(sel(out.landmarks, L), pr, p.variance, p.landmarks) : new Float32Array(0);
  const scores = new Float32Array(m);
  for (let j = 0; j < m; j++) scores[j] = conf[idx[j] * K + p.faceClass];
  // boxes * [W, H, W, H] / resize, landmarks * [W, H]*k / resize, in float32 like the tensors
  for (let j = 0; j < m; j++) {
    for (let c = 0; c < 4; c++) boxes[j * 4 + c] = f(f(boxes[j * 4 + c] * (c % 2 ? H : W)) / (c % 2 ? ry : rx));
    for (let c = 0; c < L; c++) lms[j * L + c] = f(f(lms[j * L + c] * (c % 2 ? H : W)) / (c % 2 ? ry : rx));
  }
  const keep = nmsKeep(pp, boxes, orderByScoreDesc(scores));
  const dets = new Array<Detection>(keep.length);
  for (let q = 0; q < keep.length; q++) {
    const j = keep[q];
    const d: Detection = { box: [boxes[j * 4], boxes[j * 4 + 1], boxes[j * 4 + 2], boxes[j * 4 + 3]], score: scores[j] };
    if (L) {
      const pts = new Array<[number, number]>(p.landmarks);
      for (let k = 0; k < p.landmarks; k++) pts[k] = [lms[j * L + 2 * k], lms[j * L + 2 * k + 1]];
      d.landmarks = pts;
    }
    dets[q] = d;
  }
  return dets;
}

/** Ultra-Light Predictor.predict for the face class, boxes scaled to the original image size. */
function detectUltraLight(pp: Pp, p: PriorParams, out: Record<string, Float32Array>, priors: Float32Array, boxesDecoded: boolean, width: number, height: number): Detection[] {
  const n = priors.length / 4;
  const { boxes, scores } = out;
  const K = p.classes;
  const corners = boxesDecoded ? boxes : decodeUltraLightBoxes(boxes, priors, p.variance[0], p.variance[1]);
  const thr = f(pp.scoreThreshold);
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (scores[i * K + p.faceClass] > thr) idx.push(i);
  const probs = new Float32Array(n);
  for (const i of idx) probs[i] = scores[i * K + p.faceClass];
  const keep = nmsKeep(pp, corners, orderByScoreDesc(probs, idx));
  const W = f(width);
  const H = f(height);
  return keep.map((i) => ({
    box: [f(corners[i * 4] * W), f(corners[i * 4 + 1] * H), f(corners[i * 4 + 2] * W), f(corners[i * 4 + 3] * H)],
    score: probs[i],
  }));
}
