/**
 * `fdk accuracy` without the printing: for each (model, long side) row, run the detector over the
 * WIDER images, write a WIDER prediction folder exactly as the original scripts do, evaluate it
 * with the WIDER evaluator, and compare with the published and re-run numbers.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { getModel } from '../models/manifest.js';
import { descriptionForModelFile, type ModelDescription } from '../models/description.js';
import { getRuntime } from '../runtime/index.js';
import { resolveDataDir, workDir } from '../util/data.js';
import { confinedPath } from '../util/paths.js';
import { FdkError } from '../util/errors.js';
import { writeFilesAtomic } from '../util/fs.js';
import { nativeJpegAvailable } from './jpeg-native.js';
import { detectAll } from './pool.js';
import { modelFileChoice, type ModelFileChoice } from './pipeline.js';
import { PUBLISHED, PUBLISHED_ULTRA_LIGHT_NOW, rerunTargets, type Ap3 } from './targets.js';
import { evaluateWider, groundTruth, readSubsetList } from './wider/index.js';
import { int8ModelFile, int8Plan, type Int8Override, type Int8Plan } from '../quantize/cached.js';

export const ACCURACY_MODELS = ['slim', 'rfb', 'mnet0.25', 'ulfd-slim', 'ulfd-rfb'] as const;
export const ACCURACY_LONG_SIDES = [320, 640] as const;
/** Agreement required with the re-run of the original pipelines. */
export const TOLERANCE = 0.002;

export interface AccuracyOptions {
  models?: string[];
  /** Evaluate this model file (.onnx, or .param with runtime ncnn) instead of manifest models. */
  modelFile?: string;
  /** Its description (else: embedded in the ONNX, a NAME.fdk.json sidecar, or the manifest entry owning the file). */
  spec?: string;
  /** Evaluate a checkpoint of a known architecture (exported to .fdk/exports first): --arch with --weights. */
  arch?: string;
  weights?: string;
  longSides?: number[];
  /** Folder with the WIDER val event folders (or with an `images/` folder holding them). */
  widerDir?: string;
  /** List file of `event/name.jpg` lines; default: val-mini's list without --wider-dir, all ground-truth images with it. */
  subset?: string;
  runtime?: string;
  /** --runtime ncnn-int8: replaces these fields of each model's int8 recipe (--int8-method, --int8-auto-keep; autoKeep 0 = none). */
  int8?: Int8Override;
  jobs?: number;
  /** Prediction folders go to `<outDir>/<row>/`; default `.fdk/preds`. */
  outDir?: string;
  gtDir?: string;
  onProgress?: (p: { row: string; done: number; total: number }) => void;
  onRowStart?: (row: string, total: number) => void;
}

export interface AccuracyRow {
  row: string;
  model: string;
  modelId: string;
  title: string;
  longSide: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  meanInferenceMs: number;
  /**
   * Mean ms per image in the worker that ran it, by stage: JPEG decode (wall time on libuv's pool,
   * overlapping the previous image's model run), resize + normalise, model, box decode + NMS,
   * WIDER text. Workers run side by side, so the stages add up to about jobs / imagesPerSecond.
   */
  split: StageSplit;
  /** Writing the prediction folder (part of `seconds`). */
  writeSeconds: number;
  evalSeconds: number;
  ap: Ap3;
  published?: Ap3;
  publishedNow?: Ap3;
  /** The original pipeline re-run on the same image set (val-mini or full), when known. */
  rerun?: Ap3;
  /** ap - rerun. */
  diff?: Ap3;
  withinTolerance?: boolean;
  /** --runtime ncnn-int8: the recipe the int8 model was made with (the model's own unless overridden), and that model's .param. */
  int8?: Int8Plan & { model: string };
  predDir: string;
  missingPredictions: number;
}

export interface StageSplit {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
  formatMs: number;
}

const STAGES = ['decodeMs', 'preprocessMs', 'inferenceMs', 'postprocessMs', 'formatMs'] as const;

export interface AccuracyResult {
  set: 'val-mini' | 'full' | 'subset';
  imagesDir: string;
  subset: string | null;
  images: number;
  runtime: string;
  jobs: number;
  /** The JPEG decoder of the workers: fdk's libjpeg-turbo addon when built, else sharp (same pixels). */
  decoder: 'libjpeg-turbo' | 'sharp';
  tolerance: number;
  rows: AccuracyRow[];
}

export interface PlannedRow {
  row: string;
  model: string;
  modelId: string;
  title: string;
  /** A manifest entry, or the description of a model file. */
  entry: ModelDescription;
  longSide: number;
  /** The model file to run (model-file rows); manifest rows use the entry's own. */
  file?: ModelFileChoice;
}

function checkLongSides(longSides: number[]): void {
  for (const ls of longSides) if (!Number.isInteger(ls) || ls <= 0) throw new FdkError(`bad --long-side ${ls}: expected positive integers such as 320,640`);
}

