/**
 * The int8 recipe of a model description (`int8`, src/quantize/cached.ts int8Plan): the manifest's
 * seed models carry the recipes measured on full WIDER val (docs/int8.md), `fdk accuracy --runtime
 * ncnn-int8` and the report's ncnn-int8 row make their int8 model with it and name it, and
 * --int8-method / --int8-auto-keep replace its fields. The CLI runs quantize rfb at 320 with its
 * recipe (200 calibration images, six layers kept fp32; cached in .fdk/int8 after the first run).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getModel } from '../src/models/manifest.js';
import { int8Plan } from '../src/quantize/cached.js';
import { DEFAULT_METHOD } from '../src/quantize/thresholds.js';
import { describeExport } from '../src/convert/onnx-export.js';
import { expectOneLineError, runCli, shared } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';
import { tmp } from './ncnn-helpers.js';

const dir = tmp('fdk-int8-recipe-');
/** Two val-mini images: the AP run is cheap, the calibration (wider/calib-200) is what costs. */
const subset = join(dir, 'two.txt');
writeFileSync(subset, readFileSync(shared('wider/val-mini/list.txt'), 'utf8').split('\n').slice(0, 2).join('\n') + '\n');

/** Quantizable ncnn layers of a .param and how many of them stay fp32 (no int8_scale_term `8=`). */
function precisionOf(param: string): { quantizable: number; fp32: number } {
  const layers = readFileSync(param, 'utf8').split('\n').filter((l) => /^(Convolution|ConvolutionDepthWise|InnerProduct)\s/.test(l));
  return { quantizable: layers.length, fp32: layers.filter((l) => !/ 8=\d/.test(l)).length };
}

describe('int8 recipe in the model description', () => {
  it('the manifest: slim percentile with every layer int8, rfb and mnet0.25 percentile with 6 layers fp32; Ultra-Light the default', () => {
    expect(int8Plan(getModel('slim'))).toEqual({ method: 'percentile', from: 'model description', label: 'percentile, all layers int8' });
    for (const id of ['rfb', 'mnet0.25'])
      expect(int8Plan(getModel(id))).toEqual({ method: 'percentile', autoKeep: 6, from: 'model description', label: 'percentile, 6 layers fp32' });
    expect(int8Plan(getModel('ulfd-slim-320'))).toEqual({ method: DEFAULT_METHOD, from: 'default', label: `${DEFAULT_METHOD}, all layers int8` });
  });

  it('command-line fields replace the recipe field by field; --int8-auto-keep 0 = every layer int8', () => {
    expect(int8Plan(getModel('rfb'), { autoKeep: 0 })).toEqual({ method: 'percentile', from: 'command line', label: 'percentile, all layers int8' });
    expect(int8Plan(getModel('rfb'), { method: 'kl' })).toEqual({ method: 'kl', autoKeep: 6, from: 'command line', label: 'kl, 6 layers fp32' });
    expect(int8Plan(getModel('slim'), { autoKeep: 2 }).label).toBe('percentile, 2 layers fp32');
  });

  it("an export of a checkpoint does not carry the recipe (it was measured on the manifest's weights)", () => {
    expect(getModel('rfb').description.int8).toBeDefined();
    expect(describeExport('rfb', { postprocess: true }).int8).toBeUndefined();
  });
});

describe('fdk accuracy --runtime ncnn-int8 and the report row use the recipe (rfb, 320)', () => {
  let row: { ap: { easy: number; medium: number; hard: number }; int8: { method: string; autoKeep?: number; from: string; label: string; model: string } };
  beforeAll(async () => {
    const r = await runCliAsync(['accuracy', '--model', 'rfb', '--long-side', '320', '--runtime', 'ncnn-int8', '--subset', subset, '--jobs', '1', '--out', join(dir, 'preds'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    row = JSON.parse(r.stdout).rows[0];
  }, 900_000);

  it('the JSON names the recipe, and the int8 model it ran keeps exactly 6 layers fp32', () => {
    expect(row.int8).toMatchObject({ method: 'percentile', autoKeep: 6, from: 'model description', label: 'percentile, 6 layers fp32' });
    const p = precisionOf(row.int8.model);
    expect(p.quantizable).toBeGreaterThan(20);
    expect(p.fp32).toBe(6);
  });

  it('the text output says which recipe', async () => {
    const r = await runCliAsync(['accuracy', '--model', 'rfb', '--long-side', '320', '--runtime', 'ncnn-int8', '--subset', subset, '--jobs', '1', '--out', join(dir, 'preds')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('int8 recipe of rfb-320: percentile, 6 layers fp32 (model description).');
  }, 300_000);

  it('the report row runs the same int8 model (same AP on the same images) and names the recipe', async () => {
    const out = join(dir, 'report');
    const r = await runCliAsync(['report', '--models', 'rfb', '--stages', 'export,accuracy', '--accuracy-runtimes', 'ncnn-int8', '--int8-for', 'rfb', '--long-side', '320', '--subset', subset, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const a = rep.models[0].accuracy.data.rows[0];
    expect(a.runtime).toBe('ncnn-int8');
    expect(a.int8).toMatchObject({ method: 'percentile', autoKeep: 6, from: 'model description', label: 'percentile, 6 layers fp32' });
    expect([a.easy, a.medium, a.hard]).toEqual([row.ap.easy, row.ap.medium, row.ap.hard].map((v) => Math.round(v * 1e6) / 1e6));
    expect(rep.options.notes).toContain('ncnn-int8 recipe: rfb percentile, 6 layers fp32 (model description).');
  }, 300_000);
});

describe('--int8-method / --int8-auto-keep: bad input is one error line', () => {
  it('without an ncnn-int8 row', () => {
    expectOneLineError(runCli(['accuracy', '--model', 'rfb', '--int8-auto-keep', '2']), /--int8-method and --int8-auto-keep apply to ncnn-int8 accuracy rows/);
  });
  it('an unknown method, a count that is not a whole number', () => {
    expectOneLineError(runCli(['accuracy', '--model', 'rfb', '--runtime', 'ncnn-int8', '--int8-method', 'fancy']), /bad --int8-method 'fancy': expected one of kl, aciq, minmax, percentile, eq/);
    const out = join(dir, 'bad-report');
    expectOneLineError(runCli(['report', '--accuracy-runtimes', 'ncnn-int8', '--int8-auto-keep', '-1', '--out', out]), /bad --int8-auto-keep '-1'/);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
  });
});
