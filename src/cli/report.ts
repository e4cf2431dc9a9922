/**
 * `fdk report`: run export, analyze, ncnn conversion, parity, bench and accuracy for the manifest
 * models, write reports/latest/report.{json,md,html}, and with --check gate against the baseline.
 */
import type { Command } from 'commander';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { int8Override, withInt8Options } from './int8-options.js';
import { FdkError } from '../util/errors.js';
import { PROJECT_ROOT } from '../util/data.js';
import { fsError, makeDir, writeFileAtomic } from '../util/fs.js';
import { printJson } from './output.js';
import { getModel, loadManifest, registerDescribedModel } from '../models/manifest.js';
import { descriptionForModelFile } from '../models/description.js';
import { STAGE_NAMES, reportProblem, toBaseline, type Report, type StageName } from '../report/schema.js';
import { compareReports, formatCompare, DEFAULT_LATENCY_THRESHOLD } from '../report/compare.js';
import { runReport, writeReport } from '../report/run.js';
import { DEFAULT_SUBSET } from '../report/stage-accuracy.js';
import type { ReportRuntime } from '../report/context.js';
import { parseRuntimeList, withBrowserLanes } from '../runtime/index.js';
import { secs } from '../report/tables.js';
import { progressBar } from './progress.js';
import { printFitted } from './table.js';

