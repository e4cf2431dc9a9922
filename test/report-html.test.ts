/**
 * `fdk report` on a fast subset (one model, one thread count, few bench runs, a 61-image WIDER
 * subset), then report.html opened in headless Chromium: every table has rows, every plot renders
 * with a non-zero size and drawn marks, nothing is fetched from outside, no console errors.
 * The screenshot is kept in test-artifacts/report.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, shared } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';
import { CHROMIUM, renderReport, type RenderedPage } from './report-browser.js';
import { STAGE_NAMES, type Report } from '../src/report/schema.js';
import { reportWorkDir } from '../src/report/run.js';
import { buildTables } from '../src/report/tables.js';

const MODEL = 'ulfd-slim-320';
let tmp: string;
let report: Report;
let page: RenderedPage;
let stderr = '';
const shot = join(ROOT, 'test-artifacts', 'report.png');

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  tmp = mkdtempSync(join(tmpdir(), 'fdk-report-html-'));
  const list = join(tmp, 'list.txt');
  const lines = readFileSync(shared('wider/val-mini/list.txt'), 'utf8').split('\n').filter(Boolean);
  writeFileSync(list, lines.filter((_, i) => i % 8 === 0).join('\n') + '\n');
  const out = join(tmp, 'out');
  // async: a blocking spawnSync of this long run starves vitest's RPC on a loaded machine
  const r = await runCliAsync(['report', '--models', MODEL, '--threads', '1', '--warmup', '1', '--runs', '3', '--long-side', '320',
    '--accuracy-runtimes', 'ort,ncnn-fp16', '--subset', list, '--out', out, '--browser', 'chromium']);
  stderr = r.stderr;
  if (r.code !== 0) throw new Error(`fdk report failed (${r.code}): ${r.stderr}`);
  report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  page = await renderReport(join(out, 'report.html'), shot);
}, 600_000);
afterAll(() => {
  for (const o of ['out']) rmSync(reportWorkDir(join(tmp, o)), { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

describe('fdk report HTML', () => {
  it('ran every stage for the model and printed each stage time', () => {
    const m = report.models[0];
    for (const s of STAGE_NAMES) {
      expect(m[s].status, `${s}: ${m[s].reason ?? ''}`).toBe('ok');
      expect(stderr).toMatch(new RegExp(`report: ${MODEL}\\s+${s}\\s+ok\\s+\\d+\\.\\d s`));
    }
    expect(m.accuracy.data!.rows.map((r) => r.runtime).sort()).toEqual(['ncnn-fp16', 'ort']);
    // ncnn-wasm by default; --browser chromium adds both WebAssembly engines inside Chromium
    expect(m.bench.data!.rows.map((r) => r.runtime).sort()).toEqual(['ncnn', 'ncnn-wasm', 'ncnn-wasm@chromium', 'ort', 'ort-wasm', 'ort-wasm@chromium']);
    expect(report.options.browser).toBe('chromium');
  });

  it('renders every table with rows', () => {
    const ids = page.tables.map((t) => t.id);
    for (const id of ['verdict', 'glance', 'stages', 'models', 'optypes', 'ncnn', 'parity', 'lanes', 'bench', 'accuracy', 'runtimes']) {
      const t = page.tables.find((x) => x.id === `table-${id}`);
      expect(t, `table ${id} in ${ids.join(',')}`).toBeDefined();
      expect(t!.visible).toBe(true);
      expect(t!.rows).toBeGreaterThan(0);
    }
    // no duplicated subject: one table per id, and stage timings live in the stages table
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).not.toContain('table-timings');
  });

  it('shows the latency of every lane side by side: the bench rows\' medians, browser lanes beside their Node runtime, and the ncnn-wasm / ort-wasm ratio', () => {
    const t = buildTables(report).find((x) => x.id === 'lanes')!;
    expect(t.head).toEqual(['model', 'input (w×h)', 'threads', 'ort', 'ort-wasm', 'ort-wasm@chromium', 'ncnn', 'ncnn-wasm', 'ncnn-wasm@chromium',
      'ncnn-wasm / ort-wasm', 'ncnn-wasm / ort-wasm @chromium']);
    const rows = report.models[0].bench.data!.rows;
    expect(t.rows).toHaveLength(1); // one input, one thread count
    const median = (rt: string) => rows.find((b) => b.runtime === rt)!.medianMs;
    const cell = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
    expect(t.rows[0]).toEqual([MODEL, '320×240', '1', ...['ort', 'ort-wasm', 'ort-wasm@chromium', 'ncnn', 'ncnn-wasm', 'ncnn-wasm@chromium'].map((rt) => cell(median(rt))),
      (median('ncnn-wasm') / median('ort-wasm')).toFixed(2), (median('ncnn-wasm@chromium') / median('ort-wasm@chromium')).toFixed(2)]);
    // parity also checks ncnn-wasm (Node) against the other runtimes by default
    expect(report.models[0].parity.data!.pairs.some((p) => p.a === 'ncnn-wasm' || p.b === 'ncnn-wasm')).toBe(true);
  });

  it('opens with a verdict box whose checks match the report numbers', () => {
    expect(page.verdict.visibleInFirstScreen).toBe(true);
    expect(page.verdict.overall).toBe('pass');
    const check = (id: string) => page.verdict.checks.find((c) => c.title.startsWith(id));
    // parity: the key number is the worst max abs diff of the JSON's pairs
    const pairs = report.models[0].parity.data!.pairs;
    const worst = Math.max(...pairs.map((p) => p.maxAbsDiff));
    expect(check('Runtimes give the same outputs')!.status).toBe('PASS');
    expect(check('Runtimes give the same outputs')!.key).toContain(worst.toExponential(1));
    expect(check('Runtimes give the same outputs')!.key).toContain(`${pairs.length} of ${pairs.length} pairs pass`);
    // the 61-image subset has no re-run reference, and the published table is full val only
    expect(check('AP equals the published table')!.status).toBe('n/a');
    // fp16 vs ort: the loss shown is ort AP minus fp16 AP, largest over difficulties
    const rows = report.models[0].accuracy.data!.rows;
    const ort = rows.find((r) => r.runtime === 'ort')!;
    const fp16 = rows.find((r) => r.runtime === 'ncnn-fp16')!;
    const loss = Math.max(0, ...(['easy', 'medium', 'hard'] as const).map((d) => ort[d] - fp16[d]));
    expect(check('No AP lost in conversion')!.key).toBe(`ncnn-fp16 ${Math.abs(loss) < 5e-5 ? '0.0000' : loss.toFixed(4)}`);
    const load = report.models[0].bench.data!.load!;
    expect(check('The machine was quiet')!.key).toContain(`on ${load.cores} cores`);
    expect(check('The machine was quiet')!.status).toBe(Math.max(load.before, load.after) > load.cores ? 'warn' : 'PASS');
  });

  it('renders the plots: PR per difficulty comparing models, runtime multiples, speed-vs-accuracy scatter, latency, MACs', () => {
    const by = (section: string) => page.plots.filter((p) => p.section === section);
    expect(by('plots-pr').map((p) => p.label)).toEqual(['PR — easy', 'PR — medium', 'PR — hard']);
    for (const p of by('plots-pr')) expect(p.marks, p.label).toBe(1); // one model here: one line each
    // ort and ncnn-fp16: drawn as a small multiple only when their curves differ, else named identical
    const rows = report.models[0].accuracy.data!.rows;
    const [a, b] = [rows.find((r) => r.runtime === 'ort')!.pr!, rows.find((r) => r.runtime === 'ncnn-fp16')!.pr!];
    const same = (['easy', 'medium', 'hard'] as const).every((d) => JSON.stringify(a[d]) === JSON.stringify(b[d]));
    expect(by('plots-pr-runtimes')).toHaveLength(same ? 0 : 1);
    if (!same) expect(by('plots-pr-runtimes')[0].marks).toBe(2);
    // scatter: one point per accuracy row that has a bench row of the same runtime and size (ort@320)
    expect(by('plots-scatter')).toHaveLength(1);
    expect(by('plots-scatter')[0].marks).toBe(1);
    expect(by('plots-latency')).toHaveLength(1);
    expect(by('plots-latency')[0].marks).toBe(report.models[0].bench.data!.rows.length);
    expect(by('models')).toHaveLength(1);
    expect(by('models')[0].marks).toBe(report.models[0].analyze.data!.perOpType.filter((o) => o.macs > 0).length);
    expect(page.plots).toHaveLength(same ? 6 : 7);
    for (const p of page.plots) {
      expect(p.width, p.label).toBeGreaterThan(100);
      expect(p.height, p.label).toBeGreaterThan(50);
    }
  });

  it('is self-contained and error-free, and leaves a screenshot', () => {
    expect(page.consoleErrors).toEqual([]);
    expect(page.externalRequests).toEqual([]);
    expect(statSync(shot).size).toBeGreaterThan(20_000);
  });
});
