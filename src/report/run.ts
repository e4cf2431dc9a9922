/**
 * `fdk report`: runs every stage for every manifest model, times each stage, and writes
 * report.json / report.md / report.html atomically into the output folder.
 *
 * Each stage is an adapter (stage-*.ts) over another part of fdk, imported inside the stage so that
 * a run of some stages (e.g. --stages analyze) does not load what the others need (onnxruntime,
 * sharp, ...). A stage that needs an earlier result that is missing is 'skipped' with the reason;
 * errors are 'failed' with one line.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { loadManifest, getModel, modelFile, type ModelEntry } from '../models/manifest.js';
import { int8Plan } from '../quantize/cached.js';
import { PROJECT_ROOT, workDir } from '../util/data.js';
import { makeDir, writeFilesAtomic } from '../util/fs.js';
import { machineInfo } from './machine.js';
import { REPORT_FORMAT, type ModelReport, type Report, type Stage, type StageName, type StageTiming } from './schema.js';
import type { ModelContext, ReportRunOptions } from './context.js';
import { exportStage } from './stage-export.js';
import { analyzeStage } from './stage-analyze.js';
import { ncnnStage } from './stage-ncnn.js';
import { parityStage } from './stage-parity.js';
import { benchStage } from './stage-bench.js';
import { accuracyStage, resolveSubset } from './stage-accuracy.js';
import { runtimeInfos } from './stage-runtimes.js';
import { renderMarkdown } from './render-md.js';
import { renderHtml } from './render-html.js';
import { secs } from './tables.js';

const oneLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0].slice(0, 300);

/** export, analyze, ncnn, parity, bench, accuracy: runReport runs each for every model. */
const STAGES_PER_MODEL = 6;

async function runStage<T>(name: StageName, ctx: ModelContext, times: StageTiming[], fn: () => Promise<T>, prereq?: string): Promise<Stage<T>> {
  const { log } = ctx.opts;
  let st: Stage<T>;
  // times holds one entry per finished stage plus the runtimes probe
  ctx.opts.onStage?.(times.length - 1, (ctx.opts.models?.length || loadManifest().length) * STAGES_PER_MODEL, `${ctx.entry.id} ${name}`);
  const t0 = performance.now();
  if (!ctx.opts.stages.includes(name)) st = { status: 'skipped', reason: 'not selected (--stages)' };
  else if (prereq) st = { status: 'skipped', reason: prereq };
  else {
    try {
      const data = await fn();
      // Adapters list failed parts (e.g. one runtime) in data.errors and keep the rest.
      const errors = (data as { errors?: string[] } | undefined)?.errors;
      st = errors?.length ? { status: 'partial', reason: `${errors.length} part(s) failed: ${errors.join('; ')}`.slice(0, 600), data } : { status: 'ok', data };
    } catch (e) {
      st = { status: 'failed', reason: oneLine(e) };
    }
    st.ms = Math.round(performance.now() - t0);
  }
  times.push({ stage: name, model: ctx.entry.id, ms: st.ms ?? 0, status: st.status });
  log(`report: ${ctx.entry.id.padEnd(14)} ${name.padEnd(9)} ${st.status.padEnd(13)} ${secs(st.ms).padStart(8)}${st.reason ? `  ${st.reason}` : ''}`);
  return st;
}

function fdkVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Generated files (conversions, predictions) go to .fdk/report/<key of the output folder>/: two
 * reports run at once (e.g. the tests) never write into each other's prediction folders.
 */
export function reportWorkDir(out: string): string {
  return workDir('report', createHash('sha256').update(resolve(out)).digest('hex').slice(0, 10));
}

