/** report.md: the report's tables as GitHub Markdown (plots are in report.html). */
import type { Report } from './schema.js';
import { buildTables, type Table } from './tables.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function mdTable(t: Pick<Table, 'head' | 'rows'>): string {
  const lines = [`| ${t.head.map(cell).join(' | ')} |`, `|${t.head.map(() => '---').join('|')}|`];
  for (const r of t.rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

export function renderMarkdown(r: Report): string {
  const out: string[] = [];
  out.push(`# fdk report`);
  out.push('');
  out.push(`${r.machine.date} · ${r.machine.cpu} · ${r.machine.cores} cores · ${r.machine.memGB} GB · Node ${r.machine.node} · fdk ${r.fdkVersion}`);
  out.push('');
  out.push(`Models: ${r.options.models.join(', ')}. Accuracy subset: ${r.options.subset}${r.options.subsetImages ? ` (${r.options.subsetImages} images)` : ''}. ` +
    `Bench: threads ${r.options.threads.join(',')}, ${r.options.benchWarmup} warm-up + ${r.options.benchRuns} runs.`);
  for (const n of r.options.notes) out.push(`\n> ${n}`);
  for (const t of buildTables(r)) {
    out.push('', `## ${t.title}`, '');
    if (t.note) out.push(`_${t.note}_`, '');
    out.push(t.rows.length ? mdTable(t) : '_no rows_');
  }
  out.push('');
  return out.join('\n');
}
