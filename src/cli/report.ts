/**
 * `fdk report`: run export, analyze, ncnn conversion, parity, bench and accuracy for the manifest
 * models, write reports/latest/report.{json,md,html}, and with --check gate against the baseline.
 */
import type { Command } from 'commander';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FdkError } from '../util/errors.js';
import { PROJECT_ROOT } from '../util/data.js';
import { fsError, writeFileAtomic } from '../util/fs.js';
import { printJson } from './output.js';
import { getModel } from '../models/manifest.js';
import { STAGE_NAMES, reportProblem, toBaseline, type Report, type StageName } from '../report/schema.js';
import { compareReports, formatCompare, DEFAULT_LATENCY_THRESHOLD } from '../report/compare.js';
import { runReport, writeReport } from '../report/run.js';
import { DEFAULT_SUBSET } from '../report/stage-accuracy.js';
import type { ReportRuntime } from '../report/context.js';
import { secs } from '../report/tables.js';

interface Opts {
  models?: string;
  out: string;
  baseline?: string;
  check?: boolean;
  updateBaseline?: boolean;
  from?: string;
  stages: string;
  runtimes: string;
  accuracyRuntimes: string;
  accuracyAllRuntimesFor: string;
  threads: string;
  longSide: string;
  warmup: string;
  runs: string;
  subset: string;
  modelFile: string[];
  latencyThreshold: string;
  json?: boolean;
}

/**
 * wasm/ncnn/ncnn-fp16 accuracy rows cost ~30 s each on 2 cores; running them for every model would
 * take the report past its CI budget. These models (a seed model at 320 and 640, an Ultra-Light
 * model) cover both families and both sizes; `--accuracy-all-runtimes-for all` runs everything.
 */
export const DEFAULT_ALL_RUNTIME_MODELS = ['slim', 'ulfd-slim-320'];

const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

function ints(s: string, flag: string): number[] {
  const v = list(s).map(Number);
  if (!v.length || v.some((x) => !Number.isInteger(x) || x <= 0)) throw new FdkError(`bad ${flag} '${s}': expected positive integers separated by commas`);
  return v;
}

function oneOf<T extends string>(s: string, allowed: readonly T[], flag: string): T[] {
  const v = list(s);
  for (const x of v) if (!allowed.includes(x as T)) throw new FdkError(`bad ${flag}: unknown '${x}' (known: ${allowed.join(', ')})`);
  return v as T[];
}

function parseModelFiles(specs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs) {
    const i = s.indexOf('=');
    if (i <= 0) throw new FdkError(`bad --model-file '${s}': expected ID=PATH`);
    getModel(s.slice(0, i)); // an unknown id fails here, in one line
    const p = resolve(s.slice(i + 1));
    if (!existsSync(p)) throw new FdkError('no such file (from --model-file)', { file: p });
    out[s.slice(0, i)] = p;
  }
  return out;
}

