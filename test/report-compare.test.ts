/**
 * The --check rules of compare.ts, one by one, on small hand-made reports: each rule must fail
 * (or only flag) exactly when the issue says, and the diff must name model, metric, old and new.
 */
import { describe, expect, it } from 'vitest';
import { compareReports, formatCompare } from '../src/report/compare.js';
import { REPORT_FORMAT, reportProblem, toBaseline, type ModelReport, type Report } from '../src/report/schema.js';

function model(id: string): ModelReport {
  return {
    id, title: id, family: 'seed', arch: id,
    export: { status: 'ok', data: { source: 'checkpoint', file: `${id}.onnx`, bytes: 1000 } },
    analyze: { status: 'ok', data: { convention: 'thop', input: [1, 3, 240, 320], params: 343488, macs: 98793280, flops: 197586560, perOpType: [{ opType: 'Conv', count: 40, params: 300000, macs: 90000000 }, { opType: 'BatchNormalization', count: 30, params: 43488, macs: 8793280 }] } },
    ncnn: { status: 'ok', data: { fp32: { precision: 'fp32', loads: true, layers: 90, weightBytes: 1400000 }, fp16: { precision: 'fp16', loads: true, layers: 90, weightBytes: 700000 } } },
    parity: { status: 'ok', data: { images: 10, pairs: [{ a: 'ort', b: 'ncnn', maxAbsDiff: 2e-5, atol: 1e-4, pass: true }] } },
    bench: { status: 'ok', data: { rows: [{ runtime: 'ort', threads: 1, shape: [1, 3, 240, 320], runs: 10, minMs: 9, medianMs: 10, p90Ms: 11, meanMs: 10 }] } },
    accuracy: { status: 'ok', data: { rows: [{ runtime: 'ort', longSide: 320, images: 488, easy: 0.830503, medium: 0.725449, hard: 0.447368 }] } },
  };
}

