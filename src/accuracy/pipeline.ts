/**
 * The detector pipeline: image -> preprocess -> model (any runtime) -> decode -> threshold -> NMS,
 * with each model's settings from its manifest entry. Two families:
 *  - seed (RetinaFace-style, 5 landmarks): outputs loc / conf (softmax) / landms, priors per input
 *    size, score > 0.02, NMS 0.4 with +1 areas, no top-k (test_widerface.py).
 *  - Ultra-Light: outputs scores (softmax) / raw box offsets, fixed-size clamped priors, score > 0.1,
 *    hard NMS 0.3 over the best 800, at most 400 (its Predictor as used by evaluation_on_widerface.py).
 */
import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { ModelEntry, RetinaAnchors, UltraLightAnchors } from '../models/manifest.js';
import { modelFile } from '../models/manifest.js';
import { loadOnnx } from '../onnx/io.js';
import { getRuntime } from '../runtime/index.js';
import type { LoadedModel, NamedTensor, TensorMap } from '../runtime/types.js';
import { FdkError, withFile } from '../util/errors.js';
import { decodeRetinaBoxes, decodeRetinaLandmarks, decodeUltraLightBoxes } from './decode.js';
import { loadImage, type BgrImage } from './image.js';
import { hardNms, nmsPlusOne, orderByScoreDesc } from './nms.js';
import { preprocess, type Preprocessed } from './preprocess.js';
import { priorsFor } from './priors.js';

const f = Math.fround;

export interface Detection {
  /** x1 y1 x2 y2 in original image pixels (float32 values as the original computes them). */
  box: [number, number, number, number];
  score: number;
  /** 5 landmark points [x, y] for the seed models, absent for Ultra-Light. */
  landmarks?: [number, number][];
}

export interface DetectTimings {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

export interface DetectorOptions {
  runtime?: string;
  /** Long side for the seed models (320/640); Ultra-Light sizes are fixed by the model id. */
  longSide?: number;
  /** Threads per model session (default 1: parallelism comes from several sessions). */
  threads?: number;
  /** Use this model file instead of the default one (.onnx, or .param for ncnn). */
  modelPath?: string;
  /** An already resolved model file (the pool resolves once, its workers reuse it). */
  file?: ModelFileChoice;
}

export interface ModelFileChoice {
  path: string;
  /** Ultra-Light: does the file output decoded corner boxes (true) or raw offsets (false)? */
  boxesDecoded: boolean;
  origin: string;
}


/**
 * The model file the pipeline runs: seed models = fdk's own export of the checkpoint with dynamic
 * H/W (src/convert/onnx-export.ts); Ultra-Light = the original `_without_postprocessing` ONNX when
 * the manifest has one (320), else fdk's export of the checkpoint without the decode tail (640).
 * Decoding in TypeScript keeps both families on the same float32 decode as the PyTorch code.
 */
export async function modelFileFor(entry: ModelEntry, explicit?: string): Promise<ModelFileChoice> {
  if (explicit) {
    if (!existsSync(explicit)) throw new FdkError('no such file', { file: explicit });
    return { path: explicit, boxesDecoded: entry.family === 'ultra-light' && onnxDecodesBoxes(explicit), origin: 'file' };
  }
  if (entry.family === 'ultra-light' && entry.files.onnxWithoutPostprocessing)
    return { path: modelFile(entry, 'onnxWithoutPostprocessing'), boxesDecoded: false, origin: `${entry.source.repo} ONNX without postprocessing` };
  // Imported on demand: the exporter (checkpoint reader, builders) is only needed when no ONNX file is given.
  const { exportedOnnxPath } = await import('../convert/onnx-export.js');
  if (entry.family === 'ultra-light') {
    const path = await exportedOnnxPath(entry.id, { dynamic: false, postprocess: false });
    return { path, boxesDecoded: onnxDecodesBoxes(path), origin: `fdk export of ${entry.files.pth?.path} (raw offsets)` };
  }
  return { path: await exportedOnnxPath(entry.id, { dynamic: true }), boxesDecoded: false, origin: `fdk export of ${entry.files.pth?.path} (dynamic H/W)` };
}

/** An Ultra-Light graph with an Exp node has the prior-decoding tail (boxes are decoded corners). */
export function onnxDecodesBoxes(path: string): boolean {
  if (extname(path).toLowerCase() !== '.onnx') return false;
  return loadOnnx(path).graph.nodes.some((n) => n.opType === 'Exp');
}

/** Finds the named output, or else the one whose last axis has the expected size (ncnn renames blobs). */
function pickOutput(outs: TensorMap, name: string, last: number, file: string): NamedTensor {
  if (outs[name]) return outs[name];
  const byShape = Object.values(outs).filter((t) => t.dims[t.dims.length - 1] === last);
  if (byShape.length === 1) return byShape[0];
  throw new FdkError(`model output '${name}' not found (outputs: ${Object.keys(outs).join(', ')})`, { file });
}

export class Detector {
  /** Input tensor buffer reused from image to image (detect() finishes with it before returning). */
  private scratch: { tensor?: Float32Array } = {};
  private constructor(
    readonly entry: ModelEntry,
    readonly model: LoadedModel,
    readonly file: ModelFileChoice,
    readonly runtime: string,
    readonly longSide: number,
  ) {}

