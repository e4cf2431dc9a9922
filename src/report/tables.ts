/**
 * The report's tables as plain data (title, header, rows of strings), built once from the report
 * JSON and rendered by both report.md and report.html, so the two always show the same numbers.
 */
import { PUBLISHED, PUBLISHED_ULTRA_LIGHT_NOW, type Ap3 } from '../accuracy/targets.js';
import type { BenchRow, ModelReport, Report, Stage, StageName } from './schema.js';
import { STAGE_NAMES } from './schema.js';
import { buildVerdict, isFullVal, rowId } from './verdict.js';
import { sideBySide } from '../bench/side-by-side.js';
import { thousands } from '../util/thousands.js';

export interface Table {
  id: string;
  title: string;
  head: string[];
  rows: string[][];
  /** Shown under the title (e.g. what the numbers mean). */
  note?: string;
}

const int = (v: number | undefined) => (v === undefined ? '—' : thousands(v));
const ms = (v: number | undefined) => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ap = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(4));
const sci = (v: number) => (v === 0 ? '0' : v.toExponential(2));
/** A signed AP delta; anything that rounds to zero prints as 0.0000 (never -0.0000). */
export const signed = (v: number) => (Math.abs(v) < 5e-5 ? '0.0000' : `${v > 0 ? '+' : ''}${v.toFixed(4)}`);
/** easy / medium / hard: published numbers as printed (3 decimals), measured ones with 4. */
const ap3 = (a: Ap3 | undefined, digits = 3) => (a ? `${a.easy.toFixed(digits)} / ${a.medium.toFixed(digits)} / ${a.hard.toFixed(digits)}` : '—');
const STATUS_WORD = { pass: 'PASS', fail: 'FAIL', warn: 'warn', 'n/a': 'n/a' } as const;

/** The bench row a WIDER row at `longSide` compares with: 1 thread, input whose long side is that size. */
export function benchRowFor(m: ModelReport, runtime: string, longSide: number): BenchRow | undefined {
  return (m.bench.data?.rows ?? []).find((b) => b.runtime === runtime && b.threads === 1 && Math.max(...b.shape.slice(2)) === longSide);
}

/** Published AP of a row: the seed table, plus Linzaer's current README for Ultra-Light rows. */
export function publishedAp(m: ModelReport, longSide: number): string {
  const id = rowId(m, longSide);
  const seed = PUBLISHED[id];
  if (!seed) return '—';
  const now = PUBLISHED_ULTRA_LIGHT_NOW[id];
  return now ? `${ap3(seed)} (seed) · ${ap3(now)} (Linzaer now)` : ap3(seed);
}
export const secs = (v: number | undefined) => (v === undefined ? '—' : `${(v / 1000).toFixed(1)} s`);

/** "ok (1.2 s)" / "not available: reason". */
export function stageCell(s: Stage<unknown>): string {
  if (s.status === 'ok') return `ok (${secs(s.ms)})`;
  if (s.status === 'partial') return `partial (${secs(s.ms)}): ${s.reason ?? ''}`;
  return `${s.status}${s.reason ? `: ${s.reason}` : ''}`;
}

