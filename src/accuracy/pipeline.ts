/**
 * The detector pipeline: image -> preprocess -> model (any runtime) -> decode -> threshold -> NMS,
 * driven entirely by a model description (src/models/description.ts): the input size rule and
 * normalisation, the output names, and the decode family with its parameters (src/families/).
 * Nothing here knows about a particular model line; the bundled models are manifest entries whose
 * descriptions reproduce their original pipelines byte for byte.
 */
import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { ModelDescription } from '../models/description.js';
import type { ModelEntry } from '../models/manifest.js';
import { modelFile } from '../models/manifest.js';
import { loadOnnx } from '../onnx/io.js';
import { getRuntime } from '../runtime/index.js';
import type { LoadedModel } from '../runtime/types.js';
import { FdkError, withFile } from '../util/errors.js';
import { loadImage, type BgrImage } from './image.js';
import { postprocess } from './postprocess.js';
import { preprocess } from './preprocess.js';

export { postprocess, type Detection } from './postprocess.js';
import type { Detection } from './postprocess.js';

const f = Math.fround;

export interface DetectTimings {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

/** Per-image stage times of the pool (ms): the detector's, plus writing the WIDER text (`formatWider`). */
export interface StageTimings extends DetectTimings {
  formatMs: number;
}

export interface DetectorOptions {
  runtime?: string;
  /** Long side for 'long-side' models (default: the description's size, else 320); fixed sizes ignore it. */
  longSide?: number;
  /** Threads per model session (default 1: parallelism comes from several sessions). */
  threads?: number;
  /** Use this model file instead of the manifest entry's default one (.onnx, or .param for ncnn). */
  modelPath?: string;
  /** An already resolved model file (the pool resolves once, its workers reuse it). */
  file?: ModelFileChoice;
}

export interface ModelFileChoice {
  path: string;
  /** Prior family: does the file output decoded corner boxes (true) or raw offsets (false)? */
  boxesDecoded: boolean;
  origin: string;
}

/** A manifest entry (has files to choose from) rather than a bare description. */
function isManifestEntry(d: ModelDescription): d is ModelEntry {
  return 'files' in d && 'id' in d;
}

/**
 * Does the model file output decoded boxes? The description says so (`decode.boxesDecoded`), or,
 * for the Ultra-Light prior variant, a graph with an Exp node has the prior-decoding tail.
 */
export function boxesDecodedFor(desc: ModelDescription, path: string): boolean {
  const d = desc.decode;
  if (typeof d.boxesDecoded === 'boolean') return d.boxesDecoded;
  return d.family === 'prior' && d.variant === 'ultra-light' && onnxDecodesBoxes(path);
}

/** A model file to run with a description (`origin` says where it came from, for reports). */
export function modelFileChoice(path: string, desc: ModelDescription, origin = 'file'): ModelFileChoice {
  if (!existsSync(path)) throw new FdkError('no such file', { file: path });
  return { path, boxesDecoded: boxesDecodedFor(desc, path), origin };
}

/**
 * The model file the pipeline runs for a manifest entry: seed models = fdk's own export of the
 * checkpoint with dynamic H/W (src/convert/onnx-export.ts); Ultra-Light = the original
 * `_without_postprocessing` ONNX when the manifest has one (320), else fdk's export of the
 * checkpoint without the decode tail (640). Decoding in TypeScript keeps both on the same float32
 * decode as the PyTorch code.
 */
export async function modelFileFor(entry: ModelEntry, explicit?: string): Promise<ModelFileChoice> {
  if (explicit) return modelFileChoice(explicit, entry);
  if (entry.files.onnxWithoutPostprocessing)
    return { path: modelFile(entry, 'onnxWithoutPostprocessing'), boxesDecoded: false, origin: `${entry.source.repo} ONNX without postprocessing` };
  // Imported on demand: the exporter (checkpoint reader, builders) is only needed when no ONNX file is given.
  const { exportedOnnxPath } = await import('../convert/onnx-export.js');
  if (entry.input.resize.mode === 'fixed') {
    const path = await exportedOnnxPath(entry.id, { dynamic: false, postprocess: false });
    return { path, boxesDecoded: boxesDecodedFor(entry, path), origin: `fdk export of ${entry.files.pth?.path} (raw offsets)` };
  }
  return { path: await exportedOnnxPath(entry.id, { dynamic: true }), boxesDecoded: false, origin: `fdk export of ${entry.files.pth?.path} (dynamic H/W)` };
}

/** A graph with an Exp node has a box-decoding tail (Ultra-Light exports with postprocessing). */
export function onnxDecodesBoxes(path: string): boolean {
  if (extname(path).toLowerCase() !== '.onnx') return false;
  return loadOnnx(path).graph.nodes.some((n) => n.opType === 'Exp');
}

export class Detector {
  /** Input tensor buffer reused from image to image (detect() finishes with it before returning). */
  private scratch: { tensor?: Float32Array } = {};
  private constructor(
    readonly desc: ModelDescription,
    readonly model: LoadedModel,
    readonly file: ModelFileChoice,
    readonly runtime: string,
    readonly longSide: number,
  ) {}

