/**
 * The report's verdict: every check a reader wants answered before any table, each with pass/fail
 * and the one number that decides it. Computed from the report JSON alone, so report.html,
 * report.md and `--json` consumers see the same verdict, and an old report.json re-rendered with
 * `--from` gets one too.
 */
import { PUBLISHED, type Ap3 } from '../accuracy/targets.js';
import type { ModelReport, Report } from './schema.js';
import { STAGE_NAMES } from './schema.js';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'n/a';

export interface VerdictCheck {
  id: string;
  title: string;
  status: CheckStatus;
  /** The deciding number(s), short. */
  key: string;
  /** Where it failed or why it does not apply. */
  detail?: string;
}

export interface Verdict {
  /** 'fail' if any check failed; warnings do not fail a report. */
  overall: 'pass' | 'fail';
  checks: VerdictCheck[];
}

/** fdk's AP against the original pipeline re-run on the same images (reproduced to 5e-5 on full val). */
export const AP_REFERENCE_TOLERANCE = 5e-5;
/** AP a runtime may lose against ort on the same model file before the conversion counts as lossy. */
export const CONVERSION_LOSS_TOLERANCE = 0.002;
/** Full val only: the published seed table truncates to 3 decimals. */
export const PUBLISHED_TOLERANCE = 0.001;

const DIFFS = ['easy', 'medium', 'hard'] as const;
/** Runtimes that run the very model file of the ort row (fp16/int8 rows are other models). */
const SAME_MODEL_RUNTIMES = new Set(['ort', 'wasm', 'ort-wasm', 'ncnn', 'ncnn-wasm']);

const f4 = (v: number) => (Math.abs(v) < 5e-5 ? '0.0000' : v.toFixed(4));
const sci = (v: number) => (v === 0 ? '0' : v.toExponential(1));

/** Row id of the published and re-run tables: `<arch>-<long side>` (e.g. slim-320, ulfd-rfb-640). */
export const rowId = (m: Pick<ModelReport, 'arch'>, longSide: number) => `${m.arch}-${longSide}`;

const maxDiff = (a: Ap3, b: Ap3) => Math.max(...DIFFS.map((d) => Math.abs(a[d] - b[d])));

export function isFullVal(r: Report): boolean {
  return r.options.fullVal === true;
}

function stagesCheck(r: Report): VerdictCheck {
  let ok = 0;
  let total = 0;
  const bad: string[] = [];
  let anyFailed = false;
  for (const m of r.models)
    for (const s of STAGE_NAMES) {
      const st = m[s];
      if (st.status === 'skipped' && st.reason?.startsWith('not selected')) continue;
      total++;
      if (st.status === 'ok') ok++;
      else {
        bad.push(`${m.id} ${s}: ${st.status}`);
        if (st.status === 'failed') anyFailed = true;
      }
    }
  return {
    id: 'stages', title: 'Every stage ran', status: anyFailed ? 'fail' : bad.length ? 'warn' : 'pass',
    key: `${ok} of ${total} stages ok`, detail: bad.length ? bad.slice(0, 6).join('; ') + (bad.length > 6 ? ` (+${bad.length - 6} more)` : '') : undefined,
  };
}

function countsCheck(r: Report): VerdictCheck {
  const withPub = r.models.filter((m) => m.analyze.data?.published);
  if (!withPub.length) return { id: 'counts', title: 'Params and MACs equal the published table', status: 'n/a', key: '—', detail: 'no model with published counts was analyzed' };
  const off = withPub.filter((m) => m.analyze.data!.params !== m.analyze.data!.published!.params || m.analyze.data!.macs !== m.analyze.data!.published!.macs);
  return {
    id: 'counts', title: 'Params and MACs equal the published table', status: off.length ? 'fail' : 'pass',
    key: `${withPub.length - off.length} of ${withPub.length} models exact`,
    detail: off.length ? off.map((m) => `${m.id}: ${m.analyze.data!.params} / ${m.analyze.data!.macs} vs ${m.analyze.data!.published!.params} / ${m.analyze.data!.published!.macs}`).join('; ') : undefined,
  };
}

function referenceCheck(r: Report): VerdictCheck {
  let worst = 0;
  let where = '';
  let n = 0;
  for (const m of r.models)
    for (const a of m.accuracy.data?.rows ?? []) {
      if (!a.reference || !SAME_MODEL_RUNTIMES.has(a.runtime)) continue;
      n++;
      const d = maxDiff(a, a.reference);
      if (d >= worst) [worst, where] = [d, `${m.id} ${a.runtime}@${a.longSide}`];
    }
  const title = `AP equals the original pipeline re-run (${isFullVal(r) ? 'full val' : 'same images'})`;
  if (!n) return { id: 'ap-reference', title, status: 'n/a', key: '—', detail: 'no accuracy row with a re-run reference (other image subset, or accuracy not run)' };
  return {
    id: 'ap-reference', title, status: worst <= AP_REFERENCE_TOLERANCE ? 'pass' : 'fail',
    key: `worst |ΔAP| ${sci(worst)} (≤ ${sci(AP_REFERENCE_TOLERANCE)}) over ${n} rows`, detail: `worst: ${where}`,
  };
}