export function buildTables(r: Report): Table[] {
  const t: Table[] = [];

  const verdict = buildVerdict(r);
  t.push({
    id: 'verdict',
    title: `Verdict: ${verdict.overall === 'pass' ? 'PASS' : 'FAIL'}`,
    head: ['', 'check', 'key number', 'detail'],
    rows: verdict.checks.map((c) => [STATUS_WORD[c.status], c.title, c.key, c.detail ?? '']),
    note: 'Each check decides on the number shown; warnings never fail a report.',
  });

  // Speed at a glance: median ms per runtime at each model's smallest bench input, 1 thread.
  const benchRuntimes = [...new Set(r.models.flatMap((m) => (m.bench.data?.rows ?? []).map((b) => b.runtime)))];
  const glance: string[][] = [];
  for (const m of r.models) {
    const rows = (m.bench.data?.rows ?? []).filter((b) => b.threads === 1);
    if (!rows.length) continue;
    const smallest = Math.min(...rows.map((b) => b.shape[2] * b.shape[3]));
    const at = rows.filter((b) => b.shape[2] * b.shape[3] === smallest);
    glance.push([m.id, at[0].shape.slice(2).reverse().join('×'), ...benchRuntimes.map((rt) => {
      const b = at.find((x) => x.runtime === rt);
      return b ? ms(b.medianMs) : '—';
    })]);
  }
  t.push({
    id: 'glance',
    title: 'Speed at a glance (median ms, 1 thread)',
    head: ['model', 'input (w×h)', ...benchRuntimes],
    rows: glance,
    note: 'Each model at its smallest bench input. Full latency table with spread below.',
  });

  if (r.check)
    t.push({
      id: 'check',
      title: `Check against the baseline: ${r.check.ok ? 'passed' : 'FAILED'}`,
      head: ['', 'model', 'metric', 'old', 'new', 'why'],
      rows: r.check.rows.map((x) => [x.severity === 'fail' ? 'FAIL' : 'warn', x.model, x.metric, x.old, x.new, x.rule]),
      note: `${r.check.baseline}: ${r.check.compared} metrics compared.${r.check.notes.length ? ' ' + r.check.notes.join(' ') : ''}`,
    });

  t.push({
    id: 'stages',
    title: 'Stages per model',
    head: ['model', ...STAGE_NAMES],
    rows: r.models.map((m) => [m.id, ...STAGE_NAMES.map((s: StageName) => stageCell(m[s]))]),
    note: `Time per stage in brackets; whole run ${secs(r.totalMs)}. A stage whose module or tool is not available is listed as such; no numbers are filled in for it.`,
  });

  t.push({
    id: 'models',
    title: 'Export and analysis',
    head: ['model', 'title', 'ONNX from', 'ONNX bytes', 'input', 'params', 'MACs', 'FLOPs (2×MACs)', 'weight bytes', 'published params / MACs'],
    rows: r.models.map((m) => {
      const e = m.export.data;
      const a = m.analyze.data;
      return [
        m.id,
        m.title,
        e ? e.source : m.export.status,
        e ? int(e.bytes) : '—',
        a ? a.input.join('×') : '—',
        a ? int(a.params) : m.analyze.status,
        a ? int(a.macs) : '—',
        a ? int(a.flops) : '—',
        a ? int(a.weightBytes) : '—',
        a?.published ? `${int(a.published.params)} / ${int(a.published.macs)}` : '—',
      ];
    }),
    note: 'MACs are multiply-accumulates under the convention named in the JSON; FLOPs = 2 × MACs.',
  });

  const opRows: string[][] = [];
  for (const m of r.models) {
    const a = m.analyze.data;
    if (!a) continue;
    for (const o of [...a.perOpType].sort((x, y) => y.macs - x.macs))
      opRows.push([m.id, o.opType, int(o.count), int(o.params), int(o.macs), a.macs > 0 ? `${((100 * o.macs) / a.macs).toFixed(1)}%` : '—']);
  }
  t.push({ id: 'optypes', title: 'MACs per op type', head: ['model', 'op type', 'count', 'params', 'MACs', 'share'], rows: opRows });

  const ncnnRows: string[][] = [];
  for (const m of r.models) {
    const d = m.ncnn.data;
    if (!d) {
      ncnnRows.push([m.id, '—', m.ncnn.status, '—', '—', m.ncnn.reason ?? '']);
      continue;
    }
    for (const c of [d.fp32, d.fp16]) if (c) ncnnRows.push([m.id, c.precision, c.loads ? 'yes' : 'no', int(c.layers), int(c.weightBytes), c.loadError ?? '']);
  }
  t.push({ id: 'ncnn', title: 'ncnn conversion', head: ['model', 'precision', 'loads in ncnn', 'layers', 'weight bytes', 'note'], rows: ncnnRows });

  const parRows: string[][] = [];
  for (const m of r.models) {
    const d = m.parity.data;
    if (!d) {
      parRows.push([m.id, '—', '—', '—', m.parity.status, m.parity.reason ?? '']);
      continue;
    }
    for (const p of d.pairs) parRows.push([m.id, `${p.a} vs ${p.b}`, sci(p.maxAbsDiff), sci(p.atol), p.pass ? 'pass' : 'FAIL', `${d.images} image(s)${p.detail ? `; ${p.detail}` : ''}`]);
  }
  t.push({ id: 'parity', title: 'Output parity between runtimes', head: ['model', 'pair', 'max abs diff', 'atol', 'result', 'note'], rows: parRows });

  const benchRows: string[][] = [];
  for (const m of r.models)
    for (const b of m.bench.data?.rows ?? [])
      benchRows.push([m.id, b.runtime, String(b.threads), b.shape.join('×'), ms(b.medianMs), b.p10Ms === undefined ? `— – ${ms(b.p90Ms)}` : `${ms(b.p10Ms)} – ${ms(b.p90Ms)}`, ms(b.minMs), ms(b.meanMs), ms(b.loadMs), String(b.runs)]);
  const loads = r.models.map((m) => m.bench.data?.load).filter((l) => l !== undefined);
  const loadNote = loads.length
    ? ` Load average (1 min) around bench: ${Math.min(...loads.map((l) => Math.min(l.before, l.after))).toFixed(2)}–${Math.max(...loads.map((l) => Math.max(l.before, l.after))).toFixed(2)} on ${loads[0].cores} cores${loads.some((l) => Math.max(l.before, l.after) > l.cores) ? ' — WARNING: above the core count, latencies are inflated' : ''}.`
    : '';
  // one call over every model, so that all rows share the same runtime columns
  const lanes = sideBySide(r.models.flatMap((m) => (m.bench.data?.rows ?? []).map((b) => ({
    runtime: b.runtime, threads: b.threads, input: `${m.id}\t${b.shape.slice(2).reverse().join('×')}`, medianMs: b.medianMs,
  }))));
  t.push({
    id: 'lanes',
    title: 'Latency side by side (median ms)',
    head: ['model', 'input (w×h)', ...lanes.head.slice(1)],
    rows: lanes.rows.map(([input, ...rest]) => [...input.split('\t'), ...rest]),
    note: 'Columns "…@chromium" run inside headless Chromium (`fdk report --browser chromium`). The ratio columns are ncnn-wasm / ort-wasm in the same place (below 1: ncnn-wasm is faster).',
  });

  t.push({
    id: 'bench',
    title: 'Latency (ms)',
    head: ['model', 'runtime', 'threads', 'input', 'median', 'p10 – p90', 'min', 'mean', 'load time', 'runs'],
    rows: benchRows,
    note: `${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.date.slice(0, 10)}. Few runs per row to keep the report fast: indicative, not a benchmark. "load time" = loading the model into the runtime.${loadNote}`,
  });

  const accRows: string[][] = [];
  for (const m of r.models) {
    for (const a of m.accuracy.data?.rows ?? []) {
      const ref = a.reference;
      accRows.push([
        m.id, a.runtime, String(a.longSide), String(a.images), ap(a.easy), ap(a.medium), ap(a.hard),
        ref ? `${signed(a.easy - ref.easy)} / ${signed(a.medium - ref.medium)} / ${signed(a.hard - ref.hard)}` : '—',
        publishedAp(m, a.longSide),
        secs(a.ms),
      ]);
    }
    for (const x of m.accuracy.data?.missing ?? []) accRows.push([m.id, x.runtime, String(x.longSide), '—', '—', '—', '—', x.reason, '—', '—']);
  }
  t.push({
    id: 'accuracy',
    title: `WIDER FACE AP on ${isFullVal(r) ? 'the full val set' : r.options.subset}`,
    head: ['model', 'runtime', 'long side', 'images', 'easy', 'medium', 'hard', 'Δ vs PyTorch reference (e/m/h)', 'published, full val (e/m/h)', 'time'],
    rows: accRows,
    note: `Reference = the original PyTorch pipeline re-run on the same images (expected.json). The published AP is on the full val set${isFullVal(r) ? '' : ', so it is not comparable with a subset run; it is shown for orientation'}. Same model on different runtimes shows whether conversion costs AP.`,
  });

  if (isFullVal(r)) t.push(...fullValTables(r));

  t.push({
    id: 'runtimes',
    title: 'Runtimes',
    head: ['runtime', 'version', 'status'],
    rows: r.runtimes.map((x) => [x.name, x.version, x.status === 'ok' ? 'ok' : `${x.status}${x.reason ? `: ${x.reason}` : ''}`]),
  });
  return t;
}