  /** A detector for a description; without `file` / `modelPath` the description must be a manifest entry. */
  static async create(desc: ModelDescription, opts: DetectorOptions = {}): Promise<Detector> {
    const runtime = opts.runtime ?? 'ort';
    const rt = await getRuntime(runtime);
    let file = opts.file;
    if (!file && opts.modelPath) file = modelFileChoice(opts.modelPath, desc);
    if (!file) {
      if (!isManifestEntry(desc)) throw new FdkError('no model file given for this description');
      file = await modelFileFor(desc);
    }
    if (extname(file.path).toLowerCase() === '.param' && runtime !== 'ncnn') throw new FdkError(`an ncnn model runs on --runtime ncnn, not ${runtime}`, { file: file.path });
    const rs = desc.input.resize;
    const longSide = rs.mode === 'fixed' ? rs.width! : opts.longSide ?? rs.size ?? 320;
    const inputShapes: Record<string, number[]> | undefined = rs.mode === 'fixed' ? { [desc.input.name]: [1, 3, rs.height!, rs.width!] } : undefined;
    const model = await rt.load(file.path, { threads: opts.threads ?? 1, inputShapes });
    return new Detector(desc, model, file, runtime, longSide);
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
    const pre = preprocess(image, this.desc, { longSide: this.longSide, scratch: this.scratch });
    const t1 = performance.now();
    const inputName = this.model.inputNames[0] ?? this.desc.input.name;
    const { outputs } = await this.model.run({ [inputName]: { data: pre.tensor, dims: pre.dims } });
    const t2 = performance.now();
    const detections = postprocess(this.desc, outputs, pre, { boxesDecoded: this.file.boxesDecoded, file: this.file.path });
    const t3 = performance.now();
    return { detections, timings: { decodeMs: 0, preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: t3 - t2 } };
  }
}

/** Shortest decimal that reads back as the same float32 (numpy's str() of a float32 scalar). */
export function float32Repr(x: number): string {
  const v = f(x);
  // The fewest significant digits (1..9) that read back as v. If p digits read back, so do p + 1
  // (the p-digit decimal padded with a zero is a candidate no farther from v), so any search that
  // finds the smallest such p gives the same digits. Detector scores (float32 in (0.02, 1]) mostly
  // need 8 digits, some 7, few 9: start at 8 and step down, ~2 toPrecision calls instead of ~4.
  let s = v.toPrecision(8);
  if (f(Number(s)) !== v) {
    s = v.toPrecision(9); // 9 digits always round-trip a float32
  } else {
    for (let p = 8; p > 1; ) {
      const t = v.toPrecision(p - 1);
      if (f(Number(t)) !== v) break;
      p--;
      s = t;
    }
  }
  // toPrecision of the fewest digits has no trailing zeros, and is positional for 1e-6 <= |v| < 1
  // (and for larger v up to 10^p); otherwise Number/String gives Python's positional or e-form.
  const a = Math.abs(v);
  if (a >= 1e-6 && a < 1) return s;
  s = String(Number(s));
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
export function formatWider(desc: ModelDescription, imageName: string, dets: Detection[]): string {
  const name = basename(imageName).replace(/\.[^.]*$/, '');
  // one string built by appending (V8 ropes): no per-box arrays, ~4x faster than map/join
  let out = `${name}\n${dets.length}\n`;
  if (desc.postprocess.widerFormat === 'int-truncate') {
    for (const d of dets) {
      const x1 = Math.trunc(d.box[0]), y1 = Math.trunc(d.box[1]);
      out += `${x1} ${y1} ${Math.trunc(d.box[2]) - x1} ${Math.trunc(d.box[3]) - y1} ${float32Repr(d.score)} \n`;
    }
  } else {
    for (const d of dets) {
      const [x1, y1, x2, y2] = d.box;
      out += `${Math.floor(x1)} ${Math.floor(y1)} ${Math.ceil(f(x2 - x1))} ${Math.ceil(f(y2 - y1))} ${pyFixed3(d.score <= 1 ? d.score : 1)}\n`;
    }
  }
  return out;
}