  static async create(entry: ModelEntry, opts: DetectorOptions = {}): Promise<Detector> {
    const runtime = opts.runtime ?? 'ort';
    const rt = await getRuntime(runtime);
    const file = opts.file ?? (await modelFileFor(entry, opts.modelPath));
    const longSide = entry.input.resize.mode === 'fixed' ? entry.input.resize.width! : opts.longSide ?? 320;
    const inputShapes: Record<string, number[]> | undefined =
      entry.input.resize.mode === 'fixed' ? { [entry.input.name]: [1, 3, entry.input.resize.height!, entry.input.resize.width!] } : undefined;
    const model = await rt.load(file.path, { threads: opts.threads ?? 1, inputShapes });
    return new Detector(entry, model, file, runtime, longSide);
  }

  async release(): Promise<void> {
    await this.model.release();
  }

  /** Runs the whole pipeline on one image file. */
  async detectFile(path: string): Promise<{ detections: Detection[]; image: BgrImage; timings: DetectTimings }> {
    const t0 = performance.now();
    const image = await loadImage(path, { keepRgb: true });
    const t1 = performance.now();
    const r = await this.detect(image).catch(withFile(path));
    return { ...r, image, timings: { ...r.timings, decodeMs: t1 - t0 } };
  }

  async detect(image: BgrImage): Promise<{ detections: Detection[]; timings: DetectTimings }> {
    const t0 = performance.now();
    const pre = preprocess(image, this.entry, { longSide: this.longSide, scratch: this.scratch });
    const t1 = performance.now();
    const inputName = this.model.inputNames[0] ?? this.entry.input.name;
    const { outputs } = await this.model.run({ [inputName]: { data: pre.tensor, dims: pre.dims } });
    const t2 = performance.now();
    const detections = postprocess(this.entry, outputs, pre, { boxesDecoded: this.file.boxesDecoded, file: this.file.path });
    const t3 = performance.now();
    return { detections, timings: { decodeMs: 0, preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: t3 - t2 } };
  }
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

/** Shortest decimal that reads back as the same float32 (numpy's str() of a float32 scalar). */
export function float32Repr(x: number): string {
  const v = f(x);
  // The fewest significant digits (1..9) that read back as v. If p digits read back, so do p + 1
  // (the p-digit decimal padded with a zero is a candidate no farther from v), so binary search
  // finds the same p as trying 1, 2, ... in turn, with ~3 toPrecision calls instead of up to 9.
  let lo = 1;
  let hi = 9; // 9 digits always round-trip a float32
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (f(Number(v.toPrecision(mid))) === v) hi = mid;
    else lo = mid + 1;
  }
  let s = v.toPrecision(lo);
  s = String(Number(s)); // positional, no trailing zeros
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Python's '%.3f' (round half to even on the exact binary value). */
export function pyFixed3(x: number): string {
  const t = x * 2000;
  if (Number.isInteger(t) && Math.abs(t % 2) === 1) {
    // exact tie: toFixed rounds away from zero, Python to even
    const lo = (Math.floor(x * 1000) / 1000).toFixed(3);
    const hi = (Math.ceil(x * 1000) / 1000).toFixed(3);
    return Math.round(Number(lo) * 1000) % 2 === 0 ? lo : hi;
  }
  return x.toFixed(3);
}

/**
 * One WIDER prediction file, byte for byte as the originals write it:
 *  - seed (test_widerface.py): `int(x1) int(y1) int(x2)-int(x1) int(y2)-int(y1) str(score) \n`
 *  - Ultra-Light (evaluation_on_widerface.py): `floor(x1) floor(y1) ceil(x2-x1) ceil(y2-y1) %.3f\n`
 * The first line is the image name without extension, the second the number of boxes.
 */
export function formatWider(entry: ModelEntry, imageName: string, dets: Detection[]): string {
  const name = basename(imageName).replace(/\.[^.]*$/, '');
  const lines = [name, String(dets.length)];
  if (entry.postprocess.widerFormat === 'int-truncate') {
    for (const d of dets) {
      const [x1, y1, x2, y2] = d.box.map((v) => Math.trunc(v));
      lines.push(`${x1} ${y1} ${x2 - x1} ${y2 - y1} ${float32Repr(d.score)} `);
    }
  } else {
    for (const d of dets) {
      const [x1, y1, x2, y2] = d.box;
      lines.push(`${Math.floor(x1)} ${Math.floor(y1)} ${Math.ceil(f(x2 - x1))} ${Math.ceil(f(y2 - y1))} ${pyFixed3(d.score <= 1 ? d.score : 1)}`);
    }
  }
  return lines.join('\n') + '\n';
}
