/** What the report stages of one model share: options, the ONNX file in use, the ncnn files. */
import type { ModelEntry } from '../models/manifest.js';
import type { StageName } from './schema.js';
import type { RuntimeName } from '../runtime/registry.js';
import type { Int8Override } from '../quantize/cached.js';

/** A runtime of the registry, or 'ncnn-fp16' / 'ncnn-int8' (ncnn on the fp16 conversion / fdk quantize's int8 model) for accuracy rows. */
export type ReportRuntime = RuntimeName | 'ncnn-fp16' | 'ncnn-int8';

export interface ReportRunOptions {
  /** Manifest ids (default: all). */
  models?: string[];
  out: string;
  longSides: number[];
  /** Runtimes for parity and bench. */
  runtimes: RuntimeName[];
  /** Runtimes for accuracy rows ('ncnn-fp16' = the fp16 ncnn conversion, 'ncnn-int8' = fdk quantize). */
  accuracyRuntimes: ReportRuntime[];
  /** Accuracy on non-ort runtimes only for these models (undefined = all): keeps the CI budget. */
  accuracyModelsAllRuntimes?: string[];
  /** The ncnn-int8 row only for these models (undefined = all; `--int8-for`): it costs a calibration run besides the AP run. */
  int8Models?: string[];
  /** Fields replacing each model's int8 recipe for the ncnn-int8 row (`--int8-method`, `--int8-auto-keep`). */
  int8Override?: Int8Override;
  threads: number[];
  /**
   * `--browser chromium`: the bench stage also times the browser runtimes of `runtimes` inside this
   * browser (rows `ncnn-wasm@chromium`, ...). Latency only: parity in the browser is `fdk parity --browser`.
   */
  browser?: string;
  benchWarmup: number;
  benchRuns: number;
  /** Image list (WIDER `event/name.jpg` lines), absolute or relative to the data folder. */
  subset: string;
  /** A WIDER_val folder: accuracy on the full val set (all ground-truth images) instead of `subset`. */
  widerDir?: string;
  /** Stages to run (others are 'skipped'). */
  stages: StageName[];
  /** `ID=PATH`: use this ONNX file for a model instead of exporting it (e.g. a perturbed copy). */
  modelFiles: Record<string, string>;
  jobs?: number;
  log: (line: string) => void;
  /** Called as each stage of each model starts: `done` stages of `total` finished (a progress bar). */
  onStage?: (done: number, total: number, label: string) => void;
}

export interface NcnnFiles {
  param: string;
  bin: string;
}

export interface ModelContext {
  entry: ModelEntry;
  opts: ReportRunOptions;
  /** Folder for this model's generated files (.fdk/report/<key of --out>/<id>/). */
  dir: string;
  /** The ONNX every later stage uses (export, override, or the manifest's own file). */
  onnxPath?: string;
  /** Whether onnxPath has dynamic H/W (seed exports) or a fixed size (Ultra-Light). */
  onnxDynamic?: boolean;
  ncnn: { fp32?: NcnnFiles; fp16?: NcnnFiles };
}

/** Long sides a model is evaluated at: seed models at every requested size, Ultra-Light at its own. */
export function longSidesFor(entry: ModelEntry, requested: number[]): number[] {
  if (entry.input.resize.mode === 'fixed') {
    const own = Math.max(entry.input.resize.width ?? 0, entry.input.resize.height ?? 0);
    return requested.includes(own) ? [own] : [];
  }
  return requested;
}

/** NCHW input shapes for bench/analyze: long-side models as 4:3 landscape (320×240, 640×480). */
export function benchShapesFor(entry: ModelEntry, longSides: number[]): number[][] {
  return longSidesFor(entry, longSides).map((s) => [1, 3, (s * 3) / 4, s]);
}
