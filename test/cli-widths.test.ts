/**
 * Compact output (issue #16): every command's default table output fits 120 columns, on the
 * manifest models and on a third-party-like model with long layer and output names and a
 * many-input Concat; `--wide` keeps the full width; on a terminal, COLUMNS sets the width.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { A, GraphBuilder } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { fitTable, truncateMiddle, wrapText } from '../src/cli/table.js';
import { formatAccuracy } from '../src/cli/accuracy.js';
import type { AccuracyResult } from '../src/accuracy/run.js';
import { ROOT, TSX, shared, runCli, type CliResult } from './helpers/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'fdk-widths-'));
const UL = shared('models/ultra-light-1mb/onnx/version-RFB-320.onnx');
const LIMIT = 120;
let wide: string;

/** Columns a line takes on a terminal: escapes take none, every other code point one. */
const columns = (line: string) => [...line.replace(/\x1b\[[0-9;]*m/g, '')].length;
const widest = (text: string) => Math.max(0, ...text.split('\n').map(columns));

/** Every stdout line within 120 columns, and the command succeeded. */
function expectFits(r: CliResult, what: string): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0);
  expect(r.stdout.trim().length, what).toBeGreaterThan(0);
  const long = r.stdout.split('\n').filter((l) => columns(l) > LIMIT);
  expect(long, `${what}: lines over ${LIMIT} columns`).toEqual([]);
}

/** Conv with 70-character names, 8 branches into one Concat (a long 'input' cell), long output name. */
function wideModel(): string {
  const g = new GraphBuilder({ opset: 13 });
  const x = g.addInput('input', 'float32', [1, 3, 32, 32]);
  const stem = 'backbone.stage4.block12.depthwise_separable_convolution.pointwise';
  const w = (n: string, co: number, ci: number) => g.constFloat(n, [co, ci, 1, 1], Float32Array.from({ length: co * ci }, (_, i) => ((i % 7) - 3) / 10));
  const c = g.op('Conv', [x, w(`${stem}.weight`, 8, 3)], { kernel_shape: A.ints([1, 1]) }, `${stem}.Conv_with_a_very_long_exporter_generated_name`);
  const r = g.op('Relu', [c], {}, `${stem}.activation_function_Relu_of_the_pointwise_convolution`);
  const branches = Array.from({ length: 8 }, (_, i) => g.op('Conv', [r, w(`head.branch${i}.weight`, 4, 8)], { kernel_shape: A.ints([1, 1]) }, `detection_head.multi_scale_branch_${i}.regression_tower.Conv_final`));
  const cat = g.op('Concat', branches, { axis: A.int(1) }, 'detection_head.concatenate_all_multi_scale_branches_along_channels');
  g.addOutput(cat, 'detection_head_concatenated_multi_scale_regression_outputs_for_every_anchor', 'float32');
  const p = join(tmp, 'wide.onnx');
  saveOnnx(g.build(), p);
  return p;
}

beforeAll(() => {
  wide = wideModel();
});

describe('fitted tables (unit)', () => {
  it('cuts names in the middle and wraps free text at spaces', () => {
    expect(truncateMiddle('backbone.stage4.block12.conv', 11)).toBe('backb….conv');
    expect(truncateMiddle('short', 11)).toBe('short');
    expect(wrapText('0.8140 / 0.7100 / 0.3630', 10)).toEqual(['0.8140 /', '0.7100 /', '0.3630']);
    const t = fitTable(['name', 'value'], [['x'.repeat(200), '12,345']], [{}, { align: 'right' }], 40);
    expect(widest(t)).toBe(40);
    expect(t).toContain('12,345'); // numbers are never cut
    expect(t).toContain('…');
  });

  it('the accuracy table of the ten seed rows keeps full titles and triples within 120 columns', () => {
    const ap = { easy: 0.8482, medium: 0.7431, hard: 0.4809 };
    const titles = ['version-slim (original)', 'version-RFB (original)', 'version-slim (our)', 'version-RFB (our)', 'Retinaface-Mobilenet-0.25 (our)'];
    const rows = [320, 640].flatMap((longSide) => titles.map((title, i) => ({
      model: ['ulfd-slim', 'ulfd-rfb', 'slim', 'rfb', 'mnet0.25'][i], row: `r${i}-${longSide}`, title, longSide, ap, rerun: ap, published: { easy: 0.811, medium: 0.697, hard: 0.376 },
      diff: { easy: 1e-5, medium: -3e-4, hard: 0 }, withinTolerance: true, seconds: 123.4, imagesPerSecond: 4, predDir: '/tmp/preds/x',
      split: { decodeMs: 8.25, preprocessMs: 1.5, inferenceMs: 11.25, postprocessMs: 0.75, formatMs: 0.1 }, writeSeconds: 0.4, evalSeconds: 2.5,
    })));
    const text = formatAccuracy({ set: 'val-mini', images: 488, runtime: 'ort', jobs: 2, tolerance: 0.002, rows } as unknown as AccuracyResult);
    expect(widest(text)).toBeLessThanOrEqual(LIMIT);
    for (const t of [...titles, 'libfacedetection v1 (caffe)', '0.8482 / 0.7431 / 0.4809', '0.811 / 0.697 / 0.376', '−0.0003']) expect(text).toContain(t);
    expect(text).not.toContain('-0.0000'); // a difference that rounds to zero has no sign
  });
});

