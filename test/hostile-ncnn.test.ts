/**
 * Found by `npm run fuzz` (param target): hostile numbers in an ncnn .param gave RangeErrors from
 * typed arrays in the .bin reader and hung the analysis (a Concat axis of 2^31 - 1 grew a sparse
 * 2^31-element dims array). Now one error line naming the file. Files are the shared Ultra-Light
 * .param/.bin with one value changed.
 */
import { describe, it, expect } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, expectOneLineError, shared } from './helpers/index.js';
import { parseParam, readBin } from '../src/convert/ncnn/format/index.js';

const dir = mkdtempSync(join(tmpdir(), 'fdk-hostile-ncnn-'));
const PARAM = shared('models/ultra-light-1mb/ncnn/slim-320.param');
const BIN = shared('models/ultra-light-1mb/ncnn/slim-320.bin');

/** The slim .param with `edit` applied to its text, written beside a copy of the real .bin. */
function edited(name: string, edit: (t: string) => string): string {
  const text = readFileSync(PARAM, 'utf8');
  const out = edit(text);
  expect(out).not.toBe(text);
  const p = join(dir, `${name}.param`);
  writeFileSync(p, out);
  copyFileSync(BIN, join(dir, `${name}.bin`));
  return p;
}

describe('ncnn .param with hostile numbers', () => {
  it('the unedited model analyzes (so the failures below are about the edit)', () => {
    const p = edited('ok', (t) => t + '\n');
    const r = runCli(['analyze', p, '--json', '--input', '1x3x240x320']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a Concat axis of 2^31 - 1: an error naming the file and the layer, not a hang', () => {
    const p = edited('axis', (t) => t.replace(/^(Concat\s+\S+\s+\d+ 1 [^\n]*?) 0=\d+/m, '$1 0=2147483647'));
    expectOneLineError(runCli(['analyze', p, '--input', '1x3x240x320']), /axis\.param: layer '.*' \(Concat\): axis 2147483647 is outside the input's \d+ dims/);
  });

  it('a negative weight data size: an error naming the layer, not "Invalid typed array length"', () => {
    const text = readFileSync(PARAM, 'utf8').replace(/^(Convolution\s[^\n]*) 6=\d+/m, '$1 6=-1');
    const { layers } = parseParam(text, 'neg.param');
    expect(() => readBin(readFileSync(BIN), layers, 'neg.bin')).toThrow(/neg\.bin: layer '.*' \(Convolution\): weight count -1 from the \.param is not a non-negative integer/);
    const p = edited('neg', (t) => t.replace(/^(Convolution\s[^\n]*) 6=\d+/m, '$1 6=-1'));
    expectOneLineError(runCli(['analyze', p, '--input', '1x3x240x320']), /neg\.(param|bin): /);
  });
});
