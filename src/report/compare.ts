/**
 * `fdk report --check`: compares a fresh report with the committed baseline.
 *
 * Fails on: any AP change beyond 0.002 (same image subset), any parity failure, any change in
 * params or MACs, an ncnn conversion that stops loading, and any stage or metric that the
 * baseline had and the new report lost (a gate must not pass because a stage vanished).
 * Latency changes beyond a relative threshold are flagged as warnings only: machines are noisy.
 */
import type { Report, ModelReport, StageName } from './schema.js';
import { STAGE_NAMES } from './schema.js';
import { canonicalRuntimeName } from '../runtime/registry.js';
import { thousands } from '../util/thousands.js';

export interface CompareOptions {
  /** Largest AP change that still passes (absolute). */
  apTolerance?: number;
  /** Relative median-latency change that gets flagged (0.5 = ±50%). */
  latencyThreshold?: number;
}

export type Severity = 'fail' | 'warn';

export interface DiffRow {
  model: string;
  metric: string;
  old: string;
  new: string;
  severity: Severity;
  /** The rule that flagged it, e.g. 'AP change > 0.002'. */
  rule: string;
}

export interface CompareResult {
  ok: boolean;
  failures: DiffRow[];
  warnings: DiffRow[];
  /** How many metrics were compared (so "0 differences" can be told apart from "nothing compared"). */
  compared: number;
  notes: string[];
}

export const DEFAULT_AP_TOLERANCE = 0.002;
export const DEFAULT_LATENCY_THRESHOLD = 0.5;

const fmtNum = (v: number): string => (Number.isInteger(v) ? thousands(v) : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(6).replace(/0+$/, '').replace(/\.$/, ''));
const fmt = (v: unknown): string => (v === undefined ? 'missing' : typeof v === 'number' ? fmtNum(v) : String(v));

export function compareReports(baseline: Report, current: Report, opts: CompareOptions = {}): CompareResult {
  const apTol = opts.apTolerance ?? DEFAULT_AP_TOLERANCE;
  const latThr = opts.latencyThreshold ?? DEFAULT_LATENCY_THRESHOLD;
  const failures: DiffRow[] = [];
  const warnings: DiffRow[] = [];
  const notes: string[] = [];
  let compared = 0;
  const fail = (model: string, metric: string, o: unknown, n: unknown, rule: string) =>
    failures.push({ model, metric, old: fmt(o), new: fmt(n), severity: 'fail', rule });
  const warn = (model: string, metric: string, o: unknown, n: unknown, rule: string) =>
    warnings.push({ model, metric, old: fmt(o), new: fmt(n), severity: 'warn', rule });

  const sameSubset = baseline.options?.subset === current.options?.subset;
  if (!sameSubset)
    notes.push(`accuracy not compared: baseline subset '${baseline.options?.subset}' differs from '${current.options?.subset}'`);

  const baseById = new Map(baseline.models.map((m) => [m.id, m]));
  for (const cur of current.models) {
    const base = baseById.get(cur.id);
    // Parity failures fail the check even without a baseline entry.
    for (const p of cur.parity.data?.pairs ?? []) {
      compared++;
      if (!p.pass) fail(cur.id, `parity ${p.a}/${p.b} max abs diff`, base ? findPair(base, p.a, p.b)?.maxAbsDiff : undefined, p.maxAbsDiff, `parity failure (atol ${p.atol}, rtol ${p.rtol ?? 0})${p.detail ? `: ${p.detail}` : ''}`);
    }
    if (!base) {
      notes.push(`model '${cur.id}' is not in the baseline: nothing to compare`);
      continue;
    }
    compareStages(base, cur, fail);
    compared += compareAnalyze(base, cur, fail);
    compared += compareNcnn(base, cur, fail);
    compared += compareParityPresence(base, cur, fail);
    if (sameSubset) compared += compareAccuracy(base, cur, apTol, fail);
    compared += compareBench(base, cur, latThr, warn, fail);
  }
  const curIds = new Set(current.models.map((m) => m.id));
  const notRun = baseline.models.filter((m) => !curIds.has(m.id)).map((m) => m.id);
  if (notRun.length) notes.push(`baseline models not in this run (not compared): ${notRun.join(', ')}`);
  return { ok: failures.length === 0, failures, warnings, compared, notes };
}

type Flag = (model: string, metric: string, o: unknown, n: unknown, rule: string) => void;

function findPair(m: ModelReport, a: string, b: string) {
  return m.parity.data?.pairs.find((p) => (sameRuntime(p.a, a) && sameRuntime(p.b, b)) || (sameRuntime(p.a, b) && sameRuntime(p.b, a)));
}

/** A stage that was ok in the baseline must still be ok. */
function compareStages(base: ModelReport, cur: ModelReport, fail: Flag): void {
  for (const s of STAGE_NAMES as readonly StageName[]) {
    const b = base[s].status;
    const c = cur[s].status;
    // Stages left out with --stages are simply not compared.
    if (c === 'skipped' && /^not selected/.test(cur[s].reason ?? '')) continue;
    if (b === 'ok' && c !== 'ok') fail(cur.id, `${s} stage`, b, `${c}${cur[s].reason ? `: ${cur[s].reason.slice(0, 160)}` : ''}`, c === 'partial' ? 'stage no longer complete' : 'stage no longer runs');
  }
}

