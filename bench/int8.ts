/**
 * `npm run bench:int8`: what int8 costs, per seed model and long side, in one table.
 *  - WIDER AP (easy/medium/hard) of fp32 (ncnn), of fdk's ncnn int8 per calibration method, and of
 *    onnxruntime's static quantization (QDQ, per-channel, MinMax / Entropy / Percentile calibrators,
 *    bench/ort-quantize.py in the dev venv) on the same calibration images, each with its loss vs fp32;
 *  - latency (median of --runs, one real image at that long side) of ncnn fp32 / fp16 / int8 and
 *    onnxruntime fp32 / int8 at 1 and 2 threads; model sizes.
 * AP is on val-mini (free of calibration images) unless --wider-dir gives the full val set, which
 * then includes the 200 calibration images (the table says so).
 *
 * Options: --models slim,rfb,mnet0.25  --long-sides 320,640  --methods kl,aciq,minmax,percentile
 *          --ort minmax,entropy,percentile (or none)  --mixed K (adds kl with K layers kept fp32)
 *          --calib-limit N  --subset LIST  --threads 1,2  --runs 20  --jobs 2  --wider-dir DIR  --write-doc [--doc-section NAME]  --json
 * Env: FDK_BENCH_PYTHON = python with onnxruntime (default /work/venv-bench/bin/python if present, else
 * .venv-dev/bin/python after `bash scripts/setup-python.sh --bench`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getModel, type ModelEntry } from '../src/models/manifest.js';
import { detectAll } from '../src/accuracy/pool.js';
import { modelFileFor, type ModelFileChoice } from '../src/accuracy/pipeline.js';
import { loadImage } from '../src/accuracy/image.js';
import { preprocess } from '../src/accuracy/preprocess.js';
import { evaluateWider, groundTruth, readSubsetList } from '../src/accuracy/wider/index.js';
import { getRuntime } from '../src/runtime/index.js';
import { convertOnnxForNcnn } from '../src/runtime/ncnn-convert.js';
import { int8ModelFile, DEFAULT_CALIB } from '../src/quantize/cached.js';
import { prepareCalibSet } from '../src/quantize/calib-images.js';
import type { CalibMethod } from '../src/quantize/thresholds.js';
import { PROJECT_ROOT, resolveDataDir, workDir } from '../src/util/data.js';
import { writeFilesAtomic } from '../src/util/fs.js';
import { stampDoc } from '../scripts/doc-sections.js';

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
const calibLimit = Number(opt('calib-limit', '0')) || undefined;
const threadList = list(opt('threads', '1,2')).map(Number);
const runs = Number(opt('runs', '20'));
const jobs = Number(opt('jobs', '2'));
const widerDir = opt('wider-dir', '');
const json = args.includes('--json');
/** Only latency and sizes (no AP runs): the models are still made, from --calib-limit images. */
const latencyOnly = args.includes('--latency-only');
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
const setLabel = subset ? `subset ${subset} (${keys.length} images)` : widerDir ? `full WIDER val (${keys.length} images, includes the 200 calibration images)` : `val-mini (${keys.length} images, disjoint from the calibration set)`;

interface Ap { easy: number; medium: number; hard: number }
interface ApRow { model: string; longSide: number; variant: string; ap?: Ap; bytes?: number; error?: string; seconds?: number }
const maybeAp = (fn: () => Promise<Ap>) => (latencyOnly ? Promise.resolve(undefined) : fn());
interface LatRow { model: string; longSide: number; runtime: string; ms: Record<number, number | string> }

