/** Renderings of an AnalysisReport: terminal tables (fitted to the terminal, cli/table.ts), Markdown, CSV. JSON is the report itself. */
import type { AnalysisReport } from './types.js';
import { fitTable } from '../cli/table.js';
import { escapeName } from '../util/errors.js';
import { thousands } from '../util/thousands.js';

const int = thousands;
const pct = (f: number) => (f * 100).toFixed(2) + '%';
const shapes = (s: number[][]) => s.map((x) => x.join('x')).join(', ');

export function human(n: number): string {
  if (n >= 1e9) return (n / 1e9).toFixed(3) + ' G';
  if (n >= 1e6) return (n / 1e6).toFixed(3) + ' M';
  if (n >= 1e3) return (n / 1e3).toFixed(3) + ' K';
  return String(n);
}
export function humanBytes(n: number): string {
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(2) + ' GiB';
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(2) + ' MiB';
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(2) + ' KiB';
  return `${n} B`;
}

function totalsLines(r: AnalysisReport): [string, string][] {
  const t = r.totals;
  return [
    ['model', escapeName(r.file)],
    ['input', Object.entries(r.inputShapes).map(([k, v]) => `${escapeName(k)}:${v.join('x')}`).join(' ')],
    ['convention', r.convention],
    ['params', `${int(t.params)} (${human(t.params)})`],
    ['MACs', `${int(t.macs)} (${human(t.macs)})`],
    ['FLOPs (= 2 x MACs)', `${int(t.flops)} (${human(t.flops)})`],
    ['weight bytes', `${int(t.weightBytes)} (${humanBytes(t.weightBytes)})`],
    ['peak activation memory', `${int(t.peakActivationBytes)} (${humanBytes(t.peakActivationBytes)})`],
    ['layers', t.constantNodes ? `${t.layers} (+ ${t.constantNodes} constant/shape-glue nodes folded away)` : String(t.layers)],
  ];
}

const L = { align: 'left' } as const;
const R = { align: 'right' } as const;

export function renderTable(r: AnalysisReport, opts: { layers?: boolean } = {}): string {
  const out: string[] = [];
  if (opts.layers !== false) {
    const rows = r.layers.map((l, i) => [String(i), escapeName(l.name), escapeName(l.op), shapes(l.inputShapes), shapes(l.outputShapes), int(l.params), int(l.macs), pct(l.share)]);
    // long layer names and the shapes of many-input ops are cut in the middle to fit the width
    out.push(fitTable(['#', 'name', 'op', 'input', 'output', 'params', 'MACs', 'share'], rows, [R, L, L, L, L, R, R, R]));
  }
  out.push(fitTable(['op', 'count', 'params', 'MACs', 'share'], r.byOp.map((s) => [escapeName(s.op), String(s.count), int(s.params), int(s.macs), pct(s.share)]), [L, R, R, R, R]));
  // a key/value table without a header; long values (the model path) wrap
  out.push(fitTable(undefined, totalsLines(r), [L, { overflow: 'wrap' }]));
  return out.join('\n');
}

const mdEscape = (s: string) => escapeName(s).replace(/\|/g, '\\|');

export function renderMarkdown(r: AnalysisReport, opts: { layers?: boolean } = {}): string {
  const out: string[] = [`## ${mdEscape(r.file)}`, '', '| | |', '|---|---|'];
  for (const [k, v] of totalsLines(r)) out.push(`| ${k} | ${mdEscape(v)} |`);
  out.push('', '| op | count | params | MACs | share |', '|---|---:|---:|---:|---:|');
  for (const s of r.byOp) out.push(`| ${mdEscape(s.op)} | ${s.count} | ${int(s.params)} | ${int(s.macs)} | ${pct(s.share)} |`);
  if (opts.layers !== false) {
    out.push('', '| # | name | op | input | output | params | MACs | share |', '|---:|---|---|---|---|---:|---:|---:|');
    r.layers.forEach((l, i) => out.push(`| ${i} | ${mdEscape(l.name)} | ${mdEscape(l.op)} | ${shapes(l.inputShapes)} | ${shapes(l.outputShapes)} | ${int(l.params)} | ${int(l.macs)} | ${pct(l.share)} |`));
  }
  return out.join('\n') + '\n';
}

const csvField = (s: string | number) => {
  const v = String(s);
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
};

/** One row per layer plus a final TOTAL row; shapes as 1x3x240x320 separated by ';'. */
export function renderCsv(r: AnalysisReport): string {
  const rows: (string | number)[][] = [['index', 'name', 'op', 'input_shapes', 'output_shapes', 'params', 'macs', 'flops', 'share']];
  r.layers.forEach((l, i) =>
    rows.push([i, l.name, l.op, l.inputShapes.map((s) => s.join('x')).join(';'), l.outputShapes.map((s) => s.join('x')).join(';'), l.params, l.macs, 2 * l.macs, l.share.toFixed(6)]));
  rows.push(['', 'TOTAL', '', '', '', r.totals.params, r.totals.macs, r.totals.flops, '1']);
  return rows.map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}
