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
import { ROOT, runCli, shared } from './helpers/index.js';
import { CHROMIUM, renderReport, type RenderedPage } from './report-browser.js';
import { STAGE_NAMES, type Report } from '../src/report/schema.js';
import { reportWorkDir } from '../src/report/run.js';

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
  const r = runCli(['report', '--models', MODEL, '--threads', '1', '--warmup', '1', '--runs', '3', '--long-side', '320',
    '--accuracy-runtimes', 'ort,ncnn-fp16', '--subset', list, '--out', out]);
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
    expect(m.bench.data!.rows.map((r) => r.runtime).sort()).toEqual(['ncnn', 'ort', 'ort-wasm']);
  });

  it('renders every table with rows', () => {
    const ids = page.tables.map((t) => t.id);
    for (const id of ['stages', 'models', 'optypes', 'ncnn', 'parity', 'bench', 'accuracy', 'timings', 'runtimes']) {
      const t = page.tables.find((x) => x.id === `table-${id}`);
      expect(t, `table ${id} in ${ids.join(',')}`).toBeDefined();
      expect(t!.visible).toBe(true);
      expect(t!.rows).toBeGreaterThan(0);
    }
  });

  it('renders every plot: PR curves per difficulty, latency per runtime, MACs per op type', () => {
    const by = (section: string) => page.plots.filter((p) => p.section === section);
    expect(by('plots-pr').map((p) => p.label)).toEqual([`${MODEL} — easy`, `${MODEL} — medium`, `${MODEL} — hard`]);
    expect(by('plots-latency')).toHaveLength(1);
    expect(by('plots-macs')).toHaveLength(1);
    expect(page.plots).toHaveLength(5);
    for (const p of page.plots) {
      expect(p.width, p.label).toBeGreaterThan(100);
      expect(p.height, p.label).toBeGreaterThan(50);
    }
    // two PR lines (ort, ncnn-fp16) per difficulty; one bar per runtime; one bar per op type with MACs
    for (const p of by('plots-pr')) expect(p.marks, p.label).toBe(2);
    expect(by('plots-latency')[0].marks).toBe(3);
    expect(by('plots-macs')[0].marks).toBe(report.models[0].analyze.data!.perOpType.filter((o) => o.macs > 0).length);
  });

  it('is self-contained and error-free, and leaves a screenshot', () => {
    expect(page.consoleErrors).toEqual([]);
    expect(page.externalRequests).toEqual([]);
    expect(statSync(shot).size).toBeGreaterThan(20_000);
  });
});
