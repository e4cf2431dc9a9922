/**
 * `fdk bench --baseline FILE`: compares each case's median latency with the same case
 * (runtime, threads, input) of an earlier `fdk bench --json` and flags changes beyond a threshold.
 */
import { canonicalRuntimeName } from '../runtime/registry.js';
import { readFileSync } from 'node:fs';
import { FdkError } from '../util/errors.js';
import { fsError } from '../util/fs.js';
import type { BenchReport } from './run-bench.js';
import type { CaseResult } from './case.js';

export interface BaselineDelta {
  runtime: string;
  threads: number;
  input: string;
  baselineMedianMs: number;
  medianMs: number;
  /** (new - old) / old, in percent. */
  changePct: number;
  flag: 'slower' | 'faster' | null;
}

export function readBaseline(path: string): BenchReport {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw fsError(e, path);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new FdkError(`baseline is not valid JSON (${(e as Error).message})`, { file: path });
  }
  const r = j as Partial<BenchReport>;
  if (r?.tool !== 'fdk bench' || !Array.isArray(r.cases))
    throw new FdkError('baseline is not the output of `fdk bench --json` (no tool/cases fields)', { file: path });
  return r as BenchReport;
}

// a baseline written before a runtime was renamed (wasm -> ort-wasm) still matches
const key = (c: Pick<CaseResult, 'runtime' | 'threads' | 'input'>) =>
  `${canonicalRuntimeName(c.runtime, { warn: false }) ?? c.runtime}|${c.threads}|${c.input}`;

export function compareWithBaseline(cases: CaseResult[], base: BenchReport, thresholdPct: number): BaselineDelta[] {
  const old = new Map(base.cases.filter((c) => !c.error).map((c) => [key(c), c]));
  const out: BaselineDelta[] = [];
  for (const c of cases) {
    const o = old.get(key(c));
    if (!o || c.error) continue;
    const changePct = ((c.latency.median - o.latency.median) / o.latency.median) * 100;
    out.push({
      runtime: c.runtime, threads: c.threads, input: c.input,
      baselineMedianMs: o.latency.median, medianMs: c.latency.median, changePct,
      flag: changePct > thresholdPct ? 'slower' : changePct < -thresholdPct ? 'faster' : null,
    });
  }
  return out;
}
