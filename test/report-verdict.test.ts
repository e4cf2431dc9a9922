/**
 * The report's verdict box (src/report/verdict.ts) on the committed baseline, a real 7-model run:
 * it passes as committed, and each kind of regression, made in a copy, turns exactly its check to
 * FAIL with the deciding number. Also: the Markdown report opens with the same verdict.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/index.js';
import type { Report } from '../src/report/schema.js';
import { buildVerdict, CONVERSION_LOSS_TOLERANCE } from '../src/report/verdict.js';
import { renderMarkdown } from '../src/report/render-md.js';
import { renderHtml } from '../src/report/render-html.js';

const baseline = () => JSON.parse(readFileSync(join(ROOT, 'reports', 'baseline.json'), 'utf8')) as Report;
const check = (r: Report, id: string) => buildVerdict(r).checks.find((c) => c.id === id)!;

describe('report verdict', () => {
  it('passes on the committed baseline, with the numbers of the JSON', () => {
    const r = baseline();
    const v = buildVerdict(r);
    expect(v.overall).toBe('pass');
    const pairs = r.models.flatMap((m) => m.parity.data?.pairs ?? []);
    expect(check(r, 'parity').key).toContain(Math.max(...pairs.map((p) => p.maxAbsDiff)).toExponential(1));
    expect(check(r, 'counts').key).toBe('3 of 3 models exact');
    expect(check(r, 'ap-reference').status).toBe('pass');
    expect(check(r, 'ap-published').status).toBe('n/a'); // val-mini: the published table is full val
    expect(check(r, 'baseline').status).toBe('n/a');
  });

  it('fails the parity check when one pair fails, naming the worst pair', () => {
    const r = baseline();
    const p = r.models.find((m) => m.id === 'rfb')!.parity.data!.pairs[0];
    p.maxAbsDiff = 3e-3;
    p.pass = false;
    expect(buildVerdict(r).overall).toBe('fail');
    expect(check(r, 'parity').status).toBe('fail');
    expect(check(r, 'parity').detail).toBe(`worst: rfb ${p.a} vs ${p.b}`);
  });

  it('fails the published-counts check when MACs move', () => {
    const r = baseline();
    r.models.find((m) => m.id === 'slim')!.analyze.data!.macs += 1;
    expect(check(r, 'counts').status).toBe('fail');
    expect(check(r, 'counts').key).toBe('2 of 3 models exact');
  });

  it('fails the conversion-loss check when a runtime loses more AP than allowed', () => {
    const r = baseline();
    const rows = r.models.find((m) => m.id === 'slim')!.accuracy.data!.rows;
    const fp16 = rows.find((x) => x.runtime === 'ncnn-fp16' && x.longSide === 640)!;
    const ort = rows.find((x) => x.runtime === 'ort' && x.longSide === 640)!;
    fp16.hard = ort.hard - 2 * CONVERSION_LOSS_TOLERANCE;
    expect(check(r, 'conversion-loss').status).toBe('fail');
    expect(check(r, 'conversion-loss').detail).toContain('ncnn-fp16 loses 0.0040 at slim@640');
  });

  it('int8 over its goal warns, naming the row and the recipe that made its model', () => {
    const r = baseline();
    const rows = r.models.find((m) => m.id === 'slim')!.accuracy.data!.rows;
    const int8 = rows.find((x) => x.runtime === 'ncnn-int8' && x.longSide === 320)!;
    const ort = rows.find((x) => x.runtime === 'ort' && x.longSide === 320)!;
    expect(check(r, 'int8').status).toBe('pass');
    int8.easy = ort.easy - 0.008;
    int8.int8 = { method: 'percentile', from: 'model description', label: 'percentile, all layers int8' };
    const c = check(r, 'int8');
    expect(c.status).toBe('warn');
    expect(c.detail).toContain('slim@320 (percentile, all layers int8) easy −0.0080');
    const n = Number(/of (\d+) rows/.exec(c.key)![1]);
    expect(c.key).toBe(`${n - 1} of ${n} rows within the goal`);
  });

  it('fails the reference check when AP drifts from the re-run of the original pipeline', () => {
    const r = baseline();
    r.models.find((m) => m.id === 'mnet0.25')!.accuracy.data!.rows[0].easy += 1e-3;
    expect(check(r, 'ap-reference').status).toBe('fail');
    expect(check(r, 'ap-reference').detail).toBe('worst: mnet0.25 ort@320');
  });

  it('on a full-val run compares the seed rows with the published table (truncated to 3 decimals)', () => {
    const r = baseline();
    r.options.fullVal = true;
    // the full-val re-run numbers of targets.md: slim-320 0.795108 / 0.683660 / 0.345258 -> published 0.795 / 0.683 / 0.345
    for (const m of r.models) if (m.accuracy.data) m.accuracy.data.rows = m.accuracy.data.rows.filter((a) => m.id === 'slim' && a.runtime === 'ort' && a.longSide === 320);
    const row = r.models.find((m) => m.id === 'slim')!.accuracy.data!.rows[0];
    Object.assign(row, { easy: 0.795108, medium: 0.68366, hard: 0.345258 });
    delete row.reference;
    expect(check(r, 'ap-published')).toMatchObject({ status: 'pass', key: '1 of 1 rows equal (truncated to 3 decimals)' });
    row.medium = 0.6829;
    expect(check(r, 'ap-published').status).toBe('fail');
    const html = renderHtml(r);
    expect(html).toContain('id="table-fullval-320"');
    expect(html).toContain('0.795 / 0.683 / 0.345');
  });

  it('report.md and report.html open with the verdict and never print -0.0000', () => {
    const r = baseline();
    const md = renderMarkdown(r);
    expect(md.indexOf('## Verdict: PASS')).toBeGreaterThan(0);
    expect(md.indexOf('## Verdict: PASS')).toBeLessThan(md.indexOf('## Stages per model'));
    const html = renderHtml(r);
    expect(html.indexOf('id="verdict"')).toBeLessThan(html.indexOf('id="toc"'));
    expect(html).not.toContain('-0.0000');
    expect(md).not.toContain('-0.0000');
  });
});
