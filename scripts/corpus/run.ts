/**
 * The real-model corpus run: every ONNX file that scripts/corpus/build.py wrote to .fdk/corpus/
 * is converted by fdk (`node bin/fdk.js convert`, whole process) and by pnnx (PyPI, the bench
 * venv; same .onnx, its input shape, fp16=0); each result is loaded in real ncnn and compared with
 * onnxruntime on a seeded input (max abs and max abs / max(1, max |ref|)); both .param files are
 * timed in real ncnn interleaved (./speed.ts: alternating rounds in two workers, 1 thread, median
 * of each, fdk/pnnx ratio with its round-to-round spread); a file only fdk converts is timed
 * alone (median). fdk writes over its earlier outputs there (--force). Prints a markdown table; `--write-doc` puts it into
 * docs/corpus.md between its markers, and the rows go to reports/latest/corpus.json.
 *
 *   npx tsx scripts/corpus/run.ts [--only a,b] [--opsets 13] [--no-pnnx] [--no-speed] [--rounds R] [--runs N] [--merge] [--reuse-pnnx] [--write-doc]
 *   npx tsx scripts/corpus/run.ts --speed-only [--only a,b] [--opsets 13] [--rounds R] [--runs N] [--write-doc]
 *   npx tsx scripts/corpus/run.ts --check [--only a,b] [--opsets 13]
 *
 * --check converts the built files with fdk again (no pnnx, no timing) and exits 1 when a row
 * differs from the doc's table beyond noise (corpusDrift below); rows whose .onnx is not built are skipped.
 *
 * --merge keeps the rows of reports/latest/corpus.json (without it: the doc's table) for files not measured this time;
 * --reuse-pnnx takes pnnx's results from there instead of running pnnx again (fdk changed, pnnx did not);
 * --json PATH reads/writes another rows file; --report-only [--add-json a.json,b.json] only
 * prints (and with --write-doc writes) the table of rows measured before; --timing-only [--with-pnnx] [--with-speed] [--repeat N]
 * measures the conversions' wall and CPU time (and the ncnn run time) again for those rows;
 * --speed-only times the .param files already in .fdk/corpus/out again (nothing converted) and keeps
 * the other columns of the earlier rows.
 */
import { seededUniform } from '../../src/util/rng.js';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../../src/util/data.js';
import { getRuntime } from '../../src/runtime/index.js';
import { loadOnnx } from '../../src/onnx/io.js';
import { runtimeInputs } from '../../src/onnx/model.js';
import type { LoadedModel, TensorMap } from '../../src/runtime/types.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { writeDocSection } from '../doc-sections.js';
import { pairSpeed, pairLine, type PairSpeed } from './speed.js';

export interface CorpusEntry { name: string; family: string; opset: number; file: string | null; input: number[]; error?: string }
export interface ToolResult {
  converts: boolean; ms: number | null; cpuMs?: number | null; loads: boolean; maxAbs: number | null; rel: number | null; runMs: number | null; note?: string;
  /** the pnnx release that converted (pnnx rows; absent in rows of runs before it was recorded) */
  version?: string;
}
/** runMs in a ToolResult is the median wall ms of the worker's forward passes; speed is the interleaved comparison. */
export interface CorpusRow {
  name: string; family: string; opset: number; maxRef: number; fdk: ToolResult; pnnx?: ToolResult;
  speed?: Pick<PairSpeed, 'ratio' | 'lo' | 'hi' | 'verdict'> & Partial<Omit<PairSpeed, 'ratio' | 'lo' | 'hi' | 'verdict'>>;
  /** 'median' when runMs was measured as a median (earlier tables had the fastest run). */
  runStat?: 'median';
  /** Conversions timed this many times, alternating the tools, each tool's median run kept (--timing-only --repeat N). */
  convertRuns?: number;
}

export const CORPUS_DIR = join(PROJECT_ROOT, '.fdk', 'corpus');
// pnnx from the bench setup (scripts/setup-python.sh --bench installs it into .venv-dev), or FDK_PNNX
const PNNX = process.env.FDK_PNNX ?? [join(PROJECT_ROOT, '.venv-dev', 'bin', 'pnnx')].find(existsSync);
/** pnnx prints no version; its Python package (next to the executable) knows it. */
let pnnxVersion: string | undefined;
function pnnxRelease(): string {
  if (!PNNX) return 'not installed';
  pnnxVersion ??= timed(join(dirname(PNNX), 'python'), ['-c', 'import importlib.metadata as m; print(m.version("pnnx"))'], PROJECT_ROOT).out.split('\n').pop() || '?';
  return pnnxVersion;
}
const FDK = existsSync(join(PROJECT_ROOT, 'dist', 'cli', 'main.js')) ? [join(PROJECT_ROOT, 'bin', 'fdk.js')] : ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'entry.ts')];

