/** Terminal table of `fdk bench` results. */
import { fitTable, type Column } from '../cli/table.js';
import type { BenchReport } from './run-bench.js';
import type { BaselineDelta } from './baseline.js';
import { sideBySide } from './side-by-side.js';

const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');

export function benchTable(r: BenchReport, deltas?: BaselineDelta[]): string {
  // short headers keep the table within 120 columns; every time is in ms (said in benchHeader)
  const head = ['runtime', 'thr', 'input', 'load', 'first run', 'min', 'median', 'p90', 'p99', 'mean', 'stddev', 'peak RSS MB'];
  if (deltas) head.push('vs baseline');
  const columns: Column[] = head.map((_, i) => ({ align: i < 3 ? 'left' : 'right' }));
  columns[2] = { overflow: 'wrap' }; // several named inputs: 'a:1x3x240x320 b:1x4'
  const rows: string[][] = [];
  for (const c of r.cases) {
    if (c.error) {
      rows.push([c.runtime, String(c.threads), c.input, `error: ${c.error}`]); // the message spans the number columns
      continue;
    }
    const L = c.latency;
    const row: string[] = [c.runtime, String(c.threads), c.input, f(c.loadMs, 1), f(c.firstRunMs), f(L.min), f(L.median), f(L.p90), f(L.p99), f(L.mean), f(L.stddev),
      c.workerPeakRssMb !== undefined ? `${f(c.peakRssMb, 0)} (worker ${f(c.workerPeakRssMb, 0)})` : f(c.peakRssMb, 0)];
    if (deltas) {
      const d = deltas.find((x) => x.runtime === c.runtime && x.threads === c.threads && x.input === c.input);
      row.push(d ? `${d.changePct >= 0 ? '+' : ''}${d.changePct.toFixed(1)}%${d.flag ? ` ${d.flag.toUpperCase()}` : ''}` : 'n/a');
    }
    rows.push(row);
  }
  return fitTable(head, rows, columns);
}

/** Median ms with the runtimes as columns (src/bench/side-by-side.ts); empty for one runtime. */
export function benchSideBySide(r: BenchReport): string {
  const { head, rows } = sideBySide(r.cases.map((c) => ({ runtime: c.runtime, threads: c.threads, input: c.input, medianMs: c.error ? undefined : c.latency.median })));
  if (head.length <= 3) return '';
  return `median ms side by side:\n${fitTable(head, rows, head.map((_, i) => ({ align: i < 2 ? 'left' : 'right' })))}`;
}

export function benchHeader(r: BenchReport): string {
  return [
    `model: ${r.model.arg === r.model.path ? r.model.path : `${r.model.arg} -> ${r.model.path}`} (${r.model.origin})`,
    `host: ${r.host.cpu}, ${r.host.cores} cores, Node ${r.host.node}; warmup ${r.settings.warmup}, runs ${r.settings.runs}; times in ms, measured inside each runtime`,
  ].join('\n');
}
