/**
 * The report's tables as plain data (title, header, rows of strings), built once from the report
 * JSON and rendered by both report.md and report.html, so the two always show the same numbers.
 */
import type { Report, Stage, StageName } from './schema.js';
import { STAGE_NAMES } from './schema.js';

export interface Table {
  id: string;
  title: string;
  head: string[];
  rows: string[][];
  /** Shown under the title (e.g. what the numbers mean). */
  note?: string;
}

const int = (v: number | undefined) => (v === undefined ? '—' : Math.round(v).toLocaleString('en-US'));
const ms = (v: number | undefined) => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ap = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(4));
const sci = (v: number) => (v === 0 ? '0' : v.toExponential(2));
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
export const secs = (v: number | undefined) => (v === undefined ? '—' : `${(v / 1000).toFixed(1)} s`);

/** "ok (1.2 s)" / "not available: reason". */
export function stageCell(s: Stage<unknown>): string {
  if (s.status === 'ok') return `ok (${secs(s.ms)})`;
  if (s.status === 'partial') return `partial (${secs(s.ms)}): ${s.reason ?? ''}`;
  return `${s.status}${s.reason ? `: ${s.reason}` : ''}`;
}

export function buildTables(r: Report): Table[] {
  const t: Table[] = [];

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
    note: 'A stage whose module or tool is not available is listed as such; no numbers are filled in for it.',
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
      benchRows.push([m.id, b.runtime, String(b.threads), b.shape.join('×'), ms(b.medianMs), ms(b.p90Ms), ms(b.minMs), ms(b.meanMs), ms(b.loadMs), String(b.runs)]);
  t.push({
    id: 'bench',
    title: 'Latency (ms)',
    head: ['model', 'runtime', 'threads', 'input', 'median', 'p90', 'min', 'mean', 'load', 'runs'],
    rows: benchRows,
    note: `${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.date.slice(0, 10)}. Few runs per row to keep the report fast: indicative, not a benchmark.`,
  });

  const accRows: string[][] = [];
  for (const m of r.models) {
    for (const a of m.accuracy.data?.rows ?? []) {
      const ref = a.reference;
      accRows.push([
        m.id, a.runtime, String(a.longSide), String(a.images), ap(a.easy), ap(a.medium), ap(a.hard),
        ref ? `${signed(a.easy - ref.easy)} / ${signed(a.medium - ref.medium)} / ${signed(a.hard - ref.hard)}` : '—',
        secs(a.ms),
      ]);
    }
    for (const x of m.accuracy.data?.missing ?? []) accRows.push([m.id, x.runtime, String(x.longSide), '—', '—', '—', '—', x.reason, '—']);
  }
  t.push({
    id: 'accuracy',
    title: `WIDER FACE AP on ${r.options.subset}`,
    head: ['model', 'runtime', 'long side', 'images', 'easy', 'medium', 'hard', 'Δ vs PyTorch reference (e/m/h)', 'time'],
    rows: accRows,
    note: 'Reference = the original PyTorch pipeline on the same subset (val-mini expected.json). Same model on different runtimes shows whether conversion costs AP.',
  });

  t.push({
    id: 'timings',
    title: 'Stage timings',
    head: ['stage', 'model', 'status', 'time'],
    rows: [...r.stageTimes.map((s) => [s.stage, s.model ?? '', s.status, secs(s.ms)]), ['total', '', '', secs(r.totalMs)]],
  });

  t.push({
    id: 'runtimes',
    title: 'Runtimes',
    head: ['runtime', 'version', 'status'],
    rows: r.runtimes.map((x) => [x.name, x.version, x.status === 'ok' ? 'ok' : `${x.status}${x.reason ? `: ${x.reason}` : ''}`]),
  });
  return t;
}
