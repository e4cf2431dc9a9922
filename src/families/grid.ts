/**
 * Decode family "grid": anchor-free detectors (SCRFD / FCOS / YOLO-style). Every level with stride s
 * has a ceil(H/s) x ceil(W/s) map of anchor points at ((j + centerOffset)·s, (i + centerOffset)·s),
 * `anchorsPerCell` per cell; outputs are concatenated over levels in that order:
 *  - boxes [1, N, 4]: 'ltrb' = distances to the left/top/right/bottom edges in strides (SCRFD,
 *    FCOS), or 'cxcywh' = centre offset in strides and log size in strides (YOLOX);
 *  - scores [1, N, classes]: probabilities ('none') or logits ('sigmoid');
 *  - landmarks [1, N, 2k] (optional): point offsets from the anchor point in strides (SCRFD kps).
 * Boxes are decoded in input pixels, mapped back to the original image per axis, then thresholded
 * and NMS'd with the description's settings.
 */
import type { Json, FieldChecker } from '../models/check.js';
import { orderByScoreDesc } from '../accuracy/nms.js';
import { gridAnchors, gridCount } from '../accuracy/priors.js';
import type { DecodeFamily, DecodeParams, Detection } from './types.js';
import { boxScoreLandmarkRoles, checkRows, nmsKeep } from './common.js';

export interface GridParams extends DecodeParams {
  family: 'grid';
  strides: number[];
  anchorsPerCell: number;
  centerOffset: number;
  box: 'ltrb' | 'cxcywh';
  classes: number;
  faceClass: number;
  scoreActivation: 'none' | 'sigmoid';
  landmarks: number;
}

const KEYS = ['family', 'strides', 'anchorsPerCell', 'centerOffset', 'box', 'classes', 'faceClass', 'scoreActivation', 'landmarks'];

export const gridFamily: DecodeFamily<GridParams> = {
  id: 'grid',
  summary: 'anchor-free grid (SCRFD / FCOS / YOLO): anchor points per stride, ltrb distances or centre-size boxes',

  validate(d: Json, c: FieldChecker, path: string): GridParams {
    c.onlyKeys(d, path, KEYS);
    const at = (k: string) => `${path}.${k}`;
    const classes = d.classes === undefined ? 1 : c.number(d.classes, at('classes'), { int: true, min: 1 });
    const faceClass = d.faceClass === undefined ? 0 : c.number(d.faceClass, at('faceClass'), { int: true, min: 0 });
    if (faceClass >= classes) c.fail(at('faceClass'), `must be < classes (${classes}), got ${faceClass}`);
    return {
      family: 'grid',
      strides: c.numbers(c.required(d, 'strides', path), at('strides'), { minLength: 1, int: true, min: 1 }),
      anchorsPerCell: d.anchorsPerCell === undefined ? 1 : c.number(d.anchorsPerCell, at('anchorsPerCell'), { int: true, min: 1 }),
      centerOffset: d.centerOffset === undefined ? 0 : c.number(d.centerOffset, at('centerOffset'), { min: 0, max: 1 }),
      box: c.oneOf(c.required(d, 'box', path), at('box'), ['ltrb', 'cxcywh'] as const),
      classes,
      faceClass,
      scoreActivation: c.oneOf(d.scoreActivation ?? 'none', at('scoreActivation'), ['none', 'sigmoid'] as const),
      landmarks: d.landmarks === undefined ? 0 : c.number(d.landmarks, at('landmarks'), { int: true, min: 0 }),
    };
  },

  outputRoles: (p) => boxScoreLandmarkRoles(p),

  count: (p, height, width) => gridCount(p, height, width),

  detect(desc, p, out, pre, opts) {
    const [, , height, width] = pre.dims;
    const anchors = gridAnchors(p, height, width);
    const n = anchors.length / 3;
    checkRows(out, this.outputRoles(p), n, `anchor points for a ${width}x${height} input`, opts.file);
    return decodeGrid(desc.postprocess, p, out, anchors, pre.scaleXY);
  },
};

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The whole decode for one image: threshold, boxes in original pixels, NMS, top-k. */
export function decodeGrid(pp: Parameters<typeof nmsKeep>[0], p: GridParams, out: Record<string, Float32Array>, anchors: Float64Array, sxy: [number, number]): Detection[] {
  const n = anchors.length / 3;
  const K = p.classes;
  const L = p.landmarks * 2;
  const idx: number[] = [];
  const score: number[] = [];
  for (let i = 0; i < n; i++) {
    const raw = out.scores[i * K + p.faceClass];
    const s = p.scoreActivation === 'sigmoid' ? sigmoid(raw) : raw;
    if (s > pp.scoreThreshold) {
      idx.push(i);
      score.push(s);
    }
  }
  const m = idx.length;
  const boxes = new Float32Array(m * 4);
  const lms: number[][] = [];
  const [sx, sy] = sxy;
  for (let j = 0; j < m; j++) {
    const i = idx[j];
    const [cx, cy, s] = [anchors[i * 3], anchors[i * 3 + 1], anchors[i * 3 + 2]];
    const b = out.boxes.subarray(i * 4, i * 4 + 4);
    let x1: number, y1: number, x2: number, y2: number;
    if (p.box === 'ltrb') {
      x1 = cx - b[0] * s;
      y1 = cy - b[1] * s;
      x2 = cx + b[2] * s;
      y2 = cy + b[3] * s;
    } else {
      const x = cx + b[0] * s;
      const y = cy + b[1] * s;
      const w = Math.exp(b[2]) * s;
      const h = Math.exp(b[3]) * s;
      x1 = x - w / 2;
      y1 = y - h / 2;
      x2 = x + w / 2;
      y2 = y + h / 2;
    }
    boxes.set([x1 / sx, y1 / sy, x2 / sx, y2 / sy], j * 4);
    if (L) {
      const pts: number[] = [];
      for (let k = 0; k < p.landmarks; k++) pts.push((cx + out.landmarks[i * L + 2 * k] * s) / sx, (cy + out.landmarks[i * L + 2 * k + 1] * s) / sy);
      lms.push(pts);
    }
  }
  const scores = Float32Array.from(score);
  const keep = nmsKeep(pp, boxes, orderByScoreDesc(scores));
  return keep.map((j) => {
    const d: Detection = { box: [boxes[j * 4], boxes[j * 4 + 1], boxes[j * 4 + 2], boxes[j * 4 + 3]], score: scores[j] };
    if (L) d.landmarks = Array.from({ length: p.landmarks }, (_, k) => [lms[j][2 * k], lms[j][2 * k + 1]] as [number, number]);
    return d;
  });
}