/** Entries of the manifest, or (while build.py is still writing) every .onnx in the folder. */
export function corpusEntries(dir = CORPUS_DIR): CorpusEntry[] {
  const man = join(dir, 'manifest.json');
  const listed: CorpusEntry[] = existsSync(man) ? JSON.parse(readFileSync(man, 'utf8')) : [];
  const known = new Set(listed.map((e) => e.file));
  for (const f of existsSync(dir) ? readdirSync(dir).filter((x) => x.endsWith('.onnx')).sort() : []) {
    if (known.has(f)) continue;
    const m = /^(.*)-op(\d+)\.onnx$/.exec(f);
    const g = loadOnnx(join(dir, f)).graph;
    const shape = runtimeInputs(g)[0].shape?.map((d) => (typeof d === 'number' ? d : 1)) ?? [];
    listed.push({ name: m?.[1] ?? f, family: '?', opset: Number(m?.[2] ?? 0), file: f, input: shape });
  }
  return listed;
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/**
 * The timed conversion writes into an empty place, as pnnx's does: over an existing output fdk
 * first compares the new files with the old ones byte by byte (to report "unchanged" or refuse a
 * different model without --force), which re-reads both — 660 MB for vit_b_16 — and is not part
 * of converting.
 */
function clearFdkOutputs(prefix: string): void {
  for (const ext of ['.param', '.bin', '.fdk.json']) rmSync(`${prefix}${ext}`, { force: true });
}

/**
 * Runs a command; wall time, and CPU time (user + sys of the process and its children, through
 * /usr/bin/time when present): on a machine shared with other work the wall time mostly measures
 * the neighbours, the CPU time what the tool itself did.
 */
function timed(cmd: string, argv: string[], cwd: string): { ms: number; cpuMs: number | null; ok: boolean; out: string } {
  const t0 = performance.now();
  const [c, a] = TIME ? [TIME, ['-f', 'FDKCPU %U %S', cmd, ...argv]] : [cmd, argv];
  const r = spawnSync(c, a, { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' }, maxBuffer: 256 << 20, timeout: 20 * 60_000 });
  const ms = performance.now() - t0;
  let err = r.stderr ?? '';
  let cpuMs: number | null = null;
  const m = /FDKCPU ([\d.]+) ([\d.]+)\s*$/.exec(err);
  if (m) {
    cpuMs = (Number(m[1]) + Number(m[2])) * 1000;
    // time's own line about the exit status would hide the tool's error line
    err = err.slice(0, m.index).replace(/Command exited with non-zero status \d+\s*$/, '');
  }
  return { ms, cpuMs, ok: r.status === 0, out: `${r.stdout ?? ''}\n${err}`.trim() };
}

/** The successful run with the median CPU time (the lower middle one of an even count). */
function medianRun(runs: ReturnType<typeof timed>[]): ReturnType<typeof timed> | undefined {
  const ok = runs.filter((x) => x.ok).sort((a, b) => (a.cpuMs ?? a.ms) - (b.cpuMs ?? b.ms));
  return ok.length ? ok[(ok.length - 1) >> 1] : undefined;
}

/** Seeded input in [-1, 1), the same for both runtimes. */
function seededInput(dims: number[], seed = 7): Float32Array {
  return seededUniform(seed, dims.reduce((a, b) => a * b, 1));
}

/**
 * Worst difference over the onnxruntime outputs. fdk keeps the ONNX names; pnnx renames outputs
 * (out0, out1...), so there each reference is matched with the same-size ncnn output closest to it.
 */
function compare(ref: TensorMap, got: TensorMap, byName: boolean): { maxAbs: number; rel: number } {
  let maxAbs = 0, maxRef = 0;
  for (const [k, v] of Object.entries(ref)) {
    const cands = byName ? [got[k]] : Object.values(got);
    let best = Infinity;
    for (const g of cands) {
      if (!g || g.data.length !== v.data.length) continue;
      let d = 0;
      for (let i = 0; i < v.data.length; i++) d = Math.max(d, Math.abs(v.data[i] - g.data[i]));
      if (Number.isNaN(d)) d = Infinity;
      best = Math.min(best, d);
    }
    for (let i = 0; i < v.data.length; i++) maxRef = Math.max(maxRef, Math.abs(v.data[i]));
    maxAbs = Math.max(maxAbs, best);
  }
  return { maxAbs, rel: maxAbs / Math.max(1, maxRef) };
}

/** Median ms of `fdk bench --runtimes ncnn` (1 thread): a model only one tool converted. */
function benchMs(param: string, shape: number[], runs: number): number | null {
  const r = timed(process.execPath, [...FDK, 'bench', param, '--runtimes', 'ncnn', '--input', shape.join('x'), '--runs', String(runs), '--warmup', '2', '--json'], PROJECT_ROOT);
  if (!r.ok) return null;
  try {
    const j = JSON.parse(r.out.slice(r.out.indexOf('{')));
    return j.cases?.[0]?.latency?.median ?? null;
  } catch {
    return null;
  }
}

const pnnxParamOf = (stem: string) => join(CORPUS_DIR, 'out', 'pnnx', stem, `${stem.replace(/[^A-Za-z0-9_]/g, '_')}.ncnn.param`);

/**
 * The run-time columns of a row: both .param files interleaved when both load (the ratio and its
 * spread), else the one that loads on its own.
 */
async function measureSpeed(row: CorpusRow, stem: string, input: number[], o: { rounds?: number; runs?: number; log?: (s: string) => void }): Promise<void> {
  const fdkParam = join(CORPUS_DIR, 'out', 'fdk', `${stem}.param`), pnnxParam = pnnxParamOf(stem);
  const fdkOk = row.fdk.loads && existsSync(fdkParam), pnnxOk = !!row.pnnx?.loads && existsSync(pnnxParam);
  row.runStat = 'median';
  row.speed = undefined;
  if (fdkOk && pnnxOk) {
    const s = await pairSpeed(fdkParam, pnnxParam, input, { rounds: o.rounds ?? 5, runs: o.runs ?? 10 });
    row.fdk.runMs = s.aMs;
    row.pnnx!.runMs = s.bMs;
    row.speed = s;
    o.log?.(`${stem}: fdk/pnnx ${pairLine(s)}`);
    return;
  }
  if (row.fdk.loads) row.fdk.runMs = fdkOk ? benchMs(fdkParam, input, o.runs ?? 10) : null;
  if (row.pnnx?.loads) row.pnnx.runMs = pnnxOk ? benchMs(pnnxParam, input, o.runs ?? 10) : null;
}

async function checkInNcnn(res: ToolResult, onnx: string, param: string, e: CorpusEntry, ncnnInput: string, byName: boolean, ref: TensorMap): Promise<void> {
  let n: LoadedModel;
  try {
    n = await (await getRuntime('ncnn')).load(param);
  } catch (err) {
    // the project's own path is no part of the result (the table names the file by its row)
    res.note = `ncnn load: ${(err as Error).message.split('\n')[0].replaceAll(`${PROJECT_ROOT}/`, '')}`;
    return;
  }
  res.loads = true;
  try {
    const got = (await n.run({ [ncnnInput]: { data: seededInput(e.input), dims: e.input } }, byName ? Object.keys(ref) : undefined)).outputs;
    Object.assign(res, compare(ref, got, byName));
  } catch (err) {
    res.note = `ncnn run: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    await n.release();
  }
}

export interface RunOptions {
  only?: string[]; opsets?: number[]; pnnx?: boolean; speed?: boolean; rounds?: number; runs?: number; log?: (s: string) => void;
  /** pnnx rows measured earlier (reports/latest/corpus.json), reused instead of running pnnx again */
  earlierPnnx?: Map<string, ToolResult>;
}

export async function runCorpus(o: RunOptions = {}): Promise<CorpusRow[]> {
  const out = join(CORPUS_DIR, 'out');
  const rows: CorpusRow[] = [];
  const entries = corpusEntries().filter((e) => e.file && (!o.only?.length || o.only.includes(e.name)) && (!o.opsets?.length || o.opsets.includes(e.opset)));
  for (const e of entries) {
    const onnx = join(CORPUS_DIR, e.file!);
    const stem = basename(e.file!, '.onnx');
    const inputName = runtimeInputs(loadOnnx(onnx).graph)[0].name;
    const ortModel = await (await getRuntime('ort')).load(onnx);
    const ref = (await ortModel.run({ [inputName]: { data: seededInput(e.input), dims: e.input } })).outputs;
    await ortModel.release();
    const empty = (): ToolResult => ({ converts: false, ms: null, loads: false, maxAbs: null, rel: null, runMs: null });
    const maxRef = Math.max(...Object.values(ref).map((v) => v.data.reduce((m, x) => Math.max(m, Math.abs(x)), 0)));
    const row: CorpusRow = { name: e.name, family: e.family, opset: e.opset, maxRef, fdk: empty() };
    // fdk
    const prefix = join(out, 'fdk', stem);
    mkdirSync(join(out, 'fdk'), { recursive: true });
    clearFdkOutputs(prefix);
    const t = timed(process.execPath, [...FDK, 'convert', onnx, '--to', 'ncnn', '-o', prefix, '--input', `${inputName}:${e.input.join('x')}`, '--force'], PROJECT_ROOT);
    row.fdk.converts = t.ok;
    if (t.ok) {
      row.fdk.ms = t.ms;
      row.fdk.cpuMs = t.cpuMs;
      await checkInNcnn(row.fdk, onnx, `${prefix}.param`, e, inputName, true, ref);
    } else row.fdk.note = t.out.split('\n').pop()?.replace(/^fdk: error: \S+: /, '');
    // pnnx
    const earlier = o.earlierPnnx?.get(`${e.name}@${e.opset}`);
    const dir = join(out, 'pnnx', stem);
    const pnnxParam = pnnxParamOf(stem);
    if (earlier) {
      // conversion results as measured before; the speed is measured again beside fdk's (below)
      row.pnnx = { ...earlier, runMs: null };
    } else if (o.pnnx !== false && PNNX) {
      row.pnnx = { ...empty(), version: pnnxRelease() };
      mkdirSync(dir, { recursive: true });
      copyFileSync(onnx, join(dir, e.file!));
      const p = timed(PNNX, [e.file!, `inputshape=[${e.input.join(',')}]`, 'fp16=0'], dir);
      const param = pnnxParam;
      row.pnnx.converts = p.ok && existsSync(param) && statSync(param).size > 0;
      if (row.pnnx.converts) {
        row.pnnx.ms = p.ms;
        row.pnnx.cpuMs = p.cpuMs;
        await checkInNcnn(row.pnnx, onnx, param, e, 'in0', false, ref);
      } else row.pnnx.note = p.ok ? 'no .ncnn.param written' : p.out.split('\n').filter(Boolean).pop()?.slice(0, 120);
    }
    if (o.speed !== false) await measureSpeed(row, stem, e.input, o);
    o.log?.(`${stem}: fdk ${row.fdk.converts ? `${row.fdk.ms!.toFixed(0)} ms, diff ${row.fdk.maxAbs?.toExponential(1)}` : `fails (${row.fdk.note})`}` + (row.pnnx ? `; pnnx ${row.pnnx.converts ? `${row.pnnx.ms!.toFixed(0)} ms, diff ${row.pnnx.maxAbs?.toExponential(1)}` : 'fails'}` : ''));
    rows.push(row);
  }
  return rows;
}

const TOL = 1e-4;
const num = (v: number | null, d = 1) => (v === null ? '–' : v === Infinity ? 'NaN/shape' : v.toExponential(d));
const ms = (v: number | null) => (v === null ? '–' : v.toFixed(0));
const cell = (r: ToolResult) => [r.converts ? 'yes' : 'no', r.loads ? 'yes' : 'no', num(r.maxAbs), num(r.rel), r.rel === null ? '' : r.rel <= TOL ? 'ok' : 'OFF', ms(r.ms), r.cpuMs ? ms(r.cpuMs) : '–', r.runMs === null || r.runMs === undefined ? '–' : r.runMs.toFixed(1)];
/** "ratio (lowest-highest round)", e.g. "1.31 (1.12-1.60)"; its reader is speedOf. */
const speedCell = (s: CorpusRow['speed']) => (s ? `${s.ratio.toFixed(2)} (${s.lo.toFixed(2)}-${s.hi.toFixed(2)})` : '');
function speedOf(c: string): CorpusRow['speed'] {
  const m = /^([\d.]+) \(([\d.]+)-([\d.]+)\)$/.exec(c);
  if (!m) return undefined;
  const [ratio, lo, hi] = [m[1], m[2], m[3]].map(Number);
  return { ratio, lo, hi, verdict: lo > 1 ? 'slower' : hi < 1 ? 'faster' : 'level' };
}

export function corpusTable(rows: CorpusRow[]): string {
  const lines = [
    '| model | opset | max \\|ref\\| | fdk converts | loads | max abs | rel | tol | convert ms | CPU ms | run ms (median) | pnnx converts | loads | max abs | rel | tol | convert ms | CPU ms | run ms (median) | pnnx/fdk CPU | run fdk/pnnx (rounds) | note |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    // run times of earlier tables were the fastest run, not the median: not shown under this header
    const r = row.runStat === 'median' ? row : { ...row, fdk: { ...row.fdk, runMs: null }, pnnx: row.pnnx && { ...row.pnnx, runMs: null } };
    const p = r.pnnx;
    const cpuRatio = p?.cpuMs && r.fdk.cpuMs ? `${(p.cpuMs / r.fdk.cpuMs).toFixed(1)}x` : '';
    // paths relative to the checkout (rows of other worktrees named theirs)
    const note = [r.fdk.note && `fdk: ${r.fdk.note}`, p?.note && `pnnx: ${p.note}`].filter(Boolean).join('; ').replace(/(?:\/[\w.-]+)+?\/(\.fdk\/)/g, '$1').replace(/\|/g, '/').slice(0, 160);
    lines.push(`| ${r.name} | ${r.opset} | ${r.maxRef === undefined ? '' : r.maxRef.toPrecision(2)} | ${cell(r.fdk).join(' | ')} | ${(p ? cell(p) : new Array(8).fill('')).join(' | ')} | ${cpuRatio} | ${speedCell(r.speed)} | ${note} |`);
  }
  const both = rows.filter((r) => r.pnnx?.converts);
  const fdkOk = rows.filter((r) => r.fdk.converts && r.fdk.rel !== null && r.fdk.rel <= TOL);
  const pnnxOk = rows.filter((r) => r.pnnx?.converts && r.pnnx.rel !== null && r.pnnx.rel <= TOL);
  const ratios = both.filter((r) => r.fdk.ms).map((r) => r.pnnx!.ms! / r.fdk.ms!).sort((a, b) => a - b);
  const paired = rows.filter((r) => r.speed);
  const speed = paired.map((r) => r.speed!.ratio).sort((a, b) => a - b);
  const med = (a: number[]) => (a.length ? a[Math.floor(a.length / 2)] : NaN);
  lines.push('', `${rows.length} files; fdk converts ${rows.filter((r) => r.fdk.converts).length} and is within tolerance (max abs <= 1e-4 x max(1, max |ref|)) on ${fdkOk.length}; pnnx converts ${both.length}, within tolerance on ${pnnxOk.length}.`);
  const missed = rows.filter((r) => r.pnnx?.converts && !(r.fdk.converts && r.fdk.rel !== null && r.fdk.rel <= TOL)).map((r) => `${r.name}-op${r.opset}`);
  lines.push(`Files pnnx converts where fdk does not (or not within tolerance): ${missed.length ? missed.join(', ') : 'none'}.`);
  const notExported = corpusEntries().filter((e) => !e.file && e.error);
  if (notExported.length) lines.push(`torch could not export (not in the table): ${notExported.map((e) => `${e.name}-op${e.opset} (${e.error!.replace(/\|/g, '/').slice(0, 90)})`).join('; ')}.`);
  const cpuRatios = both.filter((r) => r.fdk.cpuMs && r.pnnx!.cpuMs).map((r) => r.pnnx!.cpuMs! / r.fdk.cpuMs!).sort((a, b) => a - b);
  const repeated = both.filter((r) => (r.convertRuns ?? 1) > 1);
  const names = (rs: CorpusRow[]) => rs.map((r) => `${r.name}-op${r.opset}`).join(', ');
  const once = both.filter((r) => (r.convertRuns ?? 1) === 1);
  const runsOf = `median of ${[...new Set(repeated.map((r) => r.convertRuns))].join('/')} alternating runs`;
  const repeatText = !repeated.length ? '' : !once.length ? ` Each tool's ${runsOf} per file.` : repeated.length < once.length ? ` Timed once each, except ${names(repeated)}: ${runsOf}.` : ` Each tool's ${runsOf} per file, except ${names(once)}: timed once.`;
  if (cpuRatios.length) lines.push(`Whole-process conversion CPU time (user + sys) pnnx/fdk: median ${med(cpuRatios).toFixed(1)}x, min ${cpuRatios[0].toFixed(1)}x, max ${cpuRatios[cpuRatios.length - 1].toFixed(1)}x over ${cpuRatios.length} files.${repeatText}`);
  // a pnnx output that ncnn cannot load is a failed conversion, whatever it cost: the files below
  // are the ones where both tools produced a working model
  const working = both.filter((r) => r.fdk.cpuMs && r.pnnx!.cpuMs && r.fdk.loads && r.pnnx!.loads).map((r) => r.pnnx!.cpuMs! / r.fdk.cpuMs!).sort((a, b) => a - b);
  if (working.length && working.length < cpuRatios.length)
    lines.push(`The same over the ${working.length} files where both conversions load in ncnn: median ${med(working).toFixed(1)}x, min ${working[0].toFixed(1)}x, max ${working[working.length - 1].toFixed(1)}x.`);
  // wall times of the two tools may come from different moments of a shared machine's load
  // (--timing-only, --reuse-pnnx): no ratio of them is printed, the CPU ratio above is the comparison
  void ratios;
  if (speed.length) {
    const loads = paired.flatMap((r) => r.speed!.load ?? []);
    const rr = paired.find((r) => r.speed!.rounds)?.speed;
    // 'lo-hi' when rows were measured with different counts (rows re-measured with more rounds)
    const spread = (key: 'runs' | 'rounds'): string | undefined => {
      const n = paired.map((r) => r.speed![key]).filter((x): x is number => !!x);
      return n.length && Math.min(...n) !== Math.max(...n) ? `${Math.min(...n)}-${Math.max(...n)}` : undefined;
    };
    const runsText = spread('runs') ? `${spread('runs')} runs (more for fast models)` : `${rr?.runs} runs`;
    const how = `interleaved in real ncnn, 1 thread, median CPU ms per forward${rr ? ` over ${spread('rounds') ?? rr.rounds} rounds x ${runsText}` : ''}${loads.length ? `, load average ${Math.min(...loads).toFixed(0)}-${Math.max(...loads).toFixed(0)}` : ''}`;
    lines.push(`ncnn run time fdk/pnnx (${how}): median ${med(speed).toFixed(2)}, min ${speed[0].toFixed(2)}, max ${speed[speed.length - 1].toFixed(2)} over ${speed.length} models (below 1 = fdk's model faster).`);
    const list = (v: string) => paired.filter((r) => r.speed!.verdict === v).map((r) => `${r.name}-op${r.opset} ${speedCell(r.speed)}`);
    lines.push(`fdk's model slower in every round: ${list('slower').join(', ') || 'none'}; faster in every round: ${list('faster').length}; within the round-to-round spread: ${list('level').length}.`);
  }
  return lines.join('\n');
}

/**
 * Where the table's pnnx columns come from: the pnnx release each row was converted with (this
 * run or an earlier one merged in), and how many rows predate recording it.
 */
function pnnxSource(rows: CorpusRow[]): string {
  const withPnnx = rows.filter((r) => r.pnnx);
  const byVersion = new Map<string, number>();
  for (const r of withPnnx) if (r.pnnx!.version) byVersion.set(r.pnnx!.version, (byVersion.get(r.pnnx!.version) ?? 0) + 1);
  const unrecorded = withPnnx.filter((r) => !r.pnnx!.version).length;
  const parts = [...byVersion].map(([v, n]) => `${n} converted by pnnx ${v} (PyPI)`);
  if (unrecorded) parts.push(`${unrecorded} from earlier runs that did not record pnnx's version`);
  const without = rows.length - withPnnx.length;
  return withPnnx.length ? `pnnx columns: ${withPnnx.length} rows, ${parts.join(', ')}${without ? `; ${without} rows not run through pnnx` : ''}` : `no pnnx columns (pnnx ${pnnxRelease()})`;
}

const BEGIN = '<!-- corpus:begin (generated by scripts/corpus/run.ts --write-doc; do not edit) -->';
const END = '<!-- corpus:end -->';

/** The table and its header line into docs/corpus.md, through the one writer of generated sections. */
function writeDoc(table: string, header: string): void {
  writeDocSection('corpus', `${header}\n\n${table}`);
}

/** The rows of the table in docs/corpus.md (what --write-doc wrote), for --check and as earlier rows. */
export function rowsFromDoc(text = readFileSync(join(PROJECT_ROOT, 'docs', 'corpus.md'), 'utf8')): CorpusRow[] {
  const a = text.indexOf(BEGIN), b = text.indexOf(END);
  if (a < 0 || b < a) return [];
  const numOrNull = (c: string) => (c === '' || c === '–' ? null : c === 'NaN/shape' ? Infinity : Number(c));
  const tool = (c: string[]): ToolResult => ({
    converts: c[0] === 'yes', loads: c[1] === 'yes', maxAbs: numOrNull(c[2]), rel: numOrNull(c[3]), ms: numOrNull(c[5]), cpuMs: numOrNull(c[6]), runMs: numOrNull(c[7]),
  });
  const rows: CorpusRow[] = [];
  for (const line of text.slice(a, b).split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| model') ) continue;
    const c = line.slice(2, -2).split(' | ').map((x) => x.trim());
    if (c.length < 21 || !/^\d+$/.test(c[1])) continue;
    const withSpeed = c.length >= 22; // the run fdk/pnnx column (tables before it had 21)
    const row: CorpusRow = { name: c[0], family: '?', opset: Number(c[1]), maxRef: c[2] === '' ? (undefined as unknown as number) : Number(c[2]), fdk: tool(c.slice(3, 11)) };
    if (c[11] !== '') row.pnnx = tool(c.slice(11, 19));
    if (withSpeed) {
      row.runStat = 'median';
      row.speed = speedOf(c[20]);
    }
    const notes = c[c.length - 1].split('; ');
    const note = (who: string) => notes.find((n) => n.startsWith(`${who}: `))?.slice(who.length + 2);
    if (note('fdk')) row.fdk.note = note('fdk');
    if (row.pnnx && note('pnnx')) row.pnnx.note = note('pnnx');
    rows.push(row);
  }
  return rows;
}

/**
 * Differences between a fresh fdk run and the doc's rows that are not noise: converts / loads /
 * within tolerance changed, or max abs moved by more than 10x (and by more than 1e-6). Times are
 * not compared (a shared machine makes them vary 2-5x). Rows whose .onnx is not built are skipped.
 */
export function corpusDrift(fresh: CorpusRow[], doc: CorpusRow[]): string[] {
  const key = (r: CorpusRow) => `${r.name}-op${r.opset}`;
  const byKey = new Map(doc.map((r) => [key(r), r]));
  const out: string[] = [];
  const ok = (t: ToolResult) => t.rel !== null && t.rel <= TOL;
  for (const r of fresh) {
    const d = byKey.get(key(r));
    if (!d) {
      out.push(`${key(r)}: not in the table of docs/corpus.md`);
      continue;
    }
    const f = r.fdk, e = d.fdk;
    if (f.converts !== e.converts) out.push(`${key(r)}: fdk converts ${f.converts ? 'yes' : 'no'}, the table says ${e.converts ? 'yes' : 'no'}${f.note ? ` (${f.note})` : ''}`);
    else if (f.loads !== e.loads) out.push(`${key(r)}: ncnn loads ${f.loads ? 'yes' : 'no'}, the table says ${e.loads ? 'yes' : 'no'}`);
    else if (ok(f) !== ok(e)) out.push(`${key(r)}: within tolerance ${ok(f) ? 'yes' : 'no'} (rel ${num(f.rel)}), the table says ${ok(e) ? 'yes' : 'no'} (rel ${num(e.rel)})`);
    else if (f.maxAbs !== null && e.maxAbs !== null && Math.abs(f.maxAbs - e.maxAbs) > 1e-6 && Math.max(f.maxAbs, e.maxAbs) > 10 * Math.min(f.maxAbs, e.maxAbs))
      out.push(`${key(r)}: max abs ${num(f.maxAbs)}, the table says ${num(e.maxAbs)}`);
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (k: string) => (args.includes(k) ? args[args.indexOf(k) + 1] : undefined);
  const reports = join(PROJECT_ROOT, 'reports', 'latest');
  const json = opt('--json') ?? join(reports, 'corpus.json');
  const read = (f: string): CorpusRow[] => (existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : []);
  // no rows file (a fresh checkout): the doc's table holds the rows measured before
  const earlierRows = existsSync(json) ? read(json) : rowsFromDoc();
  const earlierOrder = [...rowsFromDoc(), ...earlierRows].map((r) => `${r.name}@${r.opset}`);
  if (args.includes('--check')) {
    // drift check: fdk only (no pnnx, no timing) on the built files, against the doc's table
    const doc = rowsFromDoc();
    const fresh = await runCorpus({ only: opt('--only')?.split(','), opsets: opt('--opsets')?.split(',').map(Number), pnnx: false, speed: false, log: (m) => console.error(m) });
    if (!fresh.length) throw new Error(`no corpus files in ${CORPUS_DIR}: build them first (scripts/corpus/build.py)`);
    const drift = corpusDrift(fresh, doc);
    for (const d of drift) console.log(`drift: ${d}`);
    console.log(`corpus check: ${fresh.length} files against docs/corpus.md, ${drift.length ? `${drift.length} differ` : 'no drift'} (times not compared; ${doc.length - fresh.length} table rows not built here were skipped)`);
    process.exit(drift.length ? 1 : 0);
  }
  const rounds = Number(opt('--rounds') ?? 5), runs = Number(opt('--runs') ?? 10);
  if (args.includes('--speed-only')) {
    // the ncnn run times again, of the .param files already converted (no conversion, no accuracy)
    const only = opt('--only')?.split(','), opsets = opt('--opsets')?.split(',').map(Number);
    for (const r of earlierRows) {
      if ((only && !only.includes(r.name)) || (opsets && !opsets.includes(r.opset))) continue;
      const e = corpusEntries().find((x) => x.name === r.name && x.opset === r.opset && x.file);
      if (e) await measureSpeed(r, basename(e.file!, '.onnx'), e.input, { rounds, runs, log: (m) => console.error(m) });
    }
  }
  if (args.includes('--timing-only')) {
    const repeat = Math.max(1, Number(opt('--repeat') ?? 1));
    // conversion wall and CPU time again for rows measured before (same commands, nothing else)
    const only = opt('--only')?.split(','), opsets = opt('--opsets')?.split(',').map(Number);
    for (const r of earlierRows) {
      if ((only && !only.includes(r.name)) || (opsets && !opsets.includes(r.opset))) continue;
      const e = corpusEntries().find((x) => x.name === r.name && x.opset === r.opset && x.file);
      if (!e) continue;
      const onnx = join(CORPUS_DIR, e.file!);
      const stem = basename(e.file!, '.onnx');
      const inputName = runtimeInputs(loadOnnx(onnx).graph)[0].name;
      // --repeat N: the two tools alternate N times and each keeps its median run (by CPU time)
      const fdkRuns: ReturnType<typeof timed>[] = [], pnnxRuns: ReturnType<typeof timed>[] = [];
      for (let k = 0; k < repeat; k++) {
        if (r.fdk.converts) {
          clearFdkOutputs(join(CORPUS_DIR, 'out', 'fdk', stem));
          fdkRuns.push(timed(process.execPath, [...FDK, 'convert', onnx, '--to', 'ncnn', '-o', join(CORPUS_DIR, 'out', 'fdk', stem), '--input', `${inputName}:${e.input.join('x')}`, '--force'], PROJECT_ROOT));
        }
        if (r.pnnx?.converts && PNNX && args.includes('--with-pnnx')) {
          // on a machine where the full run never ran, pnnx's folder and its copy of the file are made here
          const dir = join(CORPUS_DIR, 'out', 'pnnx', stem);
          if (!existsSync(join(dir, e.file!))) {
            mkdirSync(dir, { recursive: true });
            copyFileSync(onnx, join(dir, e.file!));
          }
          pnnxRuns.push(timed(PNNX, [e.file!, `inputshape=[${e.input.join(',')}]`, 'fp16=0'], dir));
        }
      }
      const t = medianRun(fdkRuns), p = medianRun(pnnxRuns);
      if (repeat > 1) r.convertRuns = repeat;
      if (t) Object.assign(r.fdk, { ms: t.ms, cpuMs: t.cpuMs });
      if (p) Object.assign(r.pnnx!, { ms: p.ms, cpuMs: p.cpuMs });
      if (args.includes('--with-speed')) await measureSpeed(r, stem, e.input, { rounds, runs, log: (m) => console.error(m) });
      console.error(`${stem}: fdk ${r.fdk.cpuMs?.toFixed(0)} ms CPU` + (r.pnnx?.cpuMs ? `, pnnx ${r.pnnx.cpuMs.toFixed(0)} ms CPU` : ''));
    }
  }
  // --report-only: no measuring, the table from --json plus --add-json files (parts measured apart)
  const rows = args.includes('--report-only') || args.includes('--timing-only') || args.includes('--speed-only')
    ? [...new Map([...earlierRows.splice(0), ...(opt('--add-json')?.split(',').flatMap(read) ?? [])].map((r) => [`${r.name}@${r.opset}`, r] as const)).values()] // later files win
    : await runCorpus({
      earlierPnnx: args.includes('--reuse-pnnx') ? new Map(earlierRows.filter((r) => r.pnnx).map((r) => [`${r.name}@${r.opset}`, r.pnnx!])) : undefined,
      only: opt('--only')?.split(','),
      opsets: opt('--opsets')?.split(',').map(Number),
      pnnx: !args.includes('--no-pnnx'),
      speed: !args.includes('--no-speed'),
      rounds,
      runs,
      log: (m) => console.error(m),
    });
  const key = (r: CorpusRow) => `${r.name}@${r.opset}`;
  // --merge: keep earlier rows of other files (the corpus can be measured in parts)
  if (args.includes('--merge') || args.includes('--report-only')) {
    const fresh = new Set(rows.map(key));
    rows.push(...earlierRows.filter((r) => !fresh.has(key(r))));
  }
  // the doc's row order (the whole corpus), then the rows file's, then build.py's manifest for new ones
  const order = new Map<string, number>();
  for (const k of [...earlierOrder, ...corpusEntries().map((e) => key(e as unknown as CorpusRow))]) if (!order.has(k)) order.set(k, order.size);
  rows.sort((a, b) => (order.get(key(a)) ?? 1e9) - (order.get(key(b)) ?? 1e9));
  // the noise floor: one .param against a copy of itself, the same way (--control NAME, e.g. mobilenet_v2)
  let control = '';
  const ctl = opt('--control');
  if (ctl) {
    // the first opset of that model whose fdk .param is on disk
    const e = corpusEntries().find((x) => x.name === ctl && x.file && existsSync(join(CORPUS_DIR, 'out', 'fdk', `${basename(x.file, '.onnx')}.param`)));
    if (e) {
      const param = join(CORPUS_DIR, 'out', 'fdk', `${basename(e.file!, '.onnx')}.param`);
      const s = await pairSpeed(param, param, e.input, { rounds, runs });
      control = ` Noise floor: fdk's ${ctl}-op${e.opset} timed against itself the same way gave ${speedCell(s)} (load ${s.load.map((x) => x.toFixed(0)).join('-')}).`;
      console.error(`control ${ctl}: ${pairLine(s)}`);
    } else throw new Error(`--control ${ctl}: no converted .param of that model in ${join(CORPUS_DIR, 'out', 'fdk')}`);
  }
  const table = corpusTable(rows) + control;
  console.log(table);
  mkdirSync(reports, { recursive: true });
  writeFileAtomic(json, JSON.stringify(rows, null, 1));
  if (args.includes('--write-doc')) {
    writeDoc(table, `Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform} ${process.arch}, ${(await import('node:os')).cpus().length} cores shared with other work (times are noisy); ${pnnxSource(rows)}; seeded input in [-1, 1).`);
  }
}

if (process.argv[1] && /corpus[\\/]run\.ts$/.test(process.argv[1]))
  main().catch((e) => {
    console.error(`corpus: ${(e as Error).message}`);
    process.exit(1);
  });
