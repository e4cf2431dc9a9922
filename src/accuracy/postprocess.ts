/**
 * The detectors' postprocessing after the forward pass (prior decoding, score filter, NMS), kept
 * free of Node imports so the demo page (src/demo/) runs the very same code in the browser as
 * `fdk detect` runs in Node. Re-exported by pipeline.ts.
 */
import type { ModelEntry, RetinaAnchors, UltraLightAnchors } from '../models/manifest.js';
import type { NamedTensor, TensorMap } from '../runtime/types.js';
import { FdkError } from '../util/errors.js';
import { decodeRetinaBoxes, decodeRetinaLandmarks, decodeUltraLightBoxes } from './decode.js';
import { hardNms, nmsPlusOne, orderByScoreDesc } from './nms.js';
import type { Preprocessed } from './preprocess.js';
import { priorsFor } from './priors.js';

const f = Math.fround;

export interface Detection {
  /** x1 y1 x2 y2 in original image pixels (float32 values as the original computes them). */
  box: [number, number, number, number];
  score: number;
  /** 5 landmark points [x, y] for the seed models, absent for Ultra-Light. */
  landmarks?: [number, number][];
}

/** Finds the named output, or else the one whose last axis has the expected size (ncnn renames blobs). */
function pickOutput(outs: TensorMap, name: string, last: number, file: string): NamedTensor {
  if (outs[name]) return outs[name];
  const byShape = Object.values(outs).filter((t) => t.dims[t.dims.length - 1] === last);
  if (byShape.length === 1) return byShape[0];
  throw new FdkError(`model output '${name}' not found (outputs: ${Object.keys(outs).join(', ')})`, { file });
}

export function postprocess(entry: ModelEntry, outputs: TensorMap, pre: Preprocessed, opts: { boxesDecoded?: boolean; file?: string } = {}): Detection[] {
  const file = opts.file ?? entry.id;
  if (entry.family === 'seed') {
    const loc = pickOutput(outputs, entry.outputs.loc ?? 'loc', 4, file).data;
    const conf = pickOutput(outputs, entry.outputs.conf ?? 'conf', 2, file).data;
    const landms = pickOutput(outputs, entry.outputs.landms ?? 'landms', 10, file).data;
    return postprocessSeed(entry, loc, conf, landms, pre.resized.width, pre.resized.height, pre.scale);
  }
  const scores = pickOutput(outputs, entry.outputs.scores ?? 'scores', 2, file).data;
  const boxes = pickOutput(outputs, entry.outputs.boxes ?? 'boxes', 4, file).data;
  return postprocessUltraLight(entry, scores, boxes, !!opts.boxesDecoded, pre.original.width, pre.original.height);
}

/** test_widerface.py after the forward pass. `width`/`height` = network input size, `r` = resize factor. */
export function postprocessSeed(entry: ModelEntry, loc: Float32Array, conf: Float32Array, landms: Float32Array, width: number, height: number, r: number): Detection[] {
  const anchors = entry.anchors as RetinaAnchors;
  const priors = priorsFor(anchors, height, width);
  const n = priors.length / 4;
  if (loc.length !== n * 4 || conf.length !== n * 2 || landms.length !== n * 10)
    throw new FdkError(`model outputs do not match ${n} priors for a ${width}x${height} input (loc ${loc.length / 4}, conf ${conf.length / 2})`);
  const pp = entry.postprocess;
  const thr = f(pp.scoreThreshold);
  const fr = f(r);
  const W = f(width);
  const H = f(height);
  // decode only the candidates above the threshold (decoding is per-row, so this changes nothing)
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (conf[i * 2 + 1] > thr) idx.push(i);
  const m = idx.length;
  const sel = (src: Float32Array, k: number) => {
    const out = new Float32Array(m * k);
    for (let j = 0; j < m; j++) for (let c = 0, s = idx[j] * k, o = j * k; c < k; c++) out[o + c] = src[s + c];
    return out;
  };
  const pr = sel(priors, 4);
  const boxes = decodeRetinaBoxes(sel(loc, 4), pr, anchors.variance);
  const lms = decodeRetinaLandmarks(sel(landms, 10), pr, anchors.variance);
  const scores = new Float32Array(m);
  for (let j = 0; j < m; j++) scores[j] = conf[idx[j] * 2 + 1];
  // boxes * [W, H, W, H] / resize, landmarks * [W, H]*5 / resize, in float32 like the tensors
  for (let j = 0; j < m; j++) {
    for (let c = 0; c < 4; c++) boxes[j * 4 + c] = f(f(boxes[j * 4 + c] * (c % 2 ? H : W)) / fr);
    for (let c = 0; c < 10; c++) lms[j * 10 + c] = f(f(lms[j * 10 + c] * (c % 2 ? H : W)) / fr);
  }
  const order = orderByScoreDesc(scores);
  const keep = pp.nmsAreaPlusOne ? nmsPlusOne(boxes, 4, order, pp.nms) : hardNms(boxes, 4, order, pp.nms, pp.topK ?? -1, -1);
  const kept = pp.topK ? keep.slice(0, pp.topK) : keep;
  return kept.map((j) => ({
    box: [boxes[j * 4], boxes[j * 4 + 1], boxes[j * 4 + 2], boxes[j * 4 + 3]],
    score: scores[j],
    landmarks: Array.from({ length: 5 }, (_, k) => [lms[j * 10 + 2 * k], lms[j * 10 + 2 * k + 1]] as [number, number]),
  }));
}

/** Ultra-Light Predictor.predict for the face class, boxes scaled to the original image size. */
export function postprocessUltraLight(entry: ModelEntry, scores: Float32Array, boxes: Float32Array, boxesDecoded: boolean, width: number, height: number): Detection[] {
  const anchors = entry.anchors as UltraLightAnchors;
  const [iw, ih] = anchors.imageSize;
  const priors = priorsFor(anchors, ih, iw);
  const n = priors.length / 4;
  if (scores.length !== n * 2 || boxes.length !== n * 4)
    throw new FdkError(`model outputs do not match ${n} priors for a ${iw}x${ih} input (scores ${scores.length / 2}, boxes ${boxes.length / 4})`);
  const corners = boxesDecoded ? boxes : decodeUltraLightBoxes(boxes, priors, anchors.center_variance, anchors.size_variance);
  const pp = entry.postprocess;
  const thr = f(pp.scoreThreshold);
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (scores[i * 2 + 1] > thr) idx.push(i);
  const probs = new Float32Array(n);
  for (const i of idx) probs[i] = scores[i * 2 + 1];
  const order = orderByScoreDesc(probs, idx);
  const keep = hardNms(corners, 4, order, pp.nms, pp.topK ?? -1, pp.candidateSize ?? -1);
  const W = f(width);
  const H = f(height);
  return keep.map((i) => ({
    box: [f(corners[i * 4] * W), f(corners[i * 4 + 1] * H), f(corners[i * 4 + 2] * W), f(corners[i * 4 + 3] * H)],
    score: probs[i],
  }));
}
