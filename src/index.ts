/**
 * fdk as a library: the same engines the CLI runs, as typed functions (docs/api.md).
 *
 *   import { analyze, exportCheckpoint, convertToNcnn, loadRuntime, parity, bench, detect, evaluateWider } from 'fdk-edge';
 *
 * The few task functions defined here take plain options (no CLI strings) and return the same
 * reports the CLI prints with --json; the engines behind them are re-exported for finer control.
 * Errors about the user's input are FdkError (one line, naming the file).
 */
import { join, resolve } from 'node:path';
import { analyzeFile, type AnalysisReport, type AnalyzeOptions } from './analyze/index.js';
import { exportOnnxWithSummary, type ExportOptions, type ExportSummary } from './convert/onnx-export.js';
import { checkpointName } from './convert/pytorch/checkpoint.js';
import { convertCheckedModel, type ConvertOptions, type ConvertSummary } from './convert/ncnn/index.js';
import { loadOnnx, saveOnnx } from './onnx/io.js';
import { getRuntime } from './runtime/index.js';
import { resolveModelSource } from './runtime/model-source.js';
import type { Runtime, RuntimeName } from './runtime/types.js';
import { parityCases, type ParityCaseOptions } from './parity/cases.js';
import { runParity, type ParityReport } from './parity/run-parity.js';
import type { Tolerance } from './parity/metrics.js';
import { runBench, type BenchOptions, type BenchReport } from './bench/run-bench.js';
import { Detector, type Detection } from './accuracy/pipeline.js';
import { getModel } from './models/manifest.js';
import { outputDir, taggedName, writeOutputData, writeOutputs, type OutputOutcome } from './util/fs.js';

// ---------------------------------------------------------------------------------------------
// Task functions

/** Params, MACs/FLOPs, weight bytes and peak activation memory of an .onnx or ncnn .param file. */
export function analyze(model: string, opts: AnalyzeOptions = {}): Promise<AnalysisReport> {
  return analyzeFile(model, opts);
}

export interface ExportCheckpointOptions extends Omit<ExportOptions, 'weights'> {
  /** Output file; default `<outDir>/<checkpoint name>[-foldbn][-nopost].onnx`. */
  output?: string;
  /** Folder for the default name; default `./fdk-out`. */
  outDir?: string;
  /** Replace an existing output that holds a different model. */
  force?: boolean;
}

/** PyTorch checkpoint (.pth) -> ONNX, without PyTorch. Identical bytes already there are left alone. */
export async function exportCheckpoint(weights: string, opts: ExportCheckpointOptions): Promise<{ path: string; outcome: OutputOutcome; summary: ExportSummary }> {
  const { model, summary } = exportOnnxWithSummary({ ...opts, weights });
  const tags = [opts.foldBn && 'foldbn', opts.postprocess === false && 'nopost', opts.input && opts.input.slice(2).join('x')];
  const path = resolve(opts.output ?? join(outputDir(opts.outDir), taggedName(checkpointName(weights), tags, '.onnx')));
  const { outcome } = await writeOutputs([path], ([tmp]) => saveOnnx(model, tmp), { force: opts.force, option: 'output' });
  return { path, outcome, summary };
}

export interface ConvertToNcnnOptions extends ConvertOptions {
  /** PREFIX.param / PREFIX.bin; default `<outDir>/<name>[-fp16][-noopt]`. */
  prefix?: string;
  outDir?: string;
  force?: boolean;
}

/** ONNX -> ncnn .param/.bin with fdk's converter. */
export async function convertToNcnn(onnx: string, opts: ConvertToNcnnOptions = {}): Promise<{ param: string; bin: string; outcome: OutputOutcome; summary: ConvertSummary }> {
  const stem = taggedName(onnx.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, ''), [opts.fp16 && 'fp16', opts.optimize === false && 'noopt']);
  const prefix = resolve(opts.prefix ?? join(outputDir(opts.outDir), stem));
  const paths = [`${prefix}.param`, `${prefix}.bin`];
  const { result, outcome } = await writeOutputData(paths, () => {
    const r = convertCheckedModel(loadOnnx(onnx), onnx, opts);
    return { result: r, data: [r.param, r.bin] };
  }, { force: opts.force, option: 'prefix' });
  return { param: paths[0], bin: paths[1], outcome, summary: result.summary };
}

/** A runtime adapter ('ort', 'ort-wasm', 'ncnn', 'ncnn-wasm'): `load(model)` then `run(feeds)` and `release()`. */
export function loadRuntime(name: RuntimeName | string): Promise<Runtime> {
  return getRuntime(name);
}

