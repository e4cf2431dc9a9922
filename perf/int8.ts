/**
 * `npm run bench:int8`: what int8 costs, per seed model and long side, in one table.
 *  - WIDER AP (easy/medium/hard) of fp32 (ncnn), of fdk's ncnn int8 per calibration method, and of
 *    onnxruntime's static quantization (QDQ, per-channel, MinMax / Entropy / Percentile calibrators,
 *    perf/ort-quantize.py in the dev venv) on the same calibration images, each with its loss vs fp32;
 *  - latency (median and p10–p90 of --runs, one real image at that long side) of ncnn fp32 / fp16 / int8 and
 *    onnxruntime fp32 / int8 at 1 and 2 threads; model sizes.
 * AP is on val-mini (free of calibration images) unless --wider-dir gives the full val set, which
 * then includes the 200 calibration images (the table says so).
 *
 * Options: --models slim,rfb,mnet0.25  --long-sides 320,640  --methods kl,aciq,minmax,percentile
 *          --ort minmax,entropy,percentile (or none)  --mixed K (adds each method with K layers kept fp32, auto-chosen)  --keep-fp32 a,b
 *          --recipe (adds each model's own int8 recipe; --methods none leaves the others out)
 *          --calib-limit N  --subset LIST  --threads 1,2  --runs 20  --jobs 2  --wider-dir DIR | --full-val
 *          --latency-only | --no-latency  --cached-only  --skip fp32,plain  --write-doc [--doc-section NAME]  --json
 * Latency is measured interleaved (perf/int8-latency.ts) with the load average beside it.
 * Env: FDK_BENCH_PYTHON = python with onnxruntime (default /work/venv-bench/bin/python if present, else
 * .venv-dev/bin/python after `bash scripts/setup-python.sh --bench`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { getModel, type ModelEntry } from '../src/models/manifest.js';
import { detectAll } from '../src/accuracy/pool.js';
import { modelFileFor, type ModelFileChoice } from '../src/accuracy/pipeline.js';
import { loadImage } from '../src/accuracy/image.js';
import { preprocess } from '../src/accuracy/preprocess.js';
import { evaluateWider, groundTruth, readSubsetList } from '../src/accuracy/wider/index.js';
import { convertOnnxForNcnn } from '../src/runtime/ncnn-convert.js';
import { int8ModelFile, int8Plan, DEFAULT_CALIB } from '../src/quantize/cached.js';
import { prepareCalibSet } from '../src/quantize/calib-images.js';
import { DEFAULT_METHOD, type CalibMethod } from '../src/quantize/thresholds.js';
import type { LatencyStats } from '../src/bench/stats.js';
import { INT8_GOAL } from '../src/report/verdict.js';
import { interleavedLatency, type LatencyCase } from './int8-latency.js';
import { PROJECT_ROOT, resolveDataDir, workDir } from '../src/util/data.js';
import { sha256File, writeFilesAtomic } from '../src/util/fs.js';
import { writeDocSection } from '../scripts/doc-sections.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const list = (s: string) => s.split(',').map((x) => x.trim()).filter((x) => x && x !== 'none');
const models = list(opt('models', 'slim,rfb,mnet0.25'));
const longSides = list(opt('long-sides', '320,640')).map(Number);
const methods = list(opt('methods', 'kl,aciq,minmax,percentile')) as CalibMethod[];
const ortCalibrators = list(opt('ort', 'minmax,entropy,percentile'));
const mixed = Number(opt('mixed', '0'));
/** --keep-fp32 a,b: adds, per method, that method with these layers kept fp32 (e.g. the ones fdk parity --int8 names). */
const keepFp32 = list(opt('keep-fp32', ''));
/** --recipe: adds each model's own int8 recipe (its description's `int8`, what --runtime ncnn-int8 and the report run). */
const withRecipe = args.includes('--recipe');
const calibLimit = Number(opt('calib-limit', '0')) || undefined;
const threadList = list(opt('threads', '1,2')).map(Number);
const runs = Number(opt('runs', '20'));
const jobs = Number(opt('jobs', '2'));
/** --full-val: the full WIDER val set from $FDK_WIDER_FULL (default /work/wider-full/WIDER_val), as bench:accuracy. */
const widerDir = opt('wider-dir', args.includes('--full-val') ? (process.env.FDK_WIDER_FULL ?? '/work/wider-full/WIDER_val') : '');
const json = args.includes('--json');
/** Only latency and sizes (no AP runs): the models are still made, from --calib-limit images. */
const latencyOnly = args.includes('--latency-only');
/** Only AP and sizes (e.g. a full-val run, whose latency would be the same as val-mini's). */
const noLatency = args.includes('--no-latency');
/** Tables from what earlier runs of the same command finished (AP caches, made models); the rest reads 'not measured'. */
const cachedOnly = args.includes('--cached-only');
/**
 * --skip fp32,plain: leave these rows out of this run (fp32 = the fp32 AP, plain = the methods
 * without --mixed/--keep-fp32), to split a long full-val run over processes that run at once; a
 * later --cached-only run prints them all together.
 */
