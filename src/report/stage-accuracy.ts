/**
 * Report stage "accuracy": WIDER FACE AP (easy/medium/hard) with PR curves, per runtime and long
 * side, on the report's image subset (default val-mini).
 *
 * ort / wasm / ncnn rows are `fdk accuracy`'s own runs (src/accuracy/run.ts, parallel workers, the
 * model file that command validates). Two cases need a model file of the report's choosing and run
 * the same pipeline (Detector, formatWider, evaluateWider) with that file:
 *  - `ncnn-fp16`: the fp16 ncnn conversion of that same model file;
 *  - `ncnn-int8`: that model quantized by `fdk quantize` with its int8 recipe (the description's `int8`, else
 *    the default method; --int8-method / --int8-auto-keep override it), on wider/calib-200 (src/quantize/cached.ts);
 *  - `--model-file ID=PATH`: every row of that model runs PATH (e.g. a perturbed copy).
 * PR curves come from evaluating the written prediction folder with the WIDER evaluator.
 */
import { existsSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import type { ModelEntry } from '../models/manifest.js';
import { loadOnnx } from '../onnx/io.js';
import { resolveDataDir } from '../util/data.js';
import { writeFilesAtomic } from '../util/fs.js';
import type { ModelFileChoice } from '../accuracy/pipeline.js';
import { int8ModelFile, int8Plan, type Int8Plan } from '../quantize/cached.js';
import type { PrCurve as WiderPrCurve } from '../accuracy/wider/index.js';
import { fixedInputShapes } from './stage-ncnn.js';
import type { AccuracyInfo, AccuracyRow, PrCurve } from './schema.js';
import { longSidesFor, type ModelContext, type ReportRuntime } from './context.js';

export const DEFAULT_SUBSET = 'wider/val-mini/list.txt';
/** Points kept per PR curve in the report (the evaluator gives 1000 thresholds). */
const PR_POINTS = 100;

/** The images folder of a WIDER_val folder given with --wider-dir (its images/, or the folder itself). */
export function widerImagesDir(dir: string): string {
  return existsSync(join(dir, 'images')) ? join(dir, 'images') : dir;
}

/** The subset list path: absolute as given, else relative to the data folder. */
export function resolveSubset(subset: string): string {
  return isAbsolute(subset) ? subset : join(resolveDataDir()!, subset);
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/** Downsamples a 1000-threshold PR curve, dropping thresholds where nothing passes (NaN/null). */
export function thinCurve(pr: WiderPrCurve | undefined, points = PR_POINTS): PrCurve | undefined {
  if (!pr) return undefined;
  const idx: number[] = [];
  for (let i = 0; i < pr.recall.length; i++) {
    const p = pr.precision[i];
    const r = pr.recall[i];
    if (Number.isFinite(p) && Number.isFinite(r)) idx.push(i);
  }
  if (!idx.length) return undefined;
  const step = Math.max(1, Math.ceil(idx.length / points));
  const keep = idx.filter((_, k) => k % step === 0 || k === idx.length - 1);
  return { precision: keep.map((i) => round6(pr.precision[i])), recall: keep.map((i) => round6(pr.recall[i])) };
}

/** Runs the detector pool over `paths` with a given model file; returns the WIDER texts in order. */
async function detectWithFile(entry: ModelEntry, runtime: string, longSide: number, file: ModelFileChoice, paths: string[], jobs: number): Promise<string[]> {
  const { detectAll } = await import('../accuracy/pool.js');
  const texts = new Array<string>(paths.length);
  await detectAll(entry, paths, { runtime, longSide, jobs, file, widerText: true }, (r) => (texts[r.i] = r.text!));
  return texts;
}

export async function accuracyStage(ctx: ModelContext): Promise<AccuracyInfo> {
  const { entry, opts } = ctx;
  // Imported on demand: the accuracy modules load the runtimes and the image decoder (sharp).
  const { runAccuracy } = await import('../accuracy/run.js');
  const { modelFileFor } = await import('../accuracy/pipeline.js');
  const wider = await import('../accuracy/wider/index.js');
  const { rerunTargets } = await import('../accuracy/targets.js');
  // --wider-dir: every ground-truth image of the full val set; otherwise a list under val-mini's images.
  const full = opts.widerDir !== undefined;
  const subset = full ? undefined : resolveSubset(opts.subset);
  const isValMini = subset === resolveSubset(DEFAULT_SUBSET);
  const keys = subset ? wider.readSubsetList(subset, wider.groundTruth()) : wider.groundTruth().images.map((im) => im.key);
  const imagesDir = full ? widerImagesDir(opts.widerDir!) : join(resolveDataDir()!, 'wider', 'val-mini', 'images');
  const paths = keys.map((k) => join(imagesDir, `${k}.jpg`));
  const override = opts.modelFiles[entry.id];
  const jobs = opts.jobs ?? 2;

  const restricted = opts.accuracyModelsAllRuntimes && !opts.accuracyModelsAllRuntimes.includes(entry.id);
  // the int8 row has its own model list (--int8-for): it is chosen apart from the other non-ort rows
  const int8Here = !opts.int8Models || opts.int8Models.includes(entry.id);
  const runs = (r: ReportRuntime) => r === 'ort' || (r === 'ncnn-int8' ? int8Here : !restricted);
  const runtimes: ReportRuntime[] = opts.accuracyRuntimes.filter(runs);
  const rows: AccuracyRow[] = [];
  const missing: AccuracyInfo['missing'] = [];
  const errors: string[] = [];
  for (const r of opts.accuracyRuntimes)
    if (!runtimes.includes(r))
      for (const ls of longSidesFor(entry, opts.longSides))
        missing.push({ runtime: r, longSide: ls, reason: `not run (CI time budget: ${r === 'ncnn-int8' ? '--int8-for' : '--accuracy-all-runtimes-for'})` });

  // The model file fdk accuracy uses (or the override), and its fp16 ncnn conversion when asked for.
  const file = await modelFileFor(entry, override);
  let fp16File: ModelFileChoice | undefined;
  if (runtimes.includes('ncnn-fp16')) {
    const { convertOnnxFileToNcnn } = await import('../convert/ncnn/index.js');
    const stem = join(ctx.dir, `accuracy-${basename(file.path).replace(/\.onnx$/i, '')}-fp16`);
    convertOnnxFileToNcnn(file.path, { inputShapes: fixedInputShapes(loadOnnx(file.path)), fp16: true, param: `${stem}.param`, bin: `${stem}.bin` });
    // The pipeline reads decoded-or-raw boxes from the source ONNX; the conversion keeps the outputs.
    fp16File = { path: `${stem}.param`, boxesDecoded: file.boxesDecoded, origin: `fp16 ncnn conversion of ${basename(file.path)}` };
  }

  const targets = rerunTargets();
  for (const longSide of longSidesFor(entry, opts.longSides)) {
    const rowId = `${entry.arch}-${longSide}`;
    for (const runtime of runtimes) {
      const t0 = performance.now();
      let predDir = join(ctx.dir, 'preds', `${runtime}-${longSide}`);
      let speed: Pick<AccuracyRow, 'imagesPerSecond' | 'split'> = {};
      let int8: Int8Plan | undefined;
      try {
        if (runtime === 'ncnn-fp16' || runtime === 'ncnn-int8' || override) {
          const rt = runtime === 'ncnn-fp16' || runtime === 'ncnn-int8' ? 'ncnn' : runtime;
          // ncnn-int8: fdk quantize of the same model file with the model's recipe, calibrated on wider/calib-200 at this long side
          if (runtime === 'ncnn-int8') int8 = int8Plan(entry, opts.int8Override);
          const int8File = int8 ? await int8ModelFile(entry, longSide, int8) : undefined;
          const texts = await detectWithFile(entry, rt, longSide, int8File ?? (runtime === 'ncnn-fp16' ? fp16File! : file), paths, jobs);
          writeFilesAtomic(keys.map((k, i) => ({ path: join(predDir, `${k}.txt`), data: texts[i] })));
        } else {
          const res = await runAccuracy({ models: [entry.id], longSides: [longSide], subset, widerDir: opts.widerDir, runtime, jobs, outDir: join(ctx.dir, 'preds', runtime) });
          const row = res.rows.find((x) => x.modelId === entry.id && x.longSide === longSide);
          if (!row) throw new Error(`fdk accuracy returned no row for ${entry.id}@${longSide}`);
          // evaluate that run's prediction folder again below for the PR curves (same subset semantics)
          if (!existsSync(row.predDir)) throw new Error(`fdk accuracy wrote no predictions at ${row.predDir}`);
          predDir = row.predDir;
          speed = { imagesPerSecond: round6(row.imagesPerSecond), split: row.split };
        }
        const ev = wider.evaluateWider(predDir, { subset });
        const ref = full ? targets[rowId]?.full : isValMini ? targets[rowId]?.valMini : undefined;
        rows.push({
          runtime, longSide, images: ev.images,
          easy: round6(ev.easy), medium: round6(ev.medium), hard: round6(ev.hard),
          ...(ref ? { reference: ref } : {}),
          ...(int8 ? { int8 } : {}),
          pr: { easy: thinCurve(ev.pr.easy), medium: thinCurve(ev.pr.medium), hard: thinCurve(ev.pr.hard) },
          ms: Math.round(performance.now() - t0),
          ...speed,
        });
        opts.log(`report: ${entry.id.padEnd(14)}   accuracy ${runtime}@${longSide}: ${ev.easy.toFixed(4)} / ${ev.medium.toFixed(4)} / ${ev.hard.toFixed(4)}${int8 ? ` [${int8.label}, ${int8.from}]` : ''} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        errors.push(`${runtime}@${longSide}: ${String((e as Error).message).split('\n')[0]}`);
      }
    }
  }
  if (!rows.length && errors.length) throw new Error(errors.join('; '));
  return { rows, ...(missing.length ? { missing } : {}), ...(errors.length ? { errors } : {}) };
}