export function readReportFile(path: string, what: string): Report {
  if (!existsSync(path)) throw new FdkError(`no ${what} file (create one with fdk report --update-baseline)`, { file: path });
  let x: unknown;
  try {
    x = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FdkError(`${what} is not valid JSON: ${(e as Error).message.split('\n')[0]}`, { file: path });
  }
  const problem = reportProblem(x);
  if (problem) throw new FdkError(`${what} is not an fdk report: ${problem}`, { file: path });
  return x as Report;
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command): void {
  program
    .command('report')
    .description('run every stage (export, analyze, ncnn, parity, bench, accuracy) for the models and write report.{json,md,html}; --check gates against the baseline')
    .option('--models <ids>', 'comma-separated manifest ids (default: all)')
    .option('--out <dir>', 'output folder', 'reports/latest')
    .option('--baseline <file>', 'baseline report for --check / --update-baseline (default: reports/baseline.json of the project)')
    .option('--check', 'compare with the baseline; exit non-zero on an AP change > 0.002, a parity failure, a params/MACs change or an ncnn load failure')
    .option('--update-baseline', 'write this run as the new baseline (numbers only)')
    .option('--from <report.json>', 'use an existing report.json instead of running the stages (re-render / check it)')
    .option('--stages <list>', `stages to run (${STAGE_NAMES.join(',')})`, STAGE_NAMES.join(','))
    .option('--runtimes <list>', 'runtimes for parity and bench', 'ort,wasm,ncnn')
    .option('--accuracy-runtimes <list>', 'runtimes for accuracy rows (ncnn-fp16 = fp16 conversion, ncnn-int8 = fdk quantize on calib-200)', 'ort,wasm,ncnn,ncnn-fp16,ncnn-int8')
    .option('--accuracy-all-runtimes-for <ids>', `run the non-ort accuracy rows only for these models, or 'all' (keeps the report within the CI budget)`, DEFAULT_ALL_RUNTIME_MODELS.join(','))
    .option('--threads <list>', 'bench thread counts', '1,2')
    .option('--long-side <list>', 'long sides for bench and accuracy', '320,640')
    .option('--warmup <n>', 'bench warm-up runs', '2')
    .option('--runs <n>', 'bench timed runs', '10')
    .option('--subset <list>', 'WIDER image list for accuracy (relative to the data folder or absolute)', DEFAULT_SUBSET)
    .option('--model-file <id=path>', 'use this ONNX for a model instead of exporting it (repeatable)', collect, [])
    .option('--latency-threshold <r>', 'flag median-latency changes beyond this relative amount', String(DEFAULT_LATENCY_THRESHOLD))
    .option('--json', 'print the report (and the check result) as JSON')
    .action(async (o: Opts) => {
      const log = (s: string) => process.stderr.write(s + '\n');
      const baselinePath = o.baseline ? resolve(o.baseline) : resolve(PROJECT_ROOT, 'reports', 'baseline.json');
      const latencyThreshold = Number(o.latencyThreshold);
      if (!(latencyThreshold > 0)) throw new FdkError(`bad --latency-threshold '${o.latencyThreshold}': expected a positive number`);
      // Fail on a missing/corrupt baseline or an unusable output folder before a long run.
      const baseline = o.check ? readReportFile(baselinePath, 'baseline') : undefined;
      const outDir = resolve(o.out);
      try {
        mkdirSync(outDir, { recursive: true });
        accessSync(outDir, constants.W_OK);
      } catch (e) {
        throw fsError(e, outDir);
      }
      const warmup = Number(o.warmup);
      if (!Number.isInteger(warmup) || warmup < 0) throw new FdkError(`bad --warmup '${o.warmup}': expected a non-negative integer`);
      let report: Report;
      if (o.from) report = readReportFile(resolve(o.from), 'report');
      else {
        report = await runReport({
          models: o.models ? list(o.models) : undefined,
          out: o.out,
          stages: oneOf<StageName>(o.stages, STAGE_NAMES, '--stages'),
          runtimes: oneOf(o.runtimes, ['ort', 'wasm', 'ncnn'] as const, '--runtimes'),
          accuracyRuntimes: oneOf<ReportRuntime>(o.accuracyRuntimes, ['ort', 'wasm', 'ncnn', 'ncnn-fp16', 'ncnn-int8'], '--accuracy-runtimes'),
          accuracyModelsAllRuntimes: o.accuracyAllRuntimesFor === 'all' ? undefined : list(o.accuracyAllRuntimesFor).map((id) => getModel(id).id),
          threads: ints(o.threads, '--threads'),
          longSides: ints(o.longSide, '--long-side'),
          benchWarmup: warmup,
          benchRuns: ints(o.runs, '--runs')[0],
          subset: o.subset,
          modelFiles: parseModelFiles(o.modelFile),
          log,
        });
      }
      const cmp = baseline ? compareReports(baseline, report, { latencyThreshold }) : undefined;
      if (cmp)
        report.check = { baseline: baselinePath, ok: cmp.ok, compared: cmp.compared, notes: cmp.notes,
          rows: [...cmp.failures, ...cmp.warnings].map(({ severity, model, metric, old, new: nv, rule }) => ({ severity, model, metric, old, new: nv, rule })) };
      else delete report.check; // --from an earlier checked report: that check is not this one
      const written = writeReport(report, outDir);
      log(`report: total ${secs(report.totalMs)}; wrote ${written.join(', ')}`);
      if (o.updateBaseline) {
        writeFileAtomic(baselinePath, JSON.stringify(toBaseline(report), null, 1) + '\n');
        log(`report: baseline updated: ${baselinePath}`);
      }
      if (o.json) printJson(cmp ? { report, check: cmp } : report);
      else if (cmp) process.stdout.write(formatCompare(cmp) + '\n');
      if (cmp && !cmp.ok) throw new FdkError(`report check failed: ${cmp.failures.length} regression(s) against the baseline`, { file: baselinePath });
    });
}