/** AP of one model file; cached beside its predictions by file size+mtime and image list (re-runs skip it). */
async function apOf(entry: ModelEntry, runtime: string, longSide: number, file: ModelFileChoice, label: string): Promise<Ap> {
  const cacheDir = workDir('bench-int8', 'preds', `${entry.id}-${longSide}`, label);
  const st = statSync(file.path);
  const key = JSON.stringify({ file: file.path, size: st.size, mtime: st.mtimeMs, runtime, keys: keys.length, first: keys[0], last: keys.at(-1) });
  const cacheFile = `${cacheDir}.ap.json`;
  if (existsSync(cacheFile)) {
    const c = JSON.parse(readFileSync(cacheFile, 'utf8')) as { key: string; ap: Ap };
    if (c.key === key) return c.ap;
  }
  const ap = await runAp(entry, runtime, longSide, file, label);
  writeFileSync(cacheFile, JSON.stringify({ key, ap }));
  return ap;
}

async function runAp(entry: ModelEntry, runtime: string, longSide: number, file: ModelFileChoice, label: string): Promise<Ap> {
  const texts = new Array<string>(paths.length);
  await detectAll(entry, paths, { runtime, longSide, jobs, file, widerText: true }, (r) => (texts[r.i] = r.text!));
  const dir = workDir('bench-int8', 'preds', `${entry.id}-${longSide}`, label);
  writeFilesAtomic(keys.map((k, i) => ({ path: join(dir, `${k}.txt`), data: texts[i] })));
  const ev = evaluateWider(dir, { subset: keys });
  return { easy: ev.easy, medium: ev.medium, hard: ev.hard };
}

/** onnxruntime static quantization of the fp32 ONNX on the calibration tensors (cached). */
async function ortInt8(entry: ModelEntry, src: ModelFileChoice, longSide: number, calibrator: string): Promise<string> {
  const out = workDir('bench-int8', 'ort', `${entry.id}-${longSide}-${calibrator}${calibLimit ? `-n${calibLimit}` : ''}-v2.onnx`);
  if (existsSync(out)) return out;
  const set = await prepareCalibSet(calibList, entry, longSide, calibLimit);
  try {
    mkdirSync(workDir('bench-int8', 'ort'), { recursive: true });
    const jobFile = join(set.dir, 'job.json');
    writeFileSync(jobFile, JSON.stringify({ model: src.path, out: `${out}.tmp.onnx`, calibrator, input: entry.input.name, tensors: set.tensors }));
    const r = spawnSync(python, [join(PROJECT_ROOT, 'bench', 'ort-quantize.py'), jobFile], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`ort quantization failed: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`);
    const { renameSync } = await import('node:fs');
    renameSync(`${out}.tmp.onnx`, out);
    return out;
  } finally {
    set.dispose();
  }
}

async function latency(runtime: 'ncnn' | 'ort', model: string, threads: number, input: { data: Float32Array; dims: number[] }, fp16 = false, shapes?: Record<string, number[]>): Promise<number> {
  const rt = await getRuntime(runtime);
  const m = await rt.load(model, { threads, ncnn: { fp16 }, inputShapes: shapes });
  try {
    const feed = { [m.inputNames[0]]: input };
    for (let i = 0; i < 3; i++) await m.run(feed);
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push((await m.run(feed)).ms);
    ms.sort((a, b) => a - b);
    return ms[Math.floor(ms.length / 2)];
  } finally {
    await m.release();
  }
}

const apRows: ApRow[] = [];
const latRows: LatRow[] = [];
const sampleImage = join(data, 'images', 'seed-sample.jpg');