/** Expands `--model` / `--long-side` into rows; `ulfd-*` ids pick their 320/640 weights by long side. */
export function planRows(models: string[], longSides: number[]): PlannedRow[] {
  const out: PlannedRow[] = [];
  checkLongSides(longSides);
  for (const ls of longSides) {
    for (const m of models) {
      const sized = /^ulfd-(slim|rfb)-(\d+)$/.exec(m);
      if (sized && Number(sized[2]) !== ls) continue; // an explicit Ultra-Light size only runs at that size
      if (/^ulfd-(slim|rfb)$/.test(m) && ls !== 320 && ls !== 640)
        throw new FdkError(`model '${m}' has no ${ls} variant (Ultra-Light weights exist for 320 and 640)`);
      const entry = getModel(m, ls);
      const model = entry.family === 'ultra-light' ? entry.id.replace(/-\d+$/, '') : entry.id;
      out.push({ row: `${model}-${ls}`, model, modelId: entry.id, title: entry.title, entry, longSide: ls });
    }
  }
  return out;
}

/**
 * Rows for one model file with a description: one per long side for a long-side model, one row
 * at its own size for a fixed-size model. A file the manifest owns keeps that entry's row name,
 * so it is compared with the same re-run numbers.
 */
export async function planFileRows(path: string, longSides: number[], spec?: string): Promise<PlannedRow[]> {
  checkLongSides(longSides);
  const found = (await descriptionForModelFile(path, { spec, required: true }))!;
  const desc = found.description;
  const file = modelFileChoice(path, desc, `${basename(path)} (description: ${found.source})`);
  const rs = desc.input.resize;
  const sides = rs.mode === 'fixed' ? [rs.width!] : longSides;
  const manifest = found.manifestId ? getModel(found.manifestId) : undefined;
  const model = manifest ? manifest.id.replace(/-\d+$/, '') : desc.name ?? basename(path).replace(/\.[^.]*$/, '');
  return sides.map((ls) => ({ row: model.endsWith(`-${ls}`) ? model : `${model}-${ls}`, model, modelId: manifest?.id ?? model, title: desc.title ?? manifest?.title ?? basename(path), entry: desc, longSide: ls, file }));
}

/** `--arch A --weights X.pth`: exports the checkpoint (no decode tail) into .fdk/exports and returns the file. */
export async function exportForAccuracy(arch: string, weights: string): Promise<string> {
  const { exportOnnx, describeExport } = await import('../convert/onnx-export.js');
  const { fixedInputShape } = await import('../models/description.js');
  const { saveOnnx } = await import('../onnx/io.js');
  const { sha256File } = await import('../util/fs.js');
  const input = fixedInputShape(describeExport(arch, { postprocess: false }));
  const model = exportOnnx({ weights, arch, input, postprocess: false });
  const path = workDir('exports', `${basename(weights).replace(/\.[^.]*$/, '')}-${arch}-${sha256File(weights).slice(0, 12)}.onnx`);
  saveOnnx(model, path);
  return path;
}

interface ImageSet {
  set: AccuracyResult['set'];
  imagesDir: string;
  subset: string | null;
  keys: string[];
}

function resolveImageSet(o: AccuracyOptions): ImageSet {
  const data = resolveDataDir();
  const gt = groundTruth(o.gtDir);
  const miniDir = join(data!, 'wider', 'val-mini');
  let imagesDir: string;
  let subset: string | null;
  let set: ImageSet['set'];
  if (!o.widerDir) {
    imagesDir = join(miniDir, 'images');
    subset = o.subset ? resolve(o.subset) : join(miniDir, 'list.txt');
    set = subset === join(miniDir, 'list.txt') ? 'val-mini' : 'subset';
  } else {
    const d = resolve(o.widerDir);
    if (!existsSync(d) || !statSync(d).isDirectory()) throw new FdkError('WIDER images folder does not exist', { file: d });
    imagesDir = existsSync(join(d, 'images')) ? join(d, 'images') : d;
    subset = o.subset ? resolve(o.subset) : null;
    set = subset === null ? 'full' : subset === join(miniDir, 'list.txt') ? 'val-mini' : 'subset';
  }
  const keys = subset ? readSubsetList(subset, gt) : gt.images.map((im) => im.key);
  const missing = keys.filter((k) => !existsSync(join(imagesDir, `${k}.jpg`)));
  if (missing.length)
    throw new FdkError(`${missing.length} of ${keys.length} WIDER images are missing (first: ${missing[0]}.jpg)`, { file: imagesDir });
  return { set, imagesDir, subset, keys };
}

