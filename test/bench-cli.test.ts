/** `fdk bench`: the report structure on real models (no timing assertions), --baseline, bad input. */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shared, expectOneLineError } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';
import { latencyStats, percentile } from '../src/bench/stats.js';

const tmp = mkdtempSync(join(tmpdir(), 'fdk-bench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function checkCase(c: Record<string, any>) {
  expect(c.error, c.error).toBeUndefined();
  const L = c.latency;
  expect(L.n).toBe(3);
  for (const k of ['min', 'median', 'p90', 'p99', 'mean']) expect(L[k], k).toBeGreaterThan(0);
  expect(L.min).toBeLessThanOrEqual(L.median);
  expect(L.median).toBeLessThanOrEqual(L.p90);
  expect(L.p90).toBeLessThanOrEqual(L.p99);
  expect(L.stddev).toBeGreaterThanOrEqual(0);
  expect(c.loadMs).toBeGreaterThan(0);
  expect(c.firstRunMs).toBeGreaterThan(0);
  expect(c.peakRssMb).toBeGreaterThan(10);
}

describe('fdk bench', () => {
  let baselineJson = '';
  it('ort and wasm (the old name of ort-wasm, which warns once) on a manifest model id, two thread counts', async () => {
    const r = await runCliAsync(['bench', 'ulfd-slim-320', '--runtimes', 'ort,wasm', '--threads', '1,2', '--warmup', '1', '--runs', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.model.path).toMatch(/version-slim-320\.onnx$/);
    expect(j.host.cpu.length).toBeGreaterThan(0);
    expect(j.cases.map((c: any) => `${c.runtime}/${c.threads}/${c.input}`)).toEqual([
      'ort/1/1x3x240x320', 'ort/2/1x3x240x320', 'ort-wasm/1/1x3x240x320', 'ort-wasm/2/1x3x240x320',
    ]);
    expect(r.stderr.match(/runtime 'wasm' is now called 'ort-wasm'/g)).toHaveLength(1);
    for (const c of j.cases) checkCase(c);
    baselineJson = r.stdout;
  });

  it('ncnn on an ncnn .param: worker memory is counted, two input shapes', async () => {
    const r = await runCliAsync(['bench', shared('models/ultra-light-1mb/ncnn/RFB-320.param'), '--runtimes', 'ncnn', '--input', '1x3x240x320,1x3x480x640', '--warmup', '1', '--runs', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.cases.map((c: any) => c.input)).toEqual(['1x3x240x320', '1x3x480x640']);
    for (const c of j.cases) {
      checkCase(c);
      expect(c.workerPeakRssMb).toBeGreaterThan(10);
      expect(c.peakRssMb).toBeGreaterThan(c.workerPeakRssMb);
      expect(c.runtimeVersion).toMatch(/^1\.0\.\d+/);
    }
  });

  it('ncnn given an .onnx converts it with fdk\'s converter and says so', async () => {
    const r = await runCliAsync(['bench', 'ulfd-rfb-320', '--runtimes', 'ncnn', '--warmup', '1', '--runs', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ncnn: converted .*version-RFB-320\.onnx to ncnn with fdk's converter/);
    expect(r.stdout).toMatch(/│ ncnn\s+│ 1\s+│ 1x3x240x320/);
  });

  it('prints the medians side by side under its table, runtimes as columns, with the ncnn-wasm / ort-wasm ratio', async () => {
    const r = await runCliAsync(['bench', 'ulfd-slim-320', '--runtimes', 'ncnn-wasm,ort-wasm', '--warmup', '0', '--runs', '3']);
    expect(r.code, r.stderr).toBe(0);
    const cells = (line: string) => line.split('│').slice(1, -1).map((c) => c.trim());
    const lines = r.stdout.split('\n');
    // the full table's median column, per runtime
    const head = cells(lines.find((l) => l.includes('│ runtime'))!);
    const median = (rt: string) => Number(cells(lines.find((l) => l.startsWith(`│ ${rt} `))!)[head.indexOf('median')]);
    const side = lines.slice(lines.indexOf('median ms side by side:'));
    expect(side.length).toBeGreaterThan(1);
    expect(cells(side.find((l) => l.includes('│ input'))!)).toEqual(['input', 'threads', 'ncnn-wasm', 'ort-wasm', 'ncnn-wasm / ort-wasm']);
    const row = cells(side.find((l) => l.includes('1x3x240x320'))!);
    expect(row.slice(0, 2)).toEqual(['1x3x240x320', '1']);
    for (const [i, rt] of [[2, 'ncnn-wasm'], [3, 'ort-wasm']] as const) expect(Number(row[i])).toBeCloseTo(median(rt), median(rt) >= 100 ? -1 : 0);
    expect(Number(row[4])).toBeCloseTo(median('ncnn-wasm') / median('ort-wasm'), 1);
  });

  it('--baseline flags a case slower than an earlier run beyond the threshold', async () => {
    const base = JSON.parse(baselineJson);
    base.cases[0].latency.median /= 10; // pretend ort/1 used to be 10x faster
    base.cases[1].latency.median *= 10; // and ort/2 10x slower
    const file = join(tmp, 'base.json');
    writeFileSync(file, JSON.stringify(base));
    const r = await runCliAsync(['bench', 'ulfd-slim-320', '--runtimes', 'ort', '--threads', '1,2', '--warmup', '1', '--runs', '3', '--baseline', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout).baseline.deltas;
    expect(d.map((x: any) => x.flag)).toEqual(['slower', 'faster']);
    const t = await runCliAsync(['bench', 'ulfd-slim-320', '--runtimes', 'ort', '--warmup', '1', '--runs', '3', '--baseline', file, '--fail-on-regression']);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/SLOWER/);
  });

  it('bad input: unknown runtime, bad baseline, a shape the fixed-size model cannot take, .param on ort', async () => {
    const junk = join(tmp, 'junk.json');
    writeFileSync(junk, '{"not": "a bench"}');
    const cases: [string[], string | RegExp][] = [
      [['bench', 'ulfd-slim-320', '--runtimes', 'ort,tvm'], /unknown runtime 'tvm'.*ort, ort-wasm, ncnn, ncnn-wasm/],
      [['bench', 'ulfd-slim-320', '--runtimes', 'ort', '--baseline', junk], 'junk.json: baseline is not the output'],
      [['bench', 'ulfd-slim-320', '--runtimes', 'ort', '--input', '1x3x480x640'], /--input 1x3x480x640 does not fit/],
      [['bench', shared('models/ultra-light-1mb/ncnn/slim-320.param'), '--runtimes', 'ort'], /runs only on the ncnn engines \(ncnn, ncnn-wasm\)/],
      [['bench', 'ulfd-slim-320', '--runs', '0'], /bad --runs/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCliAsync(args)));
    results.forEach((r, i) => expectOneLineError(r, cases[i][1]));
  });
});

describe('latency statistics', () => {
  it('percentiles interpolate between ranks like numpy', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBeCloseTo(9.1, 10);
    const s = latencyStats([3, 1, 2]);
    expect(s).toMatchObject({ n: 3, min: 1, median: 2, max: 3, mean: 2, stddev: 1 });
  });
});