function report(models: ModelReport[]): Report {
  return {
    format: REPORT_FORMAT, fdkVersion: '0.1.0',
    machine: { cpu: 'cpu', cores: 2, memGB: 24, platform: 'linux', node: '20', date: '2026-01-01T00:00:00Z' },
    options: { models: models.map((m) => m.id), subset: 'wider/val-mini/list.txt', longSides: [320], runtimes: ['ort'], threads: [1], benchWarmup: 1, benchRuns: 10, notes: [] },
    runtimes: [], models, stageTimes: [], totalMs: 0,
  };
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('report --check rules', () => {
  const base = report([model('slim'), model('rfb')]);

  it('passes an identical report and counts what it compared', () => {
    const r = compareReports(base, clone(base));
    expect(r.ok).toBe(true);
    expect(r.failures).toEqual([]);
    expect(r.compared).toBeGreaterThan(10);
  });

  it('fails on an AP change beyond 0.002 and names model, metric, old and new', () => {
    const cur = clone(base);
    cur.models[1].accuracy.data!.rows[0].hard = 0.444;
    const r = compareReports(base, cur);
    expect(r.ok).toBe(false);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatchObject({ model: 'rfb', metric: 'AP ort@320 hard', old: '0.447368', new: '0.444' });
    const text = formatCompare(r);
    expect(text).toMatch(/FAIL\s+rfb\s+AP ort@320 hard\s+0\.447368\s+0\.444/);
    expect(text).toContain('check FAILED');
  });

  it('accepts an AP change of exactly 0.002 or less', () => {
    const cur = clone(base);
    cur.models[0].accuracy.data!.rows[0].easy = 0.830503 + 0.002;
    cur.models[0].accuracy.data!.rows[0].medium = 0.725449 - 0.0019;
    expect(compareReports(base, cur).ok).toBe(true);
  });

  it('fails on any params or MACs change, including per op type', () => {
    const cur = clone(base);
    cur.models[0].analyze.data!.params += 1;
    cur.models[0].analyze.data!.perOpType[1].macs += 4;
    const r = compareReports(base, cur);
    expect(r.failures.map((f) => f.metric).sort()).toEqual(['macs[BatchNormalization]', 'params']);
    expect(r.failures.find((f) => f.metric === 'params')).toMatchObject({ old: '343,488', new: '343,489' });
  });

  it('fails on a parity failure even for a model not in the baseline', () => {
    const cur = clone(base);
    cur.models[0].parity.data!.pairs[0] = { a: 'ort', b: 'ncnn', maxAbsDiff: 0.03, atol: 1e-4, pass: false };
    const extra = model('mnet0.25');
    extra.parity.data!.pairs[0].pass = false;
    cur.models.push(extra);
    const r = compareReports(base, cur);
    expect(r.failures.map((f) => `${f.model} ${f.metric}`)).toEqual(['slim parity ort/ncnn max abs diff', 'mnet0.25 parity ort/ncnn max abs diff']);
    expect(r.notes.join('\n')).toContain("'mnet0.25' is not in the baseline");
  });

  it('fails when a conversion stops loading in ncnn', () => {
    const cur = clone(base);
    cur.models[0].ncnn.data!.fp16 = { precision: 'fp16', loads: false, loadError: 'layer Shape not exists or registered', layers: 95, weightBytes: 700000 };
    const r = compareReports(base, cur);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatchObject({ model: 'slim', metric: 'ncnn fp16 loads', old: 'yes' });
    expect(r.failures[0].new).toContain('layer Shape not exists');
  });

  it('fails when a stage that ran in the baseline no longer runs, or an accuracy row disappears', () => {
    const cur = clone(base);
    cur.models[0].analyze = { status: 'not-available', reason: 'src/analyze/index.ts does not exist yet' };
    cur.models[1].accuracy.data!.rows = [];
    const r = compareReports(base, cur);
    expect(r.failures.map((f) => `${f.model} ${f.metric}`).sort()).toEqual(['rfb AP ort@320', 'slim analyze stage']);
  });

  it('only flags latency changes beyond the threshold, never fails on them', () => {
    const cur = clone(base);
    cur.models[0].bench.data!.rows[0].medianMs = 16; // +60%
    cur.models[1].bench.data!.rows[0].medianMs = 12; // +20%
    const r = compareReports(base, cur, { latencyThreshold: 0.5 });
    expect(r.ok).toBe(true);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatchObject({ model: 'slim', old: '10', new: '16', severity: 'warn' });
    expect(formatCompare(r)).toMatch(/warn\s+slim\s+median ms ort t1 240x320\s+10\s+16\s+latency \+60%/);
  });

  it('does not compare accuracy measured on a different image subset', () => {
    const cur = clone(base);
    cur.options.subset = '/tmp/other-list.txt';
    cur.models[0].accuracy.data!.rows[0].easy = 0.5;
    const r = compareReports(base, cur);
    expect(r.ok).toBe(true);
    expect(r.notes.join('\n')).toContain('accuracy not compared');
  });

  it('baseline form drops PR curves and still validates', () => {
    const r = clone(base);
    r.models[0].accuracy.data!.rows[0].pr = { easy: { precision: [1, 0.9], recall: [0.1, 0.5] } };
    const b = toBaseline(r);
    expect(b.models[0].accuracy.data!.rows[0].pr).toBeUndefined();
    expect(reportProblem(b)).toBeUndefined();
    expect(reportProblem({ format: 'x', models: [] })).toContain('not an fdk report');
  });

  it('does not fail on rows or stages this run left out on purpose', () => {
    const b = clone(base);
    b.models[0].accuracy.data!.rows.push({ runtime: 'wasm', longSide: 320, images: 488, easy: 0.83, medium: 0.72, hard: 0.44 });
    const cur = clone(base);
    cur.models[0].accuracy.data!.missing = [{ runtime: 'wasm', longSide: 320, reason: 'not run (CI time budget)' }];
    cur.models[1].bench = { status: 'skipped', reason: 'not selected (--stages)' };
    expect(compareReports(b, cur).failures).toEqual([]);
    // ...but a row that simply vanished does fail
    delete cur.models[0].accuracy.data!.missing;
    expect(compareReports(b, cur).failures.map((f) => f.metric)).toEqual(['AP wasm@320']);
  });
});