const skip = new Set(list(opt('skip', '')));
const NOT_MEASURED = 'not measured in this round';
const python =
  process.env.FDK_BENCH_PYTHON ?? (existsSync('/work/venv-bench/bin/python') ? '/work/venv-bench/bin/python' : join(PROJECT_ROOT, '.venv-dev', 'bin', 'python'));
const log = (s: string) => !json && process.stderr.write(`${s}\n`);

const data = resolveDataDir()!;
const calibList = join(data, DEFAULT_CALIB);
const gt = groundTruth();
const miniList = join(data, 'wider', 'val-mini', 'list.txt');
const subset = opt('subset', '');
const keys = subset ? readSubsetList(resolve(subset), gt) : widerDir ? gt.images.map((im) => im.key) : readSubsetList(miniList, gt);
const imagesDir = widerDir ? (existsSync(join(widerDir, 'images')) ? join(widerDir, 'images') : widerDir) : join(data, 'wider', 'val-mini', 'images');
const paths = keys.map((k) => join(imagesDir, `${k}.jpg`));
/** Predictions and AP caches are kept per image set, so a val-mini and a full-val run never share them. */
const setTag = subset ? `subset-${keys.length}-${keys[0]?.replace(/\W+/g, '_')}` : widerDir ? 'full' : 'mini';
const setLabel = subset ? `subset ${subset} (${keys.length} images)` : widerDir ? `full WIDER val (${keys.length} images, includes the 200 calibration images)` : `val-mini (${keys.length} images, disjoint from the calibration set)`;

interface Ap { easy: number; medium: number; hard: number }
/** fp32Bytes: the fp32 file the variant was made from (ncnn .bin for ncnn variants, the .onnx for onnxruntime's), for the size ratio. */
interface ApRow { model: string; longSide: number; variant: string; ap?: Ap; bytes?: number; fp32Bytes?: number; error?: string; seconds?: number }
const maybeAp = (fn: () => Promise<Ap>) => (latencyOnly ? Promise.resolve(undefined) : fn());
/** Per thread count: the interleaved run's statistics (or error) and the 1-minute load average before/after. */
interface LatRow { model: string; longSide: number; runtime: string; ms: Record<number, LatencyStats | string>; load: Record<number, [number, number]> }

/** AP of one model file; cached beside its predictions by file size+mtime and image list (re-runs skip it). */
async function apOf(entry: ModelEntry, runtime: string, longSide: number, file: ModelFileChoice, label: string): Promise<Ap> {
  const cacheDir = workDir('bench-int8', 'preds', setTag, `${entry.id}-${longSide}`, label);
  const st = statSync(file.path);
  // content, not mtime: fdk re-writes an identical export when its stamp is checked again; the
  // file's name, not its folder, so another checkout sharing .fdk/ (a git worktree) reuses the AP
  const key = JSON.stringify({ file: basename(file.path), size: st.size, sha256: sha256File(file.path), runtime, keys: keys.length, first: keys[0], last: keys.at(-1) });
  const cacheFile = `${cacheDir}.ap.json`;
  if (existsSync(cacheFile)) {
    const c = JSON.parse(readFileSync(cacheFile, 'utf8')) as { key: string; ap: Ap };
    // caches written before the key held the base name hold the full path
    const saved = JSON.parse(c.key) as { file: string };
    if (JSON.stringify({ ...saved, file: basename(saved.file) }) === key) return c.ap;
  }
  if (cachedOnly) throw new Error(NOT_MEASURED);
  const ap = await runAp(entry, runtime, longSide, file, label);
  writeFileSync(cacheFile, JSON.stringify({ key, ap }));
  return ap;
}