export interface ParityApiOptions extends ParityCaseOptions {
  runtimes?: RuntimeName[];
  tolerance?: Tolerance;
  threads?: number;
  ncnnParam?: string;
  /** onnxName=ncnnName pairs for outputs/inputs whose names differ. */
  map?: Record<string, string>;
}

/** Same inputs through several runtimes, outputs compared pairwise (any .onnx/.param, or a model id). */
export async function parity(model: string, opts: ParityApiOptions = {}): Promise<ParityReport> {
  const src = await resolveModelSource(model);
  const { cases, entry } = await parityCases(src, opts);
  return runParity(src, entry, cases, {
    runtimes: opts.runtimes ?? ['ort', 'ort-wasm', 'ncnn'],
    tol: opts.tolerance ?? { atol: 1e-4, rtol: 0 },
    threads: opts.threads,
    ncnnParam: opts.ncnnParam,
    map: opts.map,
  });
}

/** Latency, load time and peak memory per runtime x threads x input shape (each case in its own process). */
export async function bench(model: string, opts: Partial<BenchOptions> = {}): Promise<BenchReport> {
  const src = await resolveModelSource(model);
  return runBench(src, { runtimes: ['ort'], threads: [1], shapes: [], warmup: 5, runs: 30, ...opts });
}

/** Faces in image files with a described model (manifest id): boxes, scores, landmarks. */
export async function detect(images: string[], opts: { model: string; runtime?: RuntimeName; longSide?: number; threads?: number }): Promise<{ image: string; detections: Detection[] }[]> {
  const det = await Detector.create(getModel(opts.model), { runtime: opts.runtime, longSide: opts.longSide, threads: opts.threads });
  try {
    const out: { image: string; detections: Detection[] }[] = [];
    for (const image of images) out.push({ image, detections: (await det.detectFile(image)).detections });
    return out;
  } finally {
    await det.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Engines and types, for finer control

export { analyzeFile, onnxLayerGraph, summarize, CONVENTIONS } from './analyze/index.js';
export type { AnalysisReport, AnalyzeOptions, Convention, LayerGraph } from './analyze/index.js';
export { loadOnnx, saveOnnx, encodeOnnx } from './onnx/io.js';
export type { Model, Node, Graph } from './onnx/model.js';
export { GraphBuilder, A } from './onnx/builder.js';
export { Tensor } from './onnx/tensor.js';
export { cleanOnnx } from './onnx/clean.js';
export { exportOnnx, exportOnnxWithSummary } from './convert/onnx-export.js';
export type { ExportOptions, ExportSummary } from './convert/onnx-export.js';
export { ARCH_IDS } from './convert/builders/index.js';
export { convertOnnxToNcnn, convertOnnxFileToNcnn } from './convert/ncnn/index.js';
export type { ConvertOptions, ConvertSummary } from './convert/ncnn/index.js';
export { getRuntime, parseRuntimeList, RUNTIME_NAMES } from './runtime/index.js';
export type { Runtime, RuntimeName, LoadedModel, LoadOptions, NamedTensor, TensorMap, RunResult } from './runtime/types.js';
export { resolveModelSource, concreteInputShapes } from './runtime/model-source.js';
export type { ModelSource } from './runtime/model-source.js';
export { runParity } from './parity/run-parity.js';
export type { ParityReport, ParityOptions, PairResult } from './parity/run-parity.js';
export { parityCases } from './parity/cases.js';
export type { ParityCaseOptions } from './parity/cases.js';
export { syntheticCases, arrayCases, type ParityCase } from './parity/feeds.js';
export { pairOutputs, parseNameMap } from './parity/pairing.js';
export { runPerLayer, type PerLayerReport } from './parity/per-layer.js';
export { tensorDiff, type Tolerance, type TensorDiff } from './parity/metrics.js';
export { runBench } from './bench/run-bench.js';
export type { BenchOptions, BenchReport } from './bench/run-bench.js';
export { Detector, postprocess } from './accuracy/pipeline.js';
export type { Detection } from './accuracy/pipeline.js';
export { loadImage } from './accuracy/image.js';
export { preprocess } from './accuracy/preprocess.js';
export { runAccuracy, type AccuracyOptions, type AccuracyResult } from './accuracy/run.js';
export { evaluateWider, groundTruth, type EvaluateWiderOptions, type WiderResult } from './accuracy/wider/index.js';
export { loadManifest, getModel, type ModelEntry } from './models/manifest.js';
export { FdkError } from './util/errors.js';
export { fdkVersion } from './util/package-info.js';
export { writeOutputs, outputDir, type OutputOutcome } from './util/fs.js';
export { JSON_SCHEMA_VERSION } from './cli/output.js';
