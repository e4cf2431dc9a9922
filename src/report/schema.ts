/**
 * The report JSON written by `fdk report` (report.json) and committed as the CI baseline
 * (reports/baseline.json, the same shape with paths and PR curves stripped).
 *
 * Every stage of every model carries a status, with the reason when it is not 'ok'; a stage that did
 * not run never carries made-up numbers. A runtime that cannot start on this machine is
 * `not-available` (report.runtimes); older reports may also have stages with that status.
 */

export const REPORT_FORMAT = 'fdk-report/1';

/** 'partial': the stage ran but some of its parts failed (listed in data.errors); data holds the rest. */
export type StageStatus = 'ok' | 'partial' | 'failed' | 'not-available' | 'skipped';

/** Outcome of one stage for one model. `data` is present only when status is 'ok' or 'partial'. */
export interface Stage<T> {
  status: StageStatus;
  /** Wall time of the stage (ms). */
  ms?: number;
  /** Why it failed / is not available / was skipped: one line. */
  reason?: string;
  data?: T;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memGB: number;
  platform: string;
  node: string;
  date: string; // ISO date-time of the run
}

export interface ReportOptions {
  models: string[];
  /** Image subset the accuracy rows were computed on (relative to the data folder), e.g. wider/val-mini/list.txt. */
  subset: string;
  subsetImages?: number;
  /** Accuracy ran on the full WIDER val set (`--wider-dir`): the published tables apply. */
  fullVal?: boolean;
  longSides: number[];
  runtimes: string[];
  /** The browser whose lanes the bench stage added (`fdk report --browser chromium`). */
  browser?: string;
  threads: number[];
  benchWarmup: number;
  benchRuns: number;
  /** Free-form notes on reduced scope (e.g. accuracy rows run on fewer runtimes in CI). */
  notes: string[];
}

export interface ExportInfo {
  /** 'checkpoint': exported by fdk from the .pth; 'override': a file given with --model-file. */
  source: 'checkpoint' | 'override';
  file: string; // file name only (no machine paths in the baseline)
  bytes: number;
  sha256?: string;
  nodes?: number;
  /** Inputs/outputs of the exported graph. */
  inputs?: string[];
  outputs?: string[];
}

export interface OpTypeMacs {
  opType: string;
  count: number;
  params: number;
  macs: number;
}

export interface AnalyzeInfo {
  convention: string;
  input: number[];
  params: number;
  macs: number;
  flops: number;
  weightBytes?: number;
  peakActivationBytes?: number;
  perOpType: OpTypeMacs[];
  published?: { params: number; macs: number };
}

export interface NcnnConversion {
  precision: 'fp32' | 'fp16';
  /** Whether the real ncnn (PyPI) loads the .param/.bin. */
  loads: boolean;
  loadError?: string;
  layers: number;
  blobs?: number;
  weightBytes: number;
  ms?: number;
}

export interface ParityPair {
  a: string; // runtime, e.g. 'ort'
  b: string; // e.g. 'ncnn'
  maxAbsDiff: number;
  atol: number;
  /** Relative tolerance of the allclose rule |a-b| <= atol + rtol*|a| (absent in old reports = 0). */
  rtol?: number;
  pass: boolean;
  /** Optional per-output detail. */
  outputs?: { name: string; maxAbsDiff: number }[];
  /** Why a pair failed (which outputs, or detection-level mismatch after postprocessing). */
  detail?: string;
}

export interface ParityInfo {
  images: number;
  pairs: ParityPair[];
  errors?: string[];
}

export interface BenchRow {
  runtime: string; // ort | wasm | ncnn | ncnn-fp16 | ncnn-int8
  threads: number;
  shape: number[];
  runs: number;
  loadMs?: number;
  firstRunMs?: number;
  minMs: number;
  /** 10th percentile (absent in reports made before it was recorded). */
  p10Ms?: number;
  medianMs: number;
  p90Ms: number;
  p99Ms?: number;
  meanMs: number;
  stddevMs?: number;
  peakRssMB?: number;
}

