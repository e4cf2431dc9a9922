/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, no CDN). It opens with the
 * verdict (every check, pass or fail, with its key number) and the speed of each runtime, then a
 * table of contents; below, one section per subject: size and MACs, ncnn, parity, accuracy (with
 * the published tables on a full-val run), PR curves comparing models, speed against accuracy,
 * latency with its spread.
 */
import type { AccuracyRow, ModelReport, PrCurve, Report } from './schema.js';
import { benchRowFor, buildTables, secs, type Table } from './tables.js';
import { esc, groupedBarChart, hBarChart, lineChart, scatterChart, type BarGroup, type ScatterPoint } from './svg.js';
import { buildVerdict } from './verdict.js';

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
.verdict{border:2px solid #2a7;border-radius:6px;padding:4px 14px 10px;margin:12px 0;background:#f4fbf6}
.verdict.fail{border-color:#c33;background:#fdf3f3}.verdict h2{border:0;margin:8px 0}
.verdict-grid{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
tr.check td.badge{font-weight:700;text-align:center}tr.pass td.badge{color:#fff;background:#2a7}tr.fail td.badge{color:#fff;background:#c33}
tr.warn td.badge{background:#f5c542}tr.na td.badge{color:#888}td.key{font-variant-numeric:tabular-nums;white-space:nowrap}td.detail{color:#555;font-size:12px;max-width:260px}
nav#toc{margin:8px 0 4px;font-size:13px}nav#toc a{color:#1f5fa8}
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

/** A model × long side's PR rows: the ort row first (the reference runtime), then the others. */
function prGroups(r: Report): { m: ModelReport; longSide: number; rows: AccuracyRow[] }[] {
  const out: { m: ModelReport; longSide: number; rows: AccuracyRow[] }[] = [];
  for (const m of r.models) {
    const rows = (m.accuracy.data?.rows ?? []).filter((a) => a.pr);
    for (const longSide of [...new Set(rows.map((a) => a.longSide))]) {
      const at = rows.filter((a) => a.longSide === longSide).sort((a, b) => Number(b.runtime === 'ort') - Number(a.runtime === 'ort'));
      out.push({ m, longSide, rows: at });
    }
  }
  return out;
}

const sameCurve = (a: PrCurve | undefined, b: PrCurve | undefined) =>
  !!a && !!b && a.recall.length === b.recall.length && a.recall.every((v, i) => v === b.recall[i] && a.precision[i] === b.precision[i]);
const DIFFS = ['easy', 'medium', 'hard'] as const;

/** One PR plot per difficulty comparing the models (each model × size on its first runtime, ort when run). */
function prComparison(r: Report): { svgs: string[]; notes: string[] } {
  const groups = prGroups(r);
  const svgs = DIFFS.flatMap((d) => {
    const series = groups
      .filter((g) => g.rows[0].pr?.[d]?.recall.length)
      .map((g) => ({ name: `${g.m.id}@${g.longSide} ${g.rows[0].runtime} AP ${g.rows[0][d].toFixed(3)}`, x: g.rows[0].pr![d]!.recall, y: g.rows[0].pr![d]!.precision }));
    return series.length ? [lineChart(`PR — ${d}`, series, { xLabel: 'recall', yLabel: 'precision', width: 440, height: Math.max(300, 140 + series.length * 13) })] : [];
  });
  // Runtimes whose curves equal the plotted one are named instead of drawn on top of it.
  const notes: string[] = [];
  for (const g of groups) {
    if (g.rows.length < 2) continue;
    const same = g.rows.slice(1).filter((a) => DIFFS.every((d) => sameCurve(a.pr?.[d], g.rows[0].pr?.[d])));
    const differ = g.rows.slice(1).filter((a) => !same.includes(a));
    if (same.length) notes.push(`${g.m.id}@${g.longSide}: curves identical on ${[g.rows[0], ...same].map((a) => a.runtime).join(', ')}`);
    if (differ.length) notes.push(`${g.m.id}@${g.longSide}: curves differ on ${differ.map((a) => a.runtime).join(', ')} (small multiples below)`);
  }
  return { svgs, notes };
}

/** Small multiples: only for model × size whose runtimes give different curves (e.g. fp16), hard set. */
function prRuntimeMultiples(r: Report): string[] {
  return prGroups(r).flatMap((g) => {
    if (g.rows.length < 2) return [];
    const differ = g.rows.slice(1).some((a) => !DIFFS.every((d) => sameCurve(a.pr?.[d], g.rows[0].pr?.[d])));
    if (!differ) return [];
    const series = g.rows.filter((a) => a.pr?.hard?.recall.length).map((a) => ({ name: `${a.runtime} AP ${a.hard.toFixed(4)}`, x: a.pr!.hard!.recall, y: a.pr!.hard!.precision }));
    return series.length ? [lineChart(`${g.m.id}@${g.longSide} — hard, per runtime`, series, { xLabel: 'recall', yLabel: 'precision', width: 300, height: 240 })] : [];
  });
}

/** Median latency with its p10–p90 whisker: groups = input × threads, bars = runtimes. */
function latencyPlot(m: ModelReport): string[] {
  const rows = m.bench.data?.rows ?? [];
  if (!rows.length) return [];
  const groups = new Map<string, BarGroup['values']>();
  for (const r of rows) {
    const key = `${r.shape.slice(2).reverse().join('×')}\n${r.threads} thread${r.threads > 1 ? 's' : ''}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push({ name: r.runtime, value: r.medianMs, lo: r.p10Ms, hi: r.p90Ms });
  }
  return [groupedBarChart(`${m.id} — median latency (p10–p90)`, [...groups].map(([label, values]) => ({ label, values })), { unit: 'ms' })];
}

/** Hard AP against median latency (1 thread, the bench input of that long side): one point per model × size × runtime. */
function speedAccuracyPoints(r: Report): ScatterPoint[] {
  const pts: ScatterPoint[] = [];
  for (const m of r.models)
    for (const longSide of [...new Set((m.accuracy.data?.rows ?? []).map((a) => a.longSide))]) {
      const at: ScatterPoint[] = [];
      for (const a of (m.accuracy.data?.rows ?? []).filter((x) => x.longSide === longSide)) {
        const b = benchRowFor(m, a.runtime, a.longSide);
        const name = m.id.endsWith(`-${longSide}`) ? m.id : `${m.id}@${longSide}`;
        if (b) at.push({ x: b.medianMs, y: a.hard, group: a.runtime, label: name, tip: name });
      }
      // Runtimes of one model × size share its AP: label only the fastest point, the rest have tooltips.
      at.sort((p, q) => p.x - q.x).forEach((p, i) => pts.push(i === 0 ? p : { ...p, label: '' }));
    }
  return pts;
}

function macsPlot(m: ModelReport): string[] {
  const a = m.analyze.data;
  if (!a || !a.perOpType.length) return [];
  const bars = [...a.perOpType].filter((o) => o.macs > 0).sort((x, y) => y.macs - x.macs).map((o) => ({ label: o.opType, value: o.macs }));
  if (!bars.length) return [];
  return [hBarChart(`${m.id} — MACs per op type (${a.convention})`, bars, { unit: 'MACs' })];
}

const STATUS_CLASS = { PASS: 'pass', FAIL: 'fail', warn: 'warn', 'n/a': 'na' } as Record<string, string>;

export function renderHtml(r: Report): string {
  const tables = buildTables(r);
  const byId = new Map(tables.map((t) => [t.id, t]));
  const tableBlock = (id: string, heading = 'h2') => {
    const t = byId.get(id);
    if (!t) return '';
    return `<${heading}>${esc(t.title)}</${heading}>${t.note ? `<p class="note">${esc(t.note)}</p>` : ''}${t.rows.length ? htmlTable(t) : `<p class="empty">${t.id === 'check' ? 'no differences' : 'no rows'}</p>`}`;
  };
  const verdict = buildVerdict(r);
  const v = byId.get('verdict')!;
  const verdictRows = v.rows.map(([st, title, key, detail]) =>
    `<tr class="check ${STATUS_CLASS[st] ?? ''}"><td class="badge">${esc(st)}</td><td>${esc(title)}</td><td class="key">${esc(key)}</td><td class="detail">${esc(detail)}</td></tr>`).join('');
  const pr = prComparison(r);
  const multiples = prRuntimeMultiples(r);
  const points = speedAccuracyPoints(r);
  const latency = r.models.flatMap(latencyPlot);
  const macs = r.models.flatMap(macsPlot);
  const sections: { id: string; title: string; html: string }[] = [];
  if (r.check) sections.push({ id: 'check', title: 'Baseline check', html: tableBlock('check') });
  sections.push({ id: 'stages', title: 'Stages', html: tableBlock('stages') });
  sections.push({ id: 'models', title: 'Size and MACs', html: `${tableBlock('models')}<h3>MACs per op type</h3><div class="plots">${macs.join('')}</div>${tableBlock('optypes', 'h3')}` });
  sections.push({ id: 'ncnn', title: 'ncnn conversion', html: tableBlock('ncnn') });
  sections.push({ id: 'parity', title: 'Parity', html: tableBlock('parity') });
  sections.push({ id: 'accuracy', title: 'Accuracy', html: `${tableBlock('accuracy')}${tableBlock('fullval-320', 'h3')}${tableBlock('fullval-640', 'h3')}` });
  sections.push({ id: 'plots-pr', title: 'PR curves', html: `<h2>PR curves, models compared</h2><div class="plots">${pr.svgs.join('')}</div>${pr.notes.map((n) => `<p class="note runtime-curves">${esc(n)}</p>`).join('')}${pr.svgs.length ? '' : '<p class="empty">no PR curves (accuracy not run)</p>'}` });
  if (multiples.length) sections.push({ id: 'plots-pr-runtimes', title: 'PR per runtime', html: `<h2>PR curves where runtimes differ</h2><div class="plots">${multiples.join('')}</div>` });
  sections.push({ id: 'plots-scatter', title: 'Speed vs accuracy', html: `<h2>Speed against accuracy</h2><p class="note">Hard AP against median latency at 1 thread, on the bench input of the same long side; one point per model × size × runtime.</p>${points.length ? `<div class="plots">${scatterChart('hard AP vs median latency (1 thread)', points, { xLabel: 'median latency, ms (log scale)', yLabel: 'hard AP' })}</div>` : '<p class="empty">no point: needs both bench and accuracy rows for the same runtime and size</p>'}` });
  sections.push({ id: 'plots-latency', title: 'Latency', html: `${tableBlock('lanes')}${tableBlock('bench')}<div class="plots">${latency.join('')}</div>` });
  sections.push({ id: 'runtimes', title: 'Runtimes', html: tableBlock('runtimes') });
  const toc = sections.map((s) => `<a href="#${s.id}">${esc(s.title)}</a>`).join(' · ');
  const notes = r.options.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fdk report — ${esc(r.machine.date.slice(0, 10))}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>${CSS}</style></head>
<body>
<h1>fdk report</h1>
<p class="meta">${esc(`${r.machine.date} · ${r.machine.cpu} · ${r.machine.cores} cores · ${r.machine.memGB} GB · Node ${r.machine.node} · fdk ${r.fdkVersion} · whole run ${secs(r.totalMs)}`)}</p>
<p class="meta">${esc(`Models: ${r.options.models.join(', ')}. Accuracy on ${r.options.fullVal ? 'the full WIDER val set' : r.options.subset}${r.options.subsetImages ? ` (${r.options.subsetImages} images)` : ''}, long sides ${r.options.longSides.join('/')}. Bench: threads ${r.options.threads.join(',')}, ${r.options.benchWarmup} warm-up + ${r.options.benchRuns} runs.`)}</p>
<section id="verdict" class="verdict ${verdict.overall}">
<h2>${esc(v.title)}</h2>
<div class="verdict-grid"><table class="report-table" id="table-verdict"><thead><tr><th></th><th>check</th><th>key number</th><th>detail</th></tr></thead><tbody>${verdictRows}</tbody></table>
<div>${tableBlock('glance', 'h3')}</div></div>
</section>
<nav id="toc">Contents: ${toc}</nav>
${notes}
${sections.map((s) => `<section id="${s.id}">${s.html}</section>`).join('\n')}
</body></html>
`;
}