for (const ls of longSides) {
  for (const id of models) {
    const entry = getModel(id, ls);
    const src = await modelFileFor(entry);
    const shapes = entry.input.resize.mode === 'fixed' ? { [entry.input.name]: [1, 3, entry.input.resize.height!, entry.input.resize.width!] } : {};
    const fp32 = await convertOnnxForNcnn(src.path, shapes);
    const row = (variant: string, r: Partial<ApRow>) => {
      apRows.push({ model: id, longSide: ls, variant, ...r });
      const a = r.ap;
      log(`${id}-${ls} ${variant}: ${a ? `${a.easy.toFixed(4)} / ${a.medium.toFixed(4)} / ${a.hard.toFixed(4)}` : r.error ?? `${r.bytes} bytes`} (${r.seconds?.toFixed(0)} s)`);
    };
    const timed = async (variant: string, fn: () => Promise<{ ap?: Ap; bytes?: number }>) => {
      const t0 = performance.now();
      try {
        row(variant, { ...(await fn()), seconds: (performance.now() - t0) / 1000 });
      } catch (e) {
        row(variant, { error: String((e as Error).message).split('\n')[0], seconds: (performance.now() - t0) / 1000 });
      }
    };
    await timed('fp32 (ncnn)', async () => ({ ap: await maybeAp(() => apOf(entry, 'ncnn', ls, src, 'fp32')), bytes: statSync(fp32.bin).size }));
    const int8Files: Record<string, ModelFileChoice> = {};
    for (const method of methods)
      await timed(`fdk ncnn-int8 ${method}`, async () => {
        const f = (int8Files[method] = await int8ModelFile(entry, ls, { method, limit: calibLimit }));
        return { ap: await maybeAp(() => apOf(entry, 'ncnn', ls, f, `int8-${method}`)), bytes: statSync(f.path.replace(/\.param$/, '.bin')).size };
      });
    if (mixed > 0)
      await timed(`fdk ncnn-int8 kl, ${mixed} layers fp32`, async () => {
        const f = await int8ModelFile(entry, ls, { method: 'kl', limit: calibLimit, autoKeep: mixed });
        return { ap: await maybeAp(() => apOf(entry, 'ncnn', ls, f, `int8-kl-mp${mixed}`)), bytes: statSync(f.path.replace(/\.param$/, '.bin')).size };
      });
    const ortFiles: Record<string, string> = {};
    for (const cal of ortCalibrators)
      await timed(`onnxruntime int8 ${cal}`, async () => {
        const p = (ortFiles[cal] = await ortInt8(entry, src, ls, cal));
        return { ap: await maybeAp(() => apOf(entry, 'ort', ls, { ...src, path: p, origin: 'ort int8' }, `ort-${cal}`)), bytes: statSync(p).size };
      });

    // latency on one real image at this long side
    const pre = preprocess(await loadImage(sampleImage, { keepRgb: true }), entry, { longSide: ls });
    const input = { data: pre.tensor, dims: [...pre.dims] };
    const bestInt8 = int8Files.kl ?? Object.values(int8Files)[0];
    const bestOrt = ortFiles.entropy ?? Object.values(ortFiles)[0];
    const cases: [string, () => (t: number) => Promise<number>][] = [
      ['ncnn fp32', () => (t) => latency('ncnn', fp32.param, t, input)],
      ['ncnn fp16', () => (t) => latency('ncnn', fp32.param, t, input, true)],
      ...(bestInt8 ? [['ncnn int8', () => (t: number) => latency('ncnn', bestInt8.path, t, input)] as [string, () => (t: number) => Promise<number>]] : []),
      ['onnxruntime fp32', () => (t) => latency('ort', src.path, t, input, false, shapes)],
      ...(bestOrt ? [['onnxruntime int8', () => (t: number) => latency('ort', bestOrt, t, input, false, shapes)] as [string, () => (t: number) => Promise<number>]] : []),
    ];
    for (const [name, mk] of cases) {
      const ms: Record<number, number | string> = {};
      for (const t of threadList) {
        try {
          ms[t] = await mk()(t);
        } catch (e) {
          ms[t] = `error: ${String((e as Error).message).split('\n')[0]}`;
        }
      }
      latRows.push({ model: id, longSide: ls, runtime: name, ms });
      log(`${id}-${ls} latency ${name}: ${threadList.map((t) => `${t}T ${typeof ms[t] === 'number' ? (ms[t] as number).toFixed(2) : ms[t]}`).join(', ')}`);
    }
  }
}