export async function runAccuracy(o: AccuracyOptions = {}): Promise<AccuracyResult> {
  const longSides = o.longSides ?? [...ACCURACY_LONG_SIDES];
  if ((o.arch === undefined) !== (o.weights === undefined)) throw new FdkError('--arch and --weights go together (a checkpoint of a known architecture)');
  if (o.arch && o.modelFile) throw new FdkError('give either --model-file or --arch with --weights, not both');
  if (o.spec && !o.modelFile) throw new FdkError('--spec describes a --model-file; give the model file too');
  const modelFile = o.arch ? await exportForAccuracy(o.arch, o.weights!) : o.modelFile;
  const rows = modelFile ? await planFileRows(modelFile, longSides, o.spec) : planRows(o.models ?? [...ACCURACY_MODELS], longSides);
  if (rows.length === 0) throw new FdkError('no rows to run: check --model and --long-side');
  // ncnn-int8 = fdk's int8 quantization of the row's model (src/quantize/cached.ts) on the ncnn runtime
  const int8 = o.runtime === 'ncnn-int8';
  await getRuntime(int8 ? 'ncnn' : o.runtime ?? 'ort'); // unknown runtime names fail before any work
  const images = resolveImageSet(o);
  const targets = rerunTargets();
  const outDir = resolve(o.outDir ?? workDir('preds'));
  const runtime = o.runtime ?? 'ort';
  const jobs = o.jobs ?? 2;
  const paths = images.keys.map((k) => join(images.imagesDir, `${k}.jpg`));
  const result: AccuracyRow[] = [];
  for (const r of rows) {
    o.onRowStart?.(r.row, paths.length);
    const texts = new Array<string>(paths.length);
    let done = 0;
    const sums: StageSplit = { decodeMs: 0, preprocessMs: 0, inferenceMs: 0, postprocessMs: 0, formatMs: 0 };
    const t0 = performance.now();
    // ncnn-int8: the manifest model quantized by fdk quantize with its int8 recipe on calib-200 (cached in .fdk/int8)
    if (int8 && r.file) throw new FdkError('--runtime ncnn-int8 quantizes manifest models; quantize your file with fdk quantize and pass its .param with --model-file and --runtime ncnn');
    const plan = int8 ? int8Plan(getModel(r.modelId), o.int8) : undefined;
    const file = plan ? await int8ModelFile(getModel(r.modelId), r.longSide, plan) : r.file;
    await detectAll(r.entry, paths, { runtime: int8 ? 'ncnn' : runtime, longSide: r.longSide, jobs, widerText: true, file }, (res) => {
      texts[res.i] = res.text!;
      for (const k of STAGES) sums[k] += res.timings[k];
      o.onProgress?.({ row: r.row, done: ++done, total: paths.length });
    });
    const predDir = join(outDir, r.row);
    const tw = performance.now();
    // one atomic write per row: a failed run never leaves a half-written prediction folder; no fsync
    // per file (3226 of them on full val): the folder is regenerated by running the row again
    writeFilesAtomic(images.keys.map((k, i) => ({ path: confinedPath(predDir, `${k}.txt`), data: texts[i] })), { fsync: false });
    const seconds = (performance.now() - t0) / 1000;
    const writeSeconds = (performance.now() - tw) / 1000;
    const n = Math.max(1, paths.length);
    const split = Object.fromEntries(STAGES.map((k) => [k, sums[k] / n])) as unknown as StageSplit;
    const t1 = performance.now();
    // explicit keys: only these images count and scores are normalised over them (the full set
    // given as keys equals the official whole-folder evaluation; stale files are ignored)
    const ev = evaluateWider(predDir, { gtDir: o.gtDir, subset: images.keys });
    const evalSeconds = (performance.now() - t1) / 1000;
    const ap: Ap3 = { easy: ev.easy, medium: ev.medium, hard: ev.hard };
    const t = targets[r.row];
    const rerun = images.set === 'full' ? t?.full : images.set === 'val-mini' ? t?.valMini : undefined;
    const diff = rerun ? { easy: ap.easy - rerun.easy, medium: ap.medium - rerun.medium, hard: ap.hard - rerun.hard } : undefined;
    result.push({
      row: r.row,
      model: r.model,
      modelId: r.modelId,
      title: r.title,
      longSide: r.longSide,
      images: paths.length,
      seconds,
      imagesPerSecond: paths.length / seconds,
      meanInferenceMs: split.inferenceMs,
      split,
      writeSeconds,
      evalSeconds,
      ap,
      published: PUBLISHED[r.row],
      publishedNow: PUBLISHED_ULTRA_LIGHT_NOW[r.row],
      rerun,
      diff,
      withinTolerance: diff ? Math.max(Math.abs(diff.easy), Math.abs(diff.medium), Math.abs(diff.hard)) <= TOLERANCE : undefined,
      ...(plan && file ? { int8: { ...plan, model: file.path } } : {}),
      predDir,
      missingPredictions: ev.missing,
    });
  }
  return { set: images.set, imagesDir: images.imagesDir, subset: images.subset, images: paths.length, runtime, jobs, decoder: nativeJpegAvailable() ? 'libjpeg-turbo' : 'sharp', tolerance: TOLERANCE, rows: result };
}