async function runAp(entry: ModelEntry, runtime: string, longSide: number, file: ModelFileChoice, label: string): Promise<Ap> {
  const texts = new Array<string>(paths.length);
  await detectAll(entry, paths, { runtime, longSide, jobs, file, widerText: true }, (r) => (texts[r.i] = r.text!));
  const dir = workDir('bench-int8', 'preds', setTag, `${entry.id}-${longSide}`, label);
  writeFilesAtomic(keys.map((k, i) => ({ path: join(dir, `${k}.txt`), data: texts[i] })));
  const ev = evaluateWider(dir, { subset: keys });
  return { easy: ev.easy, medium: ev.medium, hard: ev.hard };
}

/** onnxruntime static quantization of the fp32 ONNX on the calibration tensors (cached). */
async function ortInt8(entry: ModelEntry, src: ModelFileChoice, longSide: number, calibrator: string): Promise<string> {
  const out = workDir('bench-int8', 'ort', `${entry.id}-${longSide}-${calibrator}${calibLimit ? `-n${calibLimit}` : ''}-v3.onnx`);
  if (existsSync(out)) return out;
  if (cachedOnly) throw new Error(NOT_MEASURED);
  const set = await prepareCalibSet(calibList, entry, longSide, calibLimit);
  try {
    mkdirSync(workDir('bench-int8', 'ort'), { recursive: true });
    const jobFile = join(set.dir, 'job.json');
    writeFileSync(jobFile, JSON.stringify({ model: src.path, out: `${out}.tmp.onnx`, calibrator, input: entry.input.name, tensors: set.tensors }));
    const r = spawnSync(python, [join(PROJECT_ROOT, 'perf', 'ort-quantize.py'), jobFile], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`ort quantization failed: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`);
    const { renameSync } = await import('node:fs');
    renameSync(`${out}.tmp.onnx`, out);
    return out;
  } finally {
    set.dispose();
  }
}

interface FdkVariant { name: string; label: string; choice: { method: CalibMethod; autoKeep?: number; keepFp32?: string[] } }
/** An fdk int8 variant's row name and AP cache label (named as earlier runs named them, so their caches hit). */
function variantOf(method: CalibMethod, autoKeep = 0, keep: string[] = []): FdkVariant {
  return {
    name: [`fdk ncnn-int8 ${method}`, autoKeep ? `${autoKeep} layers fp32` : '', keep.length ? `fp32: ${keep.join(' ')}` : ''].filter(Boolean).join(', '),
    label: `int8-${method}${autoKeep ? `-mp${autoKeep}-v2` : ''}${keep.length ? `-keep-${keep.join('+')}` : ''}`,
    choice: { method, ...(autoKeep ? { autoKeep } : {}), ...(keep.length ? { keepFp32: keep } : {}) },
  };
}

const apRows: ApRow[] = [];
const latRows: LatRow[] = [];
const sampleImage = join(data, 'images', 'seed-sample.jpg');