const f4 = (v: number) => v.toFixed(4);
const signed = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(4);
const kb = (b?: number) => (b === undefined ? '' : `${(b / 1024).toFixed(0)} KB`);
function markdown(): string {
  const out: string[] = [];
  if (latencyOnly) {
    out.push('| model | long side | variant | size |', '|---|---|---|---|');
    for (const r of apRows) out.push(`| ${r.model} | ${r.longSide} | ${r.variant} | ${r.error ?? kb(r.bytes)} |`);
    return latencyTable(out);
  }
  out.push(`AP on ${setLabel}; calibration: ${calibLimit ?? 200} images of wider/calib-200. Loss = int8 − fp32 (negative = worse). Sizes: ncnn .bin, onnxruntime .onnx.`, '');
  out.push('| model | long side | variant | easy | medium | hard | Δ easy | Δ medium | Δ hard | size |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const r of apRows) {
    const base = apRows.find((x) => x.model === r.model && x.longSide === r.longSide && x.variant.startsWith('fp32'))?.ap;
    if (!r.ap) {
      out.push(`| ${r.model} | ${r.longSide} | ${r.variant} | ${r.error} | | | | | | |`);
      continue;
    }
    const d = base && r !== apRows.find((x) => x.ap === base) ? [signed(r.ap.easy - base.easy), signed(r.ap.medium - base.medium), signed(r.ap.hard - base.hard)] : ['', '', ''];
    out.push(`| ${r.model} | ${r.longSide} | ${r.variant} | ${f4(r.ap.easy)} | ${f4(r.ap.medium)} | ${f4(r.ap.hard)} | ${d.join(' | ')} | ${kb(r.bytes)} |`);
  }
  return latencyTable(out);
}
function latencyTable(out: string[]): string {
  out.push('', `Latency: median of ${runs} runs on images/seed-sample.jpg at that long side, ms, measured inside each runtime.`, '');
  out.push(`| model | long side | runtime | ${threadList.map((t) => `${t} thread${t > 1 ? 's' : ''}`).join(' | ')} |`, `|---|---|---|${threadList.map(() => '---').join('|')}|`);
  for (const r of latRows) out.push(`| ${r.model} | ${r.longSide} | ${r.runtime} | ${threadList.map((t) => (typeof r.ms[t] === 'number' ? (r.ms[t] as number).toFixed(2) : r.ms[t])).join(' | ')} |`);
  return out.join('\n');
}

const result = { set: setLabel, calibImages: calibLimit ?? 200, apRows, latRows };
mkdirSync(workDir('bench-int8'), { recursive: true });
writeFileSync(workDir('bench-int8', 'result.json'), JSON.stringify(result, null, 2));
if (json) console.log(JSON.stringify(result, null, 2));
else console.log(markdown());

if (args.includes('--write-doc')) {
  const doc = resolve(PROJECT_ROOT, 'docs', 'int8.md');
  const text = readFileSync(doc, 'utf8');
  // --doc-section NAME writes between <!-- bench:int8 begin NAME --> and <!-- bench:int8 end NAME -->
  const section = opt('doc-section', '');
  const begin = `<!-- bench:int8 begin${section ? ` ${section}` : ''} -->`;
  const end = `<!-- bench:int8 end${section ? ` ${section}` : ''} -->`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${doc}: markers ${begin} / ${end} not found`);
  const stamp = `Measured by \`npm run bench:int8 -- ${args.filter((a, i) => a !== '--write-doc' && a !== '--doc-section' && args[i - 1] !== '--doc-section').join(' ')}\` on ${new Date().toISOString().slice(0, 10)} (${(await import('node:os')).cpus().length} cores, shared).`;
  writeFileSync(doc, `${text.slice(0, i + begin.length)}\n${stamp}\n\n${markdown()}\n${text.slice(j)}`);
  stampDoc(doc); // content hash, checked by npm run docs:check
}
