/**
 * Never a silent wrong model: converting a model whose constants were computed for one input size
 * (Linzaer's baked 4,420-entry prior table) at another size either regenerates those constants from
 * the model's description, or, without a description, stops with one line naming the node, the
 * dims and the size to use, and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportedOnnxPath } from '../src/convert/onnx-export.js';
import { getModel } from '../src/models/manifest.js';
import { compareRuns, inputFor, ncnn, ort } from './ncnn-helpers.js';
import { expectOneLineError, shared } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';

const SLIM = shared('models/ultra-light-1mb/onnx/version-slim-320.onnx');
const tmp = () => mkdtempSync(join(tmpdir(), 'fdk-sizecheck-'));

describe('fdk convert --to ncnn --input at a size the baked constants do not fit', () => {
  it('without a description (a copy outside the data folder) at 1x3x480x640: refused (17640 vs 4420 priors), nothing written', async () => {
    const dir = tmp();
    const copy = join(dir, 'slim.onnx');
    copyFileSync(SLIM, copy);
    const r = await runCliAsync(['convert', copy, '--to', 'ncnn', '--input', 'input:1x3x480x640', '-o', join(dir, 'out', 'slim')]);
    expectOneLineError(r, /slim\.onnx: the model does not fit input input:1x3x480x640: .*node '381'.*\[1,17640,2\] and \[1,4420,2\] do not broadcast.*convert at the size it was made for \(--input input:1x3x240x320\)/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['slim.onnx']);
  });

  it('with its description (the manifest file) at 1x3x480x640: prior tables regenerated; real ncnn equals an export that computes priors in the graph', async () => {
    const dir = tmp();
    const r = await runCliAsync(['convert', SLIM, '--to', 'ncnn', '--input', 'input:1x3x480x640', '-o', join(dir, 'slim'), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).regeneratedPriors.sort()).toEqual(['380', '382', '388']);
    const side = JSON.parse(readFileSync(join(dir, 'slim.fdk.json'), 'utf8'));
    expect(side.input.resize).toMatchObject({ mode: 'fixed', width: 640, height: 480 });
    expect(side.decode.boxesDecoded).toBe(true);
    // reference: fdk's export of the same weights with the decoding tail computed from the input size
    const a = await (await ort()).load(exportedOnnxPath('ulfd-slim-320', { dynamic: true }));
    const b = await (await ncnn()).load(join(dir, 'slim.param'));
    try {
      const x = await inputFor(shared('images/seed-sample.jpg'), { ...getModel('ulfd-slim-640') });
      expect(x.dims).toEqual([1, 3, 480, 640]);
      const d = await compareRuns(a, b, { input: x });
      expect(d.boxes).toBeLessThan(1e-4);
      expect(d.scores).toBeLessThan(1e-4);
    } finally {
      await a.release();
      await b.release();
    }
  });

  it('at its own size: converts, and the sidecar says the boxes come out decoded', async () => {
    const dir = tmp();
    const r = await runCliAsync(['convert', SLIM, '--to', 'ncnn', '--input', 'input:1x3x240x320', '-o', join(dir, 'slim'), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const side = JSON.parse(readFileSync(join(dir, 'slim.fdk.json'), 'utf8'));
    expect(side.decode).toMatchObject({ family: 'prior', variant: 'ultra-light', boxesDecoded: true });
    expect(readdirSync(dir).sort()).toEqual(['slim.bin', 'slim.fdk.json', 'slim.param']);
  });
});