export async function runReport(opts: ReportRunOptions): Promise<Report> {
  const t0 = performance.now();
  const entries: ModelEntry[] = opts.models?.length ? opts.models.map((id) => getModel(id)) : loadManifest();
  const times: StageTiming[] = [];
  const notes: string[] = [];
  const tr = performance.now();
  const runtimes = await runtimeInfos(opts.runtimes);
  times.push({ stage: 'runtimes', ms: Math.round(performance.now() - tr), status: runtimes.every((r) => r.status === 'ok') ? 'ok' : 'failed' });
  const others = opts.accuracyRuntimes.filter((r) => r !== 'ort' && r !== 'ncnn-int8');
  if (opts.accuracyModelsAllRuntimes && others.length)
    notes.push(`Accuracy rows on ${others.join(', ')} only for ${opts.accuracyModelsAllRuntimes.join(', ') || 'no model'} (CI time budget); ort rows for every model.`);
  if (opts.int8Models && opts.accuracyRuntimes.includes('ncnn-int8'))
    notes.push(`ncnn-int8 accuracy rows only for ${opts.int8Models.join(', ') || 'no model'} (CI time budget; --int8-for all runs every model).`);
  if (opts.accuracyRuntimes.includes('ncnn-int8') && opts.stages.includes('accuracy')) {
    // the recipe decides the int8 loss: say which one each model's row ran with
    const recipes = entries.filter((e) => !opts.int8Models || opts.int8Models.includes(e.id)).map((e) => {
      const p = int8Plan(e, opts.int8Override);
      return `${e.id} ${p.label} (${p.from})`;
    });
    if (recipes.length) notes.push(`ncnn-int8 recipe: ${recipes.join('; ')}.`);
  }

  const models: ModelReport[] = [];
  for (const entry of entries) {
    const ctx: ModelContext = { entry, opts, dir: join(reportWorkDir(opts.out), entry.id), ncnn: {} };
    makeDir(ctx.dir);
    const exp = await runStage('export', ctx, times, () => exportStage(ctx));
    if (!ctx.onnxPath && entry.files.onnx && !opts.modelFiles[entry.id]) {
      // Without an export, later stages can still run on the manifest's own ONNX (Ultra-Light 320).
      ctx.onnxPath = modelFile(entry, 'onnx');
      ctx.onnxDynamic = false;
      exp.reason = `${exp.reason ?? ''}; later stages use the manifest ONNX ${entry.files.onnx.path}`.replace(/^; /, '');
    }
    const noOnnx = ctx.onnxPath ? undefined : `no ONNX (export ${exp.status})`;
    const analyze = await runStage('analyze', ctx, times, () => analyzeStage(ctx), noOnnx);
    const ncnn = await runStage('ncnn', ctx, times, () => ncnnStage(ctx), noOnnx);
    const parity = await runStage('parity', ctx, times, () => parityStage(ctx), noOnnx);
    const bench = await runStage('bench', ctx, times, () => benchStage(ctx), noOnnx);
    const accuracy = await runStage('accuracy', ctx, times, () => accuracyStage(ctx), noOnnx);
    models.push({ id: entry.id, title: entry.title, family: entry.family, arch: entry.arch, export: exp, analyze, ncnn, parity, bench, accuracy });
  }

  const report: Report = {
    format: REPORT_FORMAT,
    fdkVersion: fdkVersion(),
    machine: machineInfo(),
    options: {
      models: entries.map((e) => e.id),
      subset: opts.widerDir ? 'full WIDER val' : opts.subset,
      subsetImages: opts.widerDir ? undefined : countLines(opts.subset),
      ...(opts.widerDir ? { fullVal: true } : {}),
      longSides: opts.longSides,
      runtimes: opts.runtimes,
      ...(opts.browser ? { browser: opts.browser } : {}),
      threads: opts.threads,
      benchWarmup: opts.benchWarmup,
      benchRuns: opts.benchRuns,
      notes,
    },
    runtimes,
    models,
    stageTimes: times,
    totalMs: Math.round(performance.now() - t0),
  };
  return report;
}

function countLines(subset: string): number | undefined {
  try {
    return readFileSync(resolveSubset(subset), 'utf8').split('\n').filter((l) => l.trim()).length;
  } catch {
    return undefined;
  }
}

/** Writes report.json, report.md and report.html all-or-nothing. */
export function writeReport(report: Report, outDir: string): string[] {
  const files = [
    { path: join(outDir, 'report.json'), data: JSON.stringify(report, null, 1) + '\n' },
    { path: join(outDir, 'report.md'), data: renderMarkdown(report) },
    { path: join(outDir, 'report.html'), data: renderHtml(report) },
  ];
  writeFilesAtomic(files);
  return files.map((f) => f.path);
}

