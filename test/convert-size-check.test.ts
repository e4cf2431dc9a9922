/**
 * Never a silent wrong model: converting a model whose constants were computed for one input size
 * (Linzaer's baked 4,420-entry prior table) at another size stops with one line naming the node,
 * the dims and the size to use, and writes nothing; at its own size it converts, with the
 * description written beside the .param.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectOneLineError, runCli, shared } from './helpers/index.js';

const SLIM = shared('models/ultra-light-1mb/onnx/version-slim-320.onnx');

describe('fdk convert --to ncnn --input at a size the constants do not fit', () => {
  it('version-slim-320.onnx at 1x3x480x640: refused (17640 vs 4420 priors), nothing written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdk-sizecheck-'));
    const r = runCli(['convert', SLIM, '--to', 'ncnn', '--input', 'input:1x3x480x640', '-o', join(dir, 'out', 'slim')]);
    expectOneLineError(r, /version-slim-320\.onnx: the model does not fit input input:1x3x480x640: .*node '381'.*\[1,17640,2\] and \[1,4420,2\] do not broadcast.*convert at the size it was made for \(--input input:1x3x240x320\)/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('at its own size: converts, and the sidecar says the boxes come out decoded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdk-sizecheck-'));
    const r = runCli(['convert', SLIM, '--to', 'ncnn', '--input', 'input:1x3x240x320', '-o', join(dir, 'slim'), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const side = JSON.parse(readFileSync(join(dir, 'slim.fdk.json'), 'utf8'));
    expect(side.decode).toMatchObject({ family: 'prior', variant: 'ultra-light', boxesDecoded: true });
    expect(readdirSync(dir).sort()).toEqual(['slim.bin', 'slim.fdk.json', 'slim.param']);
  });
});