describe('every command fits 120 columns', () => {
  it('analyze: per-layer and summary tables, manifest model and long names', () => {
    expectFits(runCli(['analyze', UL]), 'analyze ulfd-rfb');
    const r = runCli(['analyze', wide]);
    expectFits(r, 'analyze wide');
    expect(r.stdout).toContain('…'); // the long names were cut, not dropped
    expect(r.stdout).toMatch(/│ Concat\s+│/);
    expectFits(runCli(['analyze', wide, '--no-layers']), 'analyze --no-layers');
    // --wide: the same table at its natural width
    expect(widest(runCli(['analyze', wide, '--wide']).stdout)).toBeGreaterThan(LIMIT);
  });

  it('models list', () => {
    expectFits(runCli(['models', 'list']), 'models list');
    expect(widest(runCli(['models', 'list', '--wide']).stdout)).toBeGreaterThan(LIMIT);
  });

  it('bench, with a baseline column', () => {
    const args = ['bench', wide, '--runtimes', 'ort,ort-wasm', '--runs', '2', '--warmup', '0', '--threads', '1'];
    const first = runCli([...args, '--json']);
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(join(tmp, 'base.json'), first.stdout);
    const r = runCli([...args, '--baseline', join(tmp, 'base.json')]);
    expectFits(r, 'bench');
    expect(r.stdout).toMatch(/vs\s+│?\s*baseline|vs baseline/);
  }, 120_000);

  it('parity: synthetic (long output names) and described images (detections table)', () => {
    expectFits(runCli(['parity', wide, '--runtimes', 'ort,ort-wasm']), 'parity wide');
    const r = runCli(['parity', 'ulfd-slim-320', '--runtimes', 'ort,ort-wasm', '--max-images', '1']);
    expectFits(r, 'parity ulfd-slim-320');
    expect(r.stdout).toMatch(/parity: ok/);
  }, 120_000);

  it('convert --to ncnn and --to onnx summaries', () => {
    expectFits(runCli(['convert', wide, '--to', 'ncnn', '--out', tmp]), 'convert ncnn');
    expectFits(runCli(['convert', wide, '--to', 'onnx', '--out', tmp, '--force']), 'convert onnx');
  });

  it('accuracy and eval', () => {
    const list = join(tmp, 'sub.txt');
    writeFileSync(list, readFileSync(shared('wider/val-mini/list.txt'), 'utf8').split('\n').slice(0, 3).join('\n') + '\n');
    const r = runCli(['accuracy', '--model', 'mnet0.25,ulfd-slim', '--long-side', '320', '--subset', list, '--jobs', '1', '--out', join(tmp, 'preds')]);
    expectFits(r, 'accuracy');
    expect(r.stdout).toMatch(/Retinaface-Mobilene/);
    expectFits(runCli(['eval', join(tmp, 'preds', 'mnet0.25-320'), '--subset', list]), 'eval');
  }, 120_000);

  it("report's console summary (--check)", () => {
    const r = runCli(['report', '--from', resolve(ROOT, 'reports/baseline.json'), '--check', '--out', join(tmp, 'report')]);
    expectFits(r, 'report --check');
    expect(r.stdout).toMatch(/check passed/);
  });

  it('on a terminal, COLUMNS sets the width', () => {
    const cli = `${JSON.stringify(process.execPath)} --import ${JSON.stringify(TSX)} ${JSON.stringify(resolve(ROOT, 'src/cli/entry.ts'))}`;
    const out = spawnSync('script', ['-qec', `env -u CI COLUMNS=80 NO_COLOR=1 ${cli} analyze ${JSON.stringify(wide)}`, '/dev/null'], { encoding: 'utf8' }).stdout;
    expect(out).toMatch(/Concat/);
    expect(widest(out.replace(/\r/g, ''))).toBeLessThanOrEqual(80);
  });
});