for (const ls of longSides) {
  for (const id of models) {
    const entry = getModel(id, ls);
    // a fixed-size model (ulfd-slim-320) has one size: measured once, under its own
    if (entry.input.resize.mode === 'fixed' && entry.input.resize.width !== ls) continue;
    const src = await modelFileFor(entry);
    const shapes = entry.input.resize.mode === 'fixed' ? { [entry.input.name]: [1, 3, entry.input.resize.height!, entry.input.resize.width!] } : {};
    const fp32 = await convertOnnxForNcnn(src.path, shapes);
    const row = (variant: string, r: Partial<ApRow>) => {
      const fp32Bytes = variant.startsWith('onnxruntime') ? statSync(src.path).size : variant.startsWith('fdk') ? statSync(fp32.bin).size : undefined;
      apRows.push({ model: id, longSide: ls, variant, fp32Bytes, ...r });
      const a = r.ap;
      log(`${id}-${ls} ${variant}: ${a ? `${a.easy.toFixed(4)} / ${a.medium.toFixed(4)} / ${a.hard.toFixed(4)}` : r.error ?? `${r.bytes} bytes`} (${r.seconds?.toFixed(0)} s)`);
    };
    const timed = async (variant: string, fn: () => Promise<{ ap?: Ap; bytes?: number }>) => {
      const t0 = performance.now();
      try {
        row(variant, { ...(await fn()), seconds: (performance.now() - t0) / 1000 });
      } catch (e) {
        const msg = String((e as Error).message).split('\n')[0];
        row(variant, { error: /not made in this round|not measured in this round/.test(msg) ? NOT_MEASURED : msg, seconds: (performance.now() - t0) / 1000 });
      }
    };
    if (!skip.has('fp32')) await timed('fp32 (ncnn)', async () => ({ ap: await maybeAp(() => apOf(entry, 'ncnn', ls, src, 'fp32')), bytes: statSync(fp32.bin).size }));
    const int8Files: Record<string, ModelFileChoice> = {};
    /** One fdk int8 variant: made (or taken from .fdk/int8), its AP, its size. */
    const fdkVariant = (v: FdkVariant, suffix = '') =>
      timed(`${v.name}${suffix}`, async () => {
        const f = await int8ModelFile(entry, ls, { ...v.choice, limit: calibLimit, cachedOnly });
        if (!v.choice.autoKeep && !v.choice.keepFp32) int8Files[v.choice.method] = f;
        return { ap: await maybeAp(() => apOf(entry, 'ncnn', ls, f, v.label)), bytes: statSync(f.path.replace(/\.param$/, '.bin')).size };
      });
    for (const method of skip.has('plain') ? [] : methods) await fdkVariant(variantOf(method));
    if (mixed > 0) for (const method of methods) await fdkVariant(variantOf(method, mixed));
    if (keepFp32.length) for (const method of methods) await fdkVariant(variantOf(method, 0, keepFp32));
    if (withRecipe) {
      const p = int8Plan(entry);
      const v = variantOf(p.method, p.autoKeep, p.keepFp32);
      const suffix = ` (${p.from === 'default' ? 'default' : "the model's recipe"})`;
      // a variant this run has measured already is marked as the recipe, not listed twice
      const same = apRows.find((r) => r.model === id && r.longSide === ls && r.variant === v.name);
      if (same) same.variant += suffix;
      else await fdkVariant(v, suffix);
    }
    const ortFiles: Record<string, string> = {};
    for (const cal of ortCalibrators)
      await timed(`onnxruntime int8 ${cal}`, async () => {
        const p = (ortFiles[cal] = await ortInt8(entry, src, ls, cal));
        return { ap: await maybeAp(() => apOf(entry, 'ort', ls, { ...src, path: p, origin: 'ort int8' }, `ort-${cal}`)), bytes: statSync(p).size };
      });

    if (noLatency) continue;
    // latency on one real image at this long side
    const pre = preprocess(await loadImage(sampleImage, { keepRgb: true }), entry, { longSide: ls });
    const input = { data: pre.tensor, dims: [...pre.dims] };
    // speed does not depend on the calibration: the default method's file, else the first one made
    const int8File = int8Files[DEFAULT_METHOD] ?? Object.values(int8Files)[0];
    const ortFile = Object.values(ortFiles)[0];
    const cases: LatencyCase[] = [
      { name: 'ncnn fp32', runtime: 'ncnn', model: fp32.param },
      { name: 'ncnn fp16', runtime: 'ncnn', model: fp32.param, fp16: true },
      ...(int8File ? [{ name: 'ncnn int8', runtime: 'ncnn' as const, model: int8File.path }] : []),
      { name: 'onnxruntime fp32', runtime: 'ort', model: src.path, inputShapes: shapes },
      ...(ortFile ? [{ name: 'onnxruntime int8', runtime: 'ort' as const, model: ortFile, inputShapes: shapes }] : []),
    ];
    const rows = cases.map((c): LatRow => ({ model: id, longSide: ls, runtime: c.name, ms: {}, load: {} }));
    for (const t of threadList) {
      const r = await interleavedLatency(cases, t, runs, input);
      cases.forEach((c, k) => {
        rows[k].ms[t] = r.stats[c.name];
        rows[k].load[t] = r.load;
      });
      log(`${id}-${ls} latency ${t}T (load ${r.load.map((x) => x.toFixed(1)).join(' -> ')}): ${cases.map((c) => `${c.name} ${cell(r.stats[c.name])}`).join(', ')}`);
    }
    latRows.push(...rows);
  }
}

