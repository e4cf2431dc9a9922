/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, no CDN) with the report's
 * tables and plots: PR curves per difficulty, latency per runtime, MACs per op type.
 */
import type { ModelReport, Report } from './schema.js';
import { buildTables, type Table } from './tables.js';
import { esc, groupedBarChart, hBarChart, lineChart } from './svg.js';

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #ddd}h3{font-size:15px;margin:16px 0 4px}
.meta{color:#555}.note{color:#666;font-style:italic;margin:2px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.bad{background:#fde2e2;font-weight:600}td.na{color:#888}
.plots{display:flex;flex-wrap:wrap;gap:12px}
svg.plot{background:#fff;border:1px solid #e3e3e3}
svg .title{font-size:12px;font-weight:600}svg .tick,svg .legend{font-size:10px;fill:#333}svg .axis{font-size:11px;fill:#333}
svg .grid{stroke:#eee;stroke-width:1}svg .frame{fill:none;stroke:#999;stroke-width:1}
.empty{color:#888}
`;

const isNum = (s: string) => /^[+-]?[\d,.]+(e[+-]?\d+)?( s|%)?$/.test(s);

function htmlTable(t: Table): string {
  const head = `<tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = t.rows
    .map((r) => `<tr>${r.map((c) => {
      const cls = isNum(c) ? 'num' : c === 'FAIL' || c === 'no' || /^(failed|partial)/.test(c) ? 'bad' : /^(not-available|skipped)/.test(c) ? 'na' : '';
      return `<td${cls ? ` class="${cls}"` : ''}>${esc(c)}</td>`;
    }).join('')}</tr>`)
    .join('');
  return `<table class="report-table" id="table-${t.id}"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

/** PR curves: one chart per difficulty, one line per runtime@long side. */
function prPlots(m: ModelReport): string[] {
  const rows = (m.accuracy.data?.rows ?? []).filter((r) => r.pr);
  if (!rows.length) return [];
  return (['easy', 'medium', 'hard'] as const).flatMap((d) => {
    const series = rows
      .filter((r) => r.pr?.[d]?.recall.length)
      .map((r) => ({ name: `${r.runtime}@${r.longSide} AP ${r[d].toFixed(3)}`, x: r.pr![d]!.recall, y: r.pr![d]!.precision }));
    return series.length ? [lineChart(`${m.id} — ${d}`, series, { xLabel: 'recall', yLabel: 'precision' })] : [];
  });
}

/** Median latency: groups = input × threads, bars = runtimes. */
function latencyPlot(m: ModelReport): string[] {
  const rows = m.bench.data?.rows ?? [];
  if (!rows.length) return [];
  const groups = new Map<string, { name: string; value: number }[]>();
  for (const r of rows) {
    const key = `${r.shape.slice(2).reverse().join('×')}\n${r.threads} thread${r.threads > 1 ? 's' : ''}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push({ name: r.runtime, value: r.medianMs });
  }
  return [groupedBarChart(`${m.id} — median latency`, [...groups].map(([label, values]) => ({ label, values })), { unit: 'ms' })];
}

function macsPlot(m: ModelReport): string[] {
  const a = m.analyze.data;
  if (!a || !a.perOpType.length) return [];
  const bars = [...a.perOpType].filter((o) => o.macs > 0).sort((x, y) => y.macs - x.macs).map((o) => ({ label: o.opType, value: o.macs }));
  if (!bars.length) return [];
  return [hBarChart(`${m.id} — MACs per op type (${a.convention})`, bars, { unit: 'MACs' })];
}

function plotSection(title: string, id: string, r: Report, make: (m: ModelReport) => string[], emptyWhy: (m: ModelReport) => string): string {
  const svgs: string[] = [];
  const empty: string[] = [];
  for (const m of r.models) {
    const made = make(m);
    if (made.length) svgs.push(...made);
    else empty.push(`${m.id}: ${emptyWhy(m)}`);
  }
  const none = empty.map((e) => `<p class="empty">no plot for ${esc(e)}</p>`).join('');
  return `<section id="plots-${id}"><h2>${esc(title)}</h2><div class="plots">${svgs.join('')}</div>${none}</section>`;
}

const why = (s: { status: string; reason?: string }) => (s.status === 'ok' ? 'no data' : `${s.status}${s.reason ? ` (${s.reason})` : ''}`);

export function renderHtml(r: Report): string {
  const tables = buildTables(r);
  const byId = new Map(tables.map((t) => [t.id, t]));
  const section = (id: string) => {
    const t = byId.get(id)!;
    return `<section><h2>${esc(t.title)}</h2>${t.note ? `<p class="note">${esc(t.note)}</p>` : ''}${t.rows.length ? htmlTable(t) : `<p class="empty">${t.id === 'check' ? 'no differences' : 'no rows'}</p>`}</section>`;
  };
  const notes = r.options.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fdk report — ${esc(r.machine.date.slice(0, 10))}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>${CSS}</style></head>
<body>
<h1>fdk report</h1>
<p class="meta">${esc(`${r.machine.date} · ${r.machine.cpu} · ${r.machine.cores} cores · ${r.machine.memGB} GB · Node ${r.machine.node} · fdk ${r.fdkVersion}`)}</p>
<p class="meta">${esc(`Models: ${r.options.models.join(', ')}. Accuracy on ${r.options.subset}${r.options.subsetImages ? ` (${r.options.subsetImages} images)` : ''}, long sides ${r.options.longSides.join('/')}. Bench: threads ${r.options.threads.join(',')}, ${r.options.benchWarmup} warm-up + ${r.options.benchRuns} runs.`)}</p>
${notes}
${byId.has('check') ? section('check') : ''}
${section('stages')}
${section('models')}
${section('ncnn')}
${section('parity')}
${section('accuracy')}
${plotSection('PR curves per difficulty', 'pr', r, prPlots, (m) => why(m.accuracy))}
${section('bench')}
${plotSection('Latency per runtime', 'latency', r, latencyPlot, (m) => why(m.bench))}
${plotSection('MACs per op type', 'macs', r, macsPlot, (m) => why(m.analyze))}
${section('optypes')}
${section('timings')}
${section('runtimes')}
</body></html>
`;
}