function publishedCheck(r: Report): VerdictCheck {
  const title = 'AP equals the published table (full val)';
  if (!isFullVal(r)) return { id: 'ap-published', title, status: 'n/a', key: '—', detail: 'the published AP is on the full WIDER val set (3226 images): run fdk report --wider-dir DIR' };
  let n = 0;
  const off: string[] = [];
  for (const m of r.models)
    for (const a of m.accuracy.data?.rows ?? []) {
      if (a.runtime !== 'ort') continue;
      const pub = PUBLISHED[rowId(m, a.longSide)];
      // Ultra-Light rows: the seed cites an older release; the re-run of its own script is the target.
      if (!pub || m.family !== 'seed') continue;
      n++;
      const trunc = (v: number) => Math.floor(v * 1000 + 1e-9) / 1000;
      if (DIFFS.some((d) => Math.abs(trunc(a[d]) - pub[d]) > PUBLISHED_TOLERANCE / 2)) off.push(`${m.id}@${a.longSide}`);
    }
  if (!n) return { id: 'ap-published', title, status: 'n/a', key: '—', detail: 'no ort row of a published model' };
  return { id: 'ap-published', title, status: off.length ? 'fail' : 'pass', key: `${n - off.length} of ${n} rows equal (truncated to 3 decimals)`, detail: off.length ? `differ: ${off.join(', ')}` : undefined };
}

function parityCheck(r: Report): VerdictCheck {
  let worst = -1;
  let where = '';
  let pairs = 0;
  let failed = 0;
  let atol = 0;
  for (const m of r.models)
    for (const p of m.parity.data?.pairs ?? []) {
      pairs++;
      if (!p.pass) failed++;
      atol = p.atol;
      if (p.maxAbsDiff > worst) [worst, where] = [p.maxAbsDiff, `${m.id} ${p.a} vs ${p.b}`];
    }
  if (!pairs) return { id: 'parity', title: 'Runtimes give the same outputs', status: 'n/a', key: '—', detail: 'parity not run' };
  return {
    id: 'parity', title: 'Runtimes give the same outputs', status: failed ? 'fail' : 'pass',
    key: `worst max |Δ| ${sci(worst)} (≤ ${sci(atol)}), ${pairs - failed} of ${pairs} pairs pass`, detail: `worst: ${where}`,
  };
}

/** Per runtime: the largest AP the runtime loses against ort on the same model and size. */
export function conversionLoss(r: Report): Map<string, { loss: number; where: string }> {
  const out = new Map<string, { loss: number; where: string }>();
  for (const m of r.models) {
    const rows = m.accuracy.data?.rows ?? [];
    for (const a of rows) {
      if (a.runtime === 'ort' || a.runtime === 'ncnn-int8') continue; // int8 has its own check
      const base = rows.find((x) => x.runtime === 'ort' && x.longSide === a.longSide);
      if (!base) continue;
      const loss = Math.max(...DIFFS.map((d) => base[d] - a[d]));
      const cur = out.get(a.runtime);
      if (!cur || loss > cur.loss) out.set(a.runtime, { loss, where: `${m.id}@${a.longSide}` });
    }
  }
  return out;
}

/** int8 goals of issue #14: AP loss against fp32 at most 0.005 easy and medium, 0.01 hard. */
export const INT8_GOAL = { easy: 0.005, medium: 0.005, hard: 0.01 } as const;