/**
 * The seed README's two tables (long side 320 and 640) as published, with fdk's full-val AP beside
 * them per runtime. Only for a full-val run: on a subset the published numbers do not apply.
 */
function fullValTables(r: Report): Table[] {
  const runtimes = [...new Set(r.models.flatMap((m) => (m.accuracy.data?.rows ?? []).map((a) => a.runtime)))];
  return [320, 640].flatMap((side) => {
    const rows: string[][] = [];
    for (const m of r.models) {
      const acc = (m.accuracy.data?.rows ?? []).filter((a) => a.longSide === side);
      if (!acc.length) continue;
      const ref = acc.find((a) => a.reference)?.reference;
      rows.push([m.title, publishedAp(m, side), ap3(ref, 4), ...runtimes.map((rt) => ap3(acc.find((a) => a.runtime === rt), 4))]);
    }
    if (!rows.length) return [];
    return {
      id: `fullval-${side}`,
      title: `Published table, long side ${side}: WIDER val AP (easy / medium / hard)`,
      head: ['method', 'published', 'original pipeline re-run', ...runtimes.map((rt) => `fdk ${rt}`)],
      rows,
      note: 'The seed table truncates to 3 decimals. Its Ultra-Light ("original") rows cite an older release; Linzaer\'s current README and the re-run of its own script are the targets for those.',
    };
  });
}