interface Opts {
  models?: string;
  out?: string;
  widerDir?: string;
  baseline?: string;
  check?: boolean;
  updateBaseline?: boolean;
  from?: string;
  stages: string;
  runtimes: string;
  browser?: string;
  accuracyRuntimes: string;
  accuracyAllRuntimesFor: string;
  int8For: string;
  int8Method?: string;
  int8AutoKeep?: string;
  threads: string;
  longSide: string;
  warmup: string;
  runs: string;
  subset: string;
  modelFile: string[];
  spec?: string;
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

const CONVERSION_ROWS = ['ncnn-fp16', 'ncnn-int8'] as const;

/** Registry runtimes (aliases mapped) plus the conversion rows 'ncnn-fp16' and 'ncnn-int8'. */
function accuracyRuntimeList(s: string): ReportRuntime[] {
  const names = list(s);
  const plain = names.filter((n) => !(CONVERSION_ROWS as readonly string[]).includes(n));
  const parsed: ReportRuntime[] = plain.length ? parseRuntimeList(plain.join(',')) : [];
  return [...parsed, ...CONVERSION_ROWS.filter((c) => names.includes(c))];
}

/**
 * `--model-file ID=PATH` runs a manifest model from another file; `--model-file PATH` adds a model
 * that is not in the manifest, described by its embedded / sidecar description or --spec.
 * Returns the files by id and the ids of the added models.
 */
async function parseModelFiles(specs: string[], spec?: string): Promise<{ files: Record<string, string>; added: string[] }> {
  const out: Record<string, string> = {};
  const added: string[] = [];
  for (const s of specs) {
    const i = s.indexOf('=');
    if (i <= 0 || !loadManifest().some((m) => m.id === s.slice(0, i))) {
      if (i > 0 && !existsSync(s)) getModel(s.slice(0, i)); // ID=PATH with an unknown id fails here, in one line
      const p = resolve(s);
      const d = (await descriptionForModelFile(p, { spec, required: true }))!.description;
      const id = d.name ?? basename(p).replace(/\.[^.]*$/, '');
      registerDescribedModel(id, d, p);
      out[id] = p;
      added.push(id);
      continue;
    }
    getModel(s.slice(0, i)); // an unknown id fails here, in one line
    const p = resolve(s.slice(i + 1));
    if (!existsSync(p)) throw new FdkError('no such file (from --model-file)', { file: p });
    out[s.slice(0, i)] = p;
  }
  if (spec && added.length !== 1) throw new FdkError('--spec describes one --model-file PATH (a model not in the manifest)');
  return { files: out, added };
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
  withInt8Options(program.command('report')) // --int8-method, --int8-auto-keep
    .description('run every stage (export, analyze, ncnn, parity, bench, accuracy) for the models and write report.{json,md,html}; --check gates against the baseline')
    .option('--models <ids>', 'comma-separated manifest ids (default: all)')
    .option('--out <dir>', 'output folder (default: reports/latest; a partial run, with --models or --stages, goes to reports/partial)')
    .option('--baseline <file>', 'baseline report for --check / --update-baseline (default: reports/baseline.json of the project)')
    .option('--check', 'compare with the baseline; exit non-zero on an AP change > 0.002, a parity failure, a params/MACs change or an ncnn load failure')
    .option('--update-baseline', 'write this run as the new baseline (numbers only)')
    .option('--from <report.json>', 'use an existing report.json instead of running the stages (re-render / check it)')
    .option('--stages <list>', `stages to run (${STAGE_NAMES.join(',')})`, STAGE_NAMES.join(','))
    .option('--runtimes <list>', 'runtimes for parity and bench', 'ort,ort-wasm,ncnn,ncnn-wasm')
    .option('--browser <name>', 'bench also times ort-wasm / ncnn-wasm inside headless chromium (latency columns ort-wasm@chromium, ncnn-wasm@chromium)')
    .option('--accuracy-runtimes <list>', 'runtimes for accuracy rows (ncnn-fp16 = fp16 conversion, ncnn-int8 = fdk quantize on calib-200)', 'ort,ort-wasm,ncnn,ncnn-fp16,ncnn-int8')
    .option('--accuracy-all-runtimes-for <ids>', `run the non-ort accuracy rows only for these models, or 'all' (keeps the report within the CI budget)`, DEFAULT_ALL_RUNTIME_MODELS.join(','))
    .option('--int8-for <ids>', `run the ncnn-int8 accuracy row only for these models, or 'all' (each costs a calibration run too)`, DEFAULT_ALL_RUNTIME_MODELS.join(','))
    .option('--threads <list>', 'bench thread counts', '1,2')
    .option('--long-side <list>', 'long sides for bench and accuracy', '320,640')
    .option('--warmup <n>', 'bench warm-up runs', '2')
    .option('--runs <n>', 'bench timed runs', '10')
    .option('--subset <list>', 'WIDER image list for accuracy (relative to the data folder or absolute)', DEFAULT_SUBSET)
    .option('--wider-dir <dir>', 'WIDER_val folder (images/<event>/*.jpg): accuracy on the full val set, with the published tables beside it')
    .option('--model-file <[id=]path>', 'ID=PATH: use this ONNX for a manifest model instead of exporting it; PATH: add a model with a description (repeatable)', collect, [])
    .option('--spec <description.json>', 'model description of a --model-file PATH that has none embedded or beside it')
    .option('--latency-threshold <r>', 'flag median-latency changes beyond this relative amount', String(DEFAULT_LATENCY_THRESHOLD))
    .option('--json', 'print the report (and the check result) as JSON')
    .action(async (o: Opts) => {
      // stage lines are logged on every output; on a terminal a bar over the stages sits below them
      const bar = progressBar({ json: o.json, unit: 'stages' });
      const log = (s: string) => bar.log(s);
      const baselinePath = o.baseline ? resolve(o.baseline) : resolve(PROJECT_ROOT, 'reports', 'baseline.json');
      const latencyThreshold = Number(o.latencyThreshold);
      if (!(latencyThreshold > 0)) throw new FdkError(`bad --latency-threshold '${o.latencyThreshold}': expected a positive number`);
      // Fail on a missing/corrupt baseline or an unusable output folder before a long run.
      const baseline = o.check ? readReportFile(baselinePath, 'baseline') : undefined;
      // A run of some models or stages never silently replaces the last full report.
      const partial = !o.from && (o.models !== undefined || o.stages !== STAGE_NAMES.join(',') || o.modelFile.some((m) => !/^[^=/]+=/.test(m)));
      const outDir = resolve(o.out ?? (partial ? 'reports/partial' : 'reports/latest'));
      if (partial && o.out === undefined) log(`report: partial run (${o.models ? `models ${o.models}` : 'all models'}; stages ${o.stages}) -> ${outDir}; reports/latest keeps the last full run`);
      let widerDir: string | undefined;
      if (o.widerDir !== undefined) {
        widerDir = resolve(o.widerDir);
        if (!existsSync(widerDir) || !statSync(widerDir).isDirectory()) throw new FdkError('WIDER val folder does not exist (from --wider-dir)', { file: widerDir });
      }
      try {
        makeDir(outDir);
        accessSync(outDir, constants.W_OK);
      } catch (e) {
        throw fsError(e, outDir);
      }
      const warmup = Number(o.warmup);
      if (!Number.isInteger(warmup) || warmup < 0) throw new FdkError(`bad --warmup '${o.warmup}': expected a non-negative integer`);
      const runtimes = parseRuntimeList(o.runtimes);
      const accuracyRuntimes = accuracyRuntimeList(o.accuracyRuntimes);
      const int8Fields = int8Override(o, accuracyRuntimes.includes('ncnn-int8') && !o.from);
      // an unknown or missing browser, or no browser runtime in --runtimes, fails before the long run
      if (o.browser !== undefined) await withBrowserLanes(runtimes, o.browser);
      let report: Report;
      if (o.from) report = readReportFile(resolve(o.from), 'report');
      else {
        const modelFiles = await parseModelFiles(o.modelFile, o.spec);
        report = await runReport({
          // models added by file are reported alone unless --models names others too
          models: o.models ? list(o.models) : modelFiles.added.length ? modelFiles.added : undefined,
          out: outDir,
          stages: oneOf<StageName>(o.stages, STAGE_NAMES, '--stages'),
          runtimes,
          accuracyRuntimes,
          accuracyModelsAllRuntimes: o.accuracyAllRuntimesFor === 'all' ? undefined : list(o.accuracyAllRuntimesFor).map((id) => getModel(id).id),
          int8Models: o.int8For === 'all' ? undefined : list(o.int8For).map((id) => getModel(id).id),
          int8Override: int8Fields,
          threads: ints(o.threads, '--threads'),
          browser: o.browser,
          longSides: ints(o.longSide, '--long-side'),
          benchWarmup: warmup,
          benchRuns: ints(o.runs, '--runs')[0],
          subset: o.subset,
          widerDir,
          modelFiles: modelFiles.files,
          log,
          onStage: (done, total, label) => bar.update(done, total, label),
        });
        bar.stop();
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
      else if (cmp) printFitted(formatCompare(cmp));
      if (cmp && !cmp.ok) throw new FdkError(`report check failed: ${cmp.failures.length} regression(s) against the baseline`, { file: baselinePath });
    });
}