/** int8 is lossy by design: its AP cost is shown against its goal and warns, never fails. */
function int8Check(r: Report): VerdictCheck {
  const title = 'int8 AP cost within its goal (≤ 0.005 / 0.005 / 0.01)';
  let worst: { d: (typeof DIFFS)[number]; loss: number; where: string } | undefined;
  let n = 0;
  const over: string[] = [];
  for (const m of r.models) {
    const rows = m.accuracy.data?.rows ?? [];
    for (const a of rows.filter((x) => x.runtime === 'ncnn-int8')) {
      const base = rows.find((x) => x.runtime === 'ort' && x.longSide === a.longSide);
      if (!base) continue;
      n++;
      // the loss belongs to the recipe that made the int8 model (absent in reports made before recipes)
      const row = `${m.id}@${a.longSide}${a.int8 ? ` (${a.int8.label})` : ''}`;
      for (const d of DIFFS) {
        const loss = base[d] - a[d];
        if (!worst || loss - INT8_GOAL[d] > worst.loss - INT8_GOAL[worst.d]) worst = { d, loss, where: row };
        if (loss > INT8_GOAL[d]) over.push(`${row} ${d} −${loss.toFixed(4)}`);
      }
    }
  }
  if (!n || !worst) return { id: 'int8', title, status: 'n/a', key: '—', detail: 'no ncnn-int8 accuracy row' };
  return {
    id: 'int8', title, status: over.length ? 'warn' : 'pass',
    key: `${n - new Set(over.map((o) => o.replace(/ (easy|medium|hard) −[\d.]+$/, ''))).size} of ${n} rows within the goal`,
    detail: over.length ? `over: ${over.join('; ')} (fdk quantize --auto-keep keeps sensitive layers in fp32)` : `closest: ${worst.where} ${worst.d} −${Math.max(0, worst.loss).toFixed(4)}`,
  };
}

function lossCheck(r: Report): VerdictCheck {
  const loss = conversionLoss(r);
  const title = 'No AP lost in conversion (each runtime vs ort)';
  if (!loss.size) return { id: 'conversion-loss', title, status: 'n/a', key: '—', detail: 'no accuracy row on a runtime other than ort' };
  const bad = [...loss].filter(([, v]) => v.loss > CONVERSION_LOSS_TOLERANCE);
  return {
    id: 'conversion-loss', title, status: bad.length ? 'fail' : 'pass',
    key: [...loss].map(([rt, v]) => `${rt} ${f4(Math.max(0, v.loss))}`).join(' · '),
    detail: bad.length ? bad.map(([rt, v]) => `${rt} loses ${v.loss.toFixed(4)} at ${v.where} (> ${CONVERSION_LOSS_TOLERANCE})`).join('; ') : `largest loss allowed: ${CONVERSION_LOSS_TOLERANCE}`,
  };
}

function ncnnCheck(r: Report): VerdictCheck {
  const conv = r.models.flatMap((m) => [m.ncnn.data?.fp32, m.ncnn.data?.fp16].filter((c) => c).map((c) => ({ m: m.id, c: c! })));
  if (!conv.length) return { id: 'ncnn-loads', title: 'Real ncnn loads every conversion', status: 'n/a', key: '—', detail: 'ncnn stage not run' };
  const bad = conv.filter((x) => !x.c.loads);
  return {
    id: 'ncnn-loads', title: 'Real ncnn loads every conversion', status: bad.length ? 'fail' : 'pass',
    key: `${conv.length - bad.length} of ${conv.length} load`, detail: bad.length ? bad.map((x) => `${x.m} ${x.c.precision}: ${x.c.loadError ?? 'does not load'}`).join('; ') : undefined,
  };
}

function baselineCheck(r: Report): VerdictCheck {
  const title = 'No regression against the baseline';
  if (!r.check) return { id: 'baseline', title, status: 'n/a', key: '—', detail: 'run with --check to compare with reports/baseline.json' };
  const fails = r.check.rows.filter((x) => x.severity === 'fail').length;
  const warns = r.check.rows.filter((x) => x.severity === 'warn').length;
  return {
    id: 'baseline', title, status: !r.check.ok ? 'fail' : warns ? 'warn' : 'pass',
    key: `${fails} regression(s), ${warns} latency flag(s) in ${r.check.compared} metrics`,
    detail: warns ? 'latency changes are flagged, never failed: machines are noisy' : undefined,
  };
}

function loadCheck(r: Report): VerdictCheck {
  const loads = r.models.map((m) => m.bench.data?.load).filter((l) => l !== undefined);
  const title = 'The machine was quiet during bench';
  if (!loads.length) return { id: 'load', title, status: 'n/a', key: '—', detail: 'no load average recorded (bench not run, or an older report)' };
  const peak = Math.max(...loads.map((l) => Math.max(l.before, l.after)));
  const cores = loads[0].cores;
  return {
    id: 'load', title, status: peak > cores ? 'warn' : 'pass',
    key: `load average up to ${peak.toFixed(2)} on ${cores} cores`,
    detail: peak > cores ? 'more runnable processes than cores: latency numbers are inflated and noisy' : undefined,
  };
}

export function buildVerdict(r: Report): Verdict {
  const checks = [stagesCheck(r), countsCheck(r), referenceCheck(r), publishedCheck(r), parityCheck(r), lossCheck(r), int8Check(r), ncnnCheck(r), baselineCheck(r), loadCheck(r)];
  return { overall: checks.some((c) => c.status === 'fail') ? 'fail' : 'pass', checks };
}