function compareAnalyze(base: ModelReport, cur: ModelReport, fail: Flag): number {
  const b = base.analyze.data;
  const c = cur.analyze.data;
  if (!b || !c) return 0;
  let n = 0;
  for (const k of ['params', 'macs'] as const) {
    n++;
    if (b[k] !== c[k]) fail(cur.id, k, b[k], c[k], `${k} changed`);
  }
  // Per-op-type MACs: a change there is a MACs change even if totals happen to agree.
  const cm = new Map(c.perOpType.map((o) => [o.opType, o.macs]));
  for (const o of b.perOpType) {
    n++;
    if (cm.get(o.opType) !== o.macs) fail(cur.id, `macs[${o.opType}]`, o.macs, cm.get(o.opType), 'MACs changed');
  }
  return n;
}

function compareNcnn(base: ModelReport, cur: ModelReport, fail: Flag): number {
  const b = base.ncnn.data;
  const c = cur.ncnn.data;
  if (!b) return 0;
  let n = 0;
  for (const k of ['fp32', 'fp16'] as const) {
    if (!b[k]) continue;
    n++;
    const cl = c?.[k]?.loads;
    if (b[k]!.loads && cl !== true)
      fail(cur.id, `ncnn ${k} loads`, 'yes', cl === false ? `no${c?.[k]?.loadError ? ` (${c[k]!.loadError})` : ''}` : 'missing', 'conversion no longer loads in ncnn');
  }
  return n;
}

function compareParityPresence(base: ModelReport, cur: ModelReport, fail: Flag): number {
  let n = 0;
  for (const p of base.parity.data?.pairs ?? []) {
    n++;
    if (cur.parity.status === 'ok' && !findPair(cur, p.a, p.b)) fail(cur.id, `parity ${p.a}/${p.b}`, p.maxAbsDiff, undefined, 'parity pair no longer checked');
  }
  return n;
}

/** A baseline written before a rename (e.g. 'wasm', now 'ort-wasm') still matches its rows. */
function sameRuntime(a: string, b: string): boolean {
  const canon = (n: string) => canonicalRuntimeName(n, { warn: false }) ?? n;
  return canon(a) === canon(b);
}

function compareAccuracy(base: ModelReport, cur: ModelReport, tol: number, fail: Flag): number {
  let n = 0;
  const rows = cur.accuracy.data?.rows ?? [];
  for (const b of base.accuracy.data?.rows ?? []) {
    const c = rows.find((r) => sameRuntime(r.runtime, b.runtime) && r.longSide === b.longSide);
    const label = `AP ${b.runtime}@${b.longSide}`;
    if (!c) {
      // A row this run left out on purpose (CI budget) is not a regression; a row that vanished is.
      const skipped = cur.accuracy.data?.missing?.some((m) => sameRuntime(m.runtime, b.runtime) && m.longSide === b.longSide);
      if (cur.accuracy.status !== 'skipped' && !skipped) fail(cur.id, `${label}`, 'present', undefined, 'accuracy row no longer produced');
      continue;
    }
    for (const d of ['easy', 'medium', 'hard'] as const) {
      n++;
      // Round to 1e-9 so float noise in JSON round trips never decides a borderline case.
      const delta = Math.round((c[d] - b[d]) * 1e9) / 1e9;
      if (!(Math.abs(delta) <= tol)) fail(cur.id, `${label} ${d}`, b[d], c[d], `AP change > ${tol}`);
    }
  }
  return n;
}

function compareBench(base: ModelReport, cur: ModelReport, thr: number, warn: Flag, _fail: Flag): number {
  let n = 0;
  const rows = cur.bench.data?.rows ?? [];
  for (const b of base.bench.data?.rows ?? []) {
    const c = rows.find((r) => sameRuntime(r.runtime, b.runtime) && r.threads === b.threads && r.shape.join('x') === b.shape.join('x'));
    if (!c) continue; // latency rows are informative only
    n++;
    const rel = (c.medianMs - b.medianMs) / b.medianMs;
    if (Math.abs(rel) > thr)
      warn(cur.id, `median ms ${b.runtime} t${b.threads} ${b.shape.slice(2).join('x')}`, round2(b.medianMs), round2(c.medianMs), `latency ${rel > 0 ? '+' : ''}${(rel * 100).toFixed(0)}% (flag > ±${(thr * 100).toFixed(0)}%)`);
  }
  return n;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** The diff as a short plain-text table: model | metric | old | new | rule. */
export function formatDiffTable(rows: DiffRow[]): string {
  const head = ['', 'model', 'metric', 'old', 'new', 'why'];
  const body = rows.map((r) => [r.severity === 'fail' ? 'FAIL' : 'warn', r.model, r.metric, r.old, r.new, r.rule]);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Latency flags shown in the terminal table; all of them are in report.json / report.html. */
export const MAX_WARNINGS_SHOWN = 8;

const relChange = (w: DiffRow) => Math.abs(Math.log(Number(w.new) / Number(w.old))) || 0; // 2× slower ranks with 2× faster

/** Human summary of a comparison, ending with the verdict. Keeps the table short: every failure, the largest latency flags. */
export function formatCompare(r: CompareResult): string {
  const out: string[] = [];
  const warnings = [...r.warnings].sort((a, b) => relChange(b) - relChange(a)).slice(0, MAX_WARNINGS_SHOWN);
  const rows = [...r.failures, ...warnings];
  if (rows.length) out.push(formatDiffTable(rows));
  if (r.warnings.length > warnings.length) out.push(`(${r.warnings.length - warnings.length} smaller latency flag(s) not shown: see the report)`);
  for (const n of r.notes) out.push(`note: ${n}`);
  out.push(
    r.ok
      ? `check passed: ${r.compared} metrics compared, ${r.warnings.length} latency flag(s)`
      : `check FAILED: ${r.failures.length} regression(s) in ${r.compared} metrics compared, ${r.warnings.length} latency flag(s)`,
  );
  return out.join('\n');
}
