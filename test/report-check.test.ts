/**
 * `fdk report --check` end to end on a real model: a baseline made by `--update-baseline`, an
 * unchanged re-run that passes, and a copy of the model with one weight tensor perturbed (given
 * with --model-file, so the manifest checksums of the real files stay intact) that fails with a
 * diff naming the model, the metric, and the old and new values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectOneLineError, runCli, shared } from './helpers/index.js';
import { loadOnnx, saveOnnx } from '../src/onnx/io.js';
import { Tensor } from '../src/onnx/tensor.js';
import type { Report } from '../src/report/schema.js';
import { reportWorkDir } from '../src/report/run.js';
import { workDir } from '../src/util/data.js';

const MODEL = 'ulfd-slim-320';
let tmp: string;
let list: string;
const readReport = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;

// A small subset keeps each run to seconds; the AP numbers are real (same subset semantics as val-mini).
const args = () => ['report', '--models', MODEL, '--stages', 'export,analyze,accuracy', '--accuracy-runtimes', 'ort', '--long-side', '320', '--subset', list, '--baseline', join(tmp, 'baseline.json')];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fdk-report-check-'));
  list = join(tmp, 'list.txt');
  const lines = readFileSync(shared('wider/val-mini/list.txt'), 'utf8').split('\n').filter(Boolean);
  writeFileSync(list, lines.filter((_, i) => i % 8 === 0).join('\n') + '\n'); // 61 images, one per event
  const r = runCli([...args(), '--out', join(tmp, 'base'), '--update-baseline']);
  if (r.code !== 0) throw new Error(`baseline run failed: ${r.stderr}`);
});
afterAll(() => {
  for (const o of ['base', 'same', 'pert', 'x']) rmSync(reportWorkDir(join(tmp, o)), { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

describe('fdk report --check', () => {
  it('writes a baseline with the gated numbers and no PR curves', () => {
    const b = JSON.parse(readFileSync(join(tmp, 'baseline.json'), 'utf8')) as Report;
    const m = b.models.find((x) => x.id === MODEL)!;
    expect(m.analyze.status).toBe('ok');
    expect(m.analyze.data!.params).toBeGreaterThan(200_000);
    expect(m.accuracy.status).toBe('ok');
    const row = m.accuracy.data!.rows.find((x) => x.runtime === 'ort' && x.longSide === 320)!;
    expect(row.images).toBe(61);
    expect(row.easy).toBeGreaterThan(0.5);
    expect(row.pr).toBeUndefined();
    // the accuracy stage records fdk accuracy's throughput: images/s and the per-stage split
    expect(row.imagesPerSecond).toBeGreaterThan(0);
    expect(row.split!.decodeMs).toBeGreaterThan(0);
    expect(row.split!.inferenceMs).toBeGreaterThan(0);
    // report.json of the same run keeps the PR curves for the HTML plots
    expect(readReport(join(tmp, 'base')).models[0].accuracy.data!.rows[0].pr?.easy?.recall.length).toBeGreaterThan(10);
  });

  it('passes when nothing changed', () => {
    const r = runCli([...args(), '--out', join(tmp, 'same'), '--check']);
    expect(r.stderr).not.toContain('fdk: error');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/check passed: \d+ metrics compared/);
  });

  it('fails on a perturbed weight with a diff naming model, metric, old and new', () => {
    // Perturb a copy of the exported model: scale the first convolution's weights.
    const base = readReport(join(tmp, 'base'));
    const exported = base.models[0].export.data!;
    expect(exported.source).toBe('checkpoint');
    const src = workDir('exports', exported.file);
    const model = loadOnnx(src);
    const conv = model.graph.nodes.find((n) => n.opType === 'Conv')!;
    const w = model.graph.initializers.get(conv.inputs[1])!;
    const v = Float32Array.from(w.toFloat32(), (x) => x * 0.6);
    model.graph.initializers.set(w.name, Tensor.float32(w.name, w.dims, v));
    const perturbed = join(tmp, 'perturbed.onnx');
    saveOnnx(model, perturbed);

    const r = runCli([...args(), '--out', join(tmp, 'pert'), '--check', '--model-file', `${MODEL}=${perturbed}`]);
    // stderr: the stage time lines, then exactly one error line, no stack trace
    expect(r.code).toBe(1);
    const errLines = r.stderr.trim().split('\n').filter((l) => l.startsWith('fdk: error'));
    expect(errLines).toHaveLength(1);
    expect(errLines[0]).toMatch(/baseline\.json: report check failed: \d+ regression/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const cur = readReport(join(tmp, 'pert'));
    expect(cur.models[0].export.data!.source).toBe('override');
    // the written report carries the same verdict
    expect(cur.check?.ok).toBe(false);
    expect(readFileSync(join(tmp, 'pert', 'report.md'), 'utf8')).toContain('## Check against the baseline: FAILED');
    const oldRow = base.models[0].accuracy.data!.rows[0];
    const newRow = cur.models[0].accuracy.data!.rows[0];
    // params/MACs did not change (same graph), so the table holds only AP rows, each naming old and new
    const failLines = r.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(failLines.length).toBeGreaterThan(0);
    let named = 0;
    for (const d of ['easy', 'medium', 'hard'] as const) {
      if (Math.abs(newRow[d] - oldRow[d]) <= 0.002) continue;
      const line = failLines.find((l) => l.includes(`AP ort@320 ${d}`));
      expect(line, `diff line for ${d}`).toBeDefined();
      const cols = line!.split(/\s{2,}/);
      expect(cols[1]).toBe(MODEL);
      expect(Number(cols[3])).toBeCloseTo(oldRow[d], 6);
      expect(Number(cols[4])).toBeCloseTo(newRow[d], 6);
      named++;
    }
    expect(named).toBe(failLines.length);
    expect(r.stdout).toMatch(/^\s+model\s+metric\s+old\s+new\s+why/m);
  });

  it('refuses a missing or corrupt baseline in one line, before running anything', () => {
    const missing = runCli(['report', '--models', MODEL, '--check', '--baseline', join(tmp, 'nope.json'), '--out', join(tmp, 'x')]);
    expectOneLineError(missing, 'nope.json');
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"format": "something else", "models": []}');
    const corrupt = runCli(['report', '--models', MODEL, '--check', '--baseline', bad, '--out', join(tmp, 'x')]);
    expectOneLineError(corrupt, /bad\.json: baseline is not an fdk report/);
  });

  it('rejects bad options in one line: unknown model, unknown stage, missing --model-file', () => {
    expectOneLineError(runCli(['report', '--models', 'nope', '--out', join(tmp, 'x')]), "unknown model id 'nope'");
    expectOneLineError(runCli(['report', '--stages', 'export,speed', '--out', join(tmp, 'x')]), "unknown 'speed'");
    expectOneLineError(runCli(['report', '--model-file', `${MODEL}=${join(tmp, 'missing.onnx')}`, '--out', join(tmp, 'x')]), 'missing.onnx');
  });
});