const f4 = (v: number) => v.toFixed(4);
const signed = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(4);
const kb = (b?: number) => (b === undefined ? '' : `${(b / 1024).toFixed(0)} KB`);
const size = (r: ApRow) => (r.bytes !== undefined && r.fp32Bytes ? `${kb(r.bytes)} (${((100 * r.bytes) / r.fp32Bytes).toFixed(0)}%)` : kb(r.bytes));

/** Issue #14's accuracy goal (the report's verdict checks the same numbers). */
const GOAL: Ap = INT8_GOAL;
const SETS = ['easy', 'medium', 'hard'] as const;
const lossOf = (r: ApRow, base: Ap): Ap => ({ easy: base.easy - r.ap!.easy, medium: base.medium - r.ap!.medium, hard: base.hard - r.ap!.hard });
/** The largest share of its goal a loss uses (≤ 1 = within the goal): how variants are ranked. */
const goalShare = (l: Ap) => Math.max(...SETS.map((k) => l[k] / GOAL[k]));

/** Per model and long side: fdk's best variant against the goal, and against onnxruntime's best calibrator. */
function goalTable(): string[] {
  const out = ['', `Goal (issue #14): loss ≤ ${GOAL.easy} easy and medium, ≤ ${GOAL.hard} hard with fdk's best variant, and no more than onnxruntime's best calibrator loses (compared per set). Best = the least share of the goal used.`, ''];
  out.push('| model | long side | fdk best | Δ easy / medium / hard | within goal | onnxruntime best | Δ easy / medium / hard | fdk loses ≤ onnxruntime |', '|---|---|---|---|---|---|---|---|');
  const groups = [...new Set(apRows.map((r) => `${r.model}\t${r.longSide}`))];
  for (const g of groups) {
    const rows = apRows.filter((r) => `${r.model}\t${r.longSide}` === g && r.ap);
    const base = rows.find((r) => r.variant.startsWith('fp32'))?.ap;
    if (!base) continue;
    const best = (prefix: string) =>
      rows.filter((r) => r.variant.startsWith(prefix)).map((r) => ({ r, l: lossOf(r, base) })).sort((a, b) => goalShare(a.l) - goalShare(b.l))[0];
    const f = best('fdk');
    const o = best('onnxruntime');
    const fmt = (l: Ap) => SETS.map((k) => (-l[k]).toFixed(4)).join(' / ');
    const [model, ls] = g.split('\t');
    const within = f ? (goalShare(f.l) <= 1 ? 'yes' : `no (${SETS.filter((k) => f.l[k] > GOAL[k]).join(', ')})`) : '';
    const worse = f && o ? SETS.filter((k) => f.l[k] > o.l[k] + 1e-9) : [];
    out.push(`| ${model} | ${ls} | ${f ? f.r.variant.replace('fdk ncnn-int8 ', '') : '—'} | ${f ? fmt(f.l) : ''} | ${within} | ${o ? o.r.variant.replace('onnxruntime int8 ', '') : '—'} | ${o ? fmt(o.l) : ''} | ${f && o ? (worse.length ? `no (${worse.join(', ')})` : 'yes') : ''} |`);
  }
  return out;
}
function markdown(): string {
  const out: string[] = [];
  if (latencyOnly) {
    out.push('| model | long side | variant | size |', '|---|---|---|---|');
    for (const r of apRows) out.push(`| ${r.model} | ${r.longSide} | ${r.variant} | ${r.error ?? size(r)} |`);
    return latencyTable(out);
  }
  out.push(`AP on ${setLabel}; calibration: ${calibLimit ?? 200} images of wider/calib-200. Loss = int8 − fp32 (negative = worse). Sizes: ncnn .bin, onnxruntime .onnx, in % of the fp32 file it was made from (goal for ncnn int8: ≤ 30%).`, '');
  out.push('| model | long side | variant | easy | medium | hard | Δ easy | Δ medium | Δ hard | size |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const r of apRows) {
    const base = apRows.find((x) => x.model === r.model && x.longSide === r.longSide && x.variant.startsWith('fp32'))?.ap;
    if (!r.ap) {
      out.push(`| ${r.model} | ${r.longSide} | ${r.variant} | ${r.error} | | | | | | |`);
      continue;
    }
    const d = base && r !== apRows.find((x) => x.ap === base) ? [signed(r.ap.easy - base.easy), signed(r.ap.medium - base.medium), signed(r.ap.hard - base.hard)] : ['', '', ''];
    out.push(`| ${r.model} | ${r.longSide} | ${r.variant} | ${f4(r.ap.easy)} | ${f4(r.ap.medium)} | ${f4(r.ap.hard)} | ${d.join(' | ')} | ${size(r)} |`);
  }
  out.push(...goalTable());
  return latencyTable(out);
}
function cell(v: LatencyStats | string | undefined): string {
  return v === undefined ? '' : typeof v === 'string' ? v : v.median.toFixed(2);
}
/** Median of this runtime family's fp32 variant in the same interleaved run (ncnn int8 vs ncnn fp32, ort int8 vs ort fp32). */
function ratio(r: LatRow, t: number): string {
  const fp32 = latRows.find((x) => x.model === r.model && x.longSide === r.longSide && x.runtime === `${r.runtime.split(' ')[0]} fp32`);
  const a = r.ms[t];
  const b = fp32?.ms[t];
  return typeof a === 'object' && typeof b === 'object' && fp32 !== r ? `×${(a.median / b.median).toFixed(2)}` : '';
}
function latencyTable(out: string[]): string {
  if (!latRows.length) return out.join('\n');
  const th = (t: number) => `${t} thread${t > 1 ? 's' : ''}`;
  out.push(
    '',
    `Latency: median [p10–p90] of ${runs} runs on images/seed-sample.jpg at that long side, ms, measured inside each runtime. ` +
      'All five variants of a row group are loaded together and run interleaved (round-robin), so the ratio to the same runtime\'s fp32 (×) compares runs that saw the same machine load; ' +
      'load = 1-minute load average before → after those runs.',
    '',
  );
  out.push(
    `| model | long side | runtime | ${threadList.map((t) => `${th(t)} | vs fp32`).join(' | ')} | load (${threadList.map(th).join(', ')}) |`,
    `|---|---|---|${threadList.map(() => '---|---').join('|')}|---|`,
  );
  for (const r of latRows) {
    const cells = threadList.map((t) => {
      const v = r.ms[t];
      return `${typeof v === 'object' ? `${v.median.toFixed(2)} [${v.p10.toFixed(1)}–${v.p90.toFixed(1)}]` : (v ?? '')} | ${ratio(r, t)}`;
    });
    const load = threadList.map((t) => (r.load[t] ? r.load[t].map((x) => x.toFixed(1)).join(' → ') : '')).join(', ');
    out.push(`| ${r.model} | ${r.longSide} | ${r.runtime} | ${cells.join(' | ')} | ${load} |`);
  }
  return out.join('\n');
}

const result = { set: setLabel, calibImages: calibLimit ?? 200, apRows, latRows };
mkdirSync(workDir('bench-int8'), { recursive: true });
writeFileSync(workDir('bench-int8', 'result.json'), JSON.stringify(result, null, 2));
if (json) console.log(JSON.stringify(result, null, 2));
else console.log(markdown());

if (args.includes('--write-doc')) {
  // --doc-section NAME writes between <!-- bench:int8 begin NAME --> and <!-- bench:int8 end NAME --> (scripts/doc-sections.ts)
  const section = opt('doc-section', '');
  const os = await import('node:os');
  const stamp = `Measured by \`npm run bench:int8 -- ${args.filter((a, i) => a !== '--write-doc' && a !== '--doc-section' && args[i - 1] !== '--doc-section').join(' ')}\` on ${new Date().toISOString().slice(0, 10)} (${os.cpus().length} cores, shared; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} when written).`;
  writeDocSection(`bench:int8${section ? ` ${section}` : ''}`, `${stamp}\n\n${markdown()}`);
}