/** A PR curve as parallel arrays (precision/recall), downsampled for the report. */
export interface PrCurve {
  precision: number[];
  recall: number[];
}

export interface AccuracyRow {
  runtime: string; // ort | wasm | ncnn | ncnn-fp16 | ncnn-int8
  longSide: number;
  images: number;
  easy: number;
  medium: number;
  hard: number;
  /** AP of the original PyTorch pipeline on the same subset, when known (val-mini expected.json). */
  reference?: { easy: number; medium: number; hard: number };
  pr?: { easy?: PrCurve; medium?: PrCurve; hard?: PrCurve };
  ms?: number;
  /** ncnn-int8 rows: the recipe the int8 model was made with (the model's own unless --int8-method / --int8-auto-keep). */
  int8?: { method: string; autoKeep?: number; keepFp32?: string[]; from: string; label: string };
  /** Throughput of `fdk accuracy` (rows it ran): images/s, and mean ms per image in its worker by stage. */
  imagesPerSecond?: number;
  split?: { decodeMs: number; preprocessMs: number; inferenceMs: number; postprocessMs: number; formatMs: number };
}

export interface AccuracyInfo {
  rows: AccuracyRow[];
  /** Rows that were not run (runtime not available, or left out to keep the CI budget). */
  missing?: { runtime: string; longSide: number; reason: string }[];
  errors?: string[];
}

/** The 1-minute load average around a bench stage: latency means little on a busy machine. */
export interface LoadAverage {
  before: number;
  after: number;
  cores: number;
}

export interface BenchInfo {
  rows: BenchRow[];
  load?: LoadAverage;
  errors?: string[];
}

export interface ModelReport {
  id: string;
  title: string;
  family: string;
  arch: string;
  export: Stage<ExportInfo>;
  analyze: Stage<AnalyzeInfo>;
  ncnn: Stage<{ fp32?: NcnnConversion; fp16?: NcnnConversion; errors?: string[] }>;
  parity: Stage<ParityInfo>;
  bench: Stage<BenchInfo>;
  accuracy: Stage<AccuracyInfo>;
}

export interface StageTiming {
  stage: string;
  model?: string;
  ms: number;
  status: StageStatus;
}

export interface Report {
  format: typeof REPORT_FORMAT;
  fdkVersion: string;
  machine: MachineInfo;
  options: ReportOptions;
  runtimes: { name: string; version: string; status: StageStatus; reason?: string }[];
  models: ModelReport[];
  stageTimes: StageTiming[];
  totalMs: number;
  /** Result of --check against the baseline, when it was run (not part of a baseline). */
  check?: {
    baseline: string;
    ok: boolean;
    compared: number;
    rows: { severity: 'fail' | 'warn'; model: string; metric: string; old: string; new: string; rule: string }[];
    notes: string[];
  };
}

export const STAGE_NAMES = ['export', 'analyze', 'ncnn', 'parity', 'bench', 'accuracy'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/**
 * The committed baseline form of a report: numbers only. Drops PR curves (large, and AP already
 * summarises them) and anything machine-specific that is not a number we gate on.
 */
export function toBaseline(r: Report): Report {
  const copy = JSON.parse(JSON.stringify(r)) as Report;
  delete copy.check;
  for (const m of copy.models) {
    if (m.accuracy.data) for (const row of m.accuracy.data.rows) delete row.pr;
  }
  return copy;
}

/** Light structural validation of a report/baseline read from disk; returns a problem or undefined. */
export function reportProblem(x: unknown): string | undefined {
  if (!x || typeof x !== 'object') return 'not a JSON object';
  const r = x as Partial<Report>;
  if (r.format !== REPORT_FORMAT) return `not an fdk report (format is ${JSON.stringify(r.format)}, expected ${REPORT_FORMAT})`;
  if (!Array.isArray(r.models)) return 'no models array';
  for (const m of r.models) {
    if (!m || typeof m.id !== 'string') return 'a model entry has no id';
    for (const s of STAGE_NAMES) if (!m[s] || typeof m[s].status !== 'string') return `model '${m.id}' has no ${s} stage`;
  }
  return undefined;
}
