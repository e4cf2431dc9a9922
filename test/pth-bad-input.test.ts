/**
 * Bad input to `fdk convert X.pth --to onnx`: one error line naming the file and the problem,
 * non-zero exit, no stack trace, and no output file left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectOneLineError, runCli, shared } from './helpers/index.js';
import { fixturesFrom, maliciousLegacy, maliciousZip, zipCheckpoint } from './pth-fixtures.js';
import { loadCheckpoint } from '../src/convert/pytorch/checkpoint.js';

const SLIM = shared('models/retinaface-1mb/slim_Final.pth');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fdk-pth-bad-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function convert(file: string, ...args: string[]) {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.onnx`);
  const r = runCli(['convert', file, '--to', 'onnx', '-o', out, ...args]);
  return { r, out };
}

describe('fdk convert --to onnx: bad checkpoints', () => {
  it.each([
    ['inside the storage data', 0.6],
    ['inside the state_dict pickle', 0.002],
  ])('a truncated .pth (cut %s) fails with one line', (_what, frac) => {
    const full = readFileSync(SLIM);
    const f = join(dir, `truncated-${frac}.pth`);
    writeFileSync(f, full.subarray(0, Math.floor(full.length * frac)));
    const { r, out } = convert(f, '--arch', 'slim');
    expectOneLineError(r, f);
    expect(r.stderr).toMatch(/truncated/);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    ['zip', 'os', 'system'],
    ['legacy', 'builtins', 'eval'],
    ['zip', 'torch', 'load'],
  ])('a %s pickle naming the global %s.%s is refused before anything runs', (format, module, name) => {
    const f = join(dir, `evil-${format}-${name}.pth`);
    writeFileSync(f, format === 'zip' ? maliciousZip(module, name) : maliciousLegacy(module, name));
    const { r, out } = convert(f, '--arch', 'slim');
    expectOneLineError(r, f);
    expect(r.stderr).toContain(`'${module}.${name}'`);
    expect(existsSync(out)).toBe(false);
  });

  it('a checkpoint given with the wrong --arch lists missing and unexpected keys in one error', () => {
    const { r, out } = convert(SLIM, '--arch', 'mnet0.25');
    expectOneLineError(r, SLIM);
    expect(r.stderr).toMatch(/does not match --arch mnet0\.25/);
    expect(r.stderr).toMatch(/missing key\(s\): body\.stage1\.0\.0\.weight/);
    expect(r.stderr).toMatch(/unexpected key\(s\): conv1\.0\.weight/);
    expect(existsSync(out)).toBe(false);
  });

  it('slim weights as rfb: the differing block (conv8) is named; Ultra-Light 320 weights as seed rfb fail too', () => {
    const a = convert(SLIM, '--arch', 'rfb');
    expectOneLineError(a.r, /missing key\(s\): conv8\.branch0/);
    expect(a.r.stderr).toMatch(/unexpected key\(s\): conv8\.0\.weight/);
    const ulfd = shared('models/ultra-light-1mb/pretrained/version-RFB-320.pth');
    const b = convert(ulfd, '--arch', 'ulfd-slim');
    expectOneLineError(b.r, /missing key\(s\): base_net\.7\.0\.weight/);
  });

  it('a shape mismatch is reported with both shapes (zip checkpoint with one reshaped tensor)', () => {
    const t = fixturesFrom(loadCheckpoint(SLIM).tensors);
    const i = t.findIndex(([k]) => k === 'loc.1.2.weight'); // [8, 128, 1, 1]
    t[i][1].shape = [8, 128];
    const f = join(dir, 'reshaped.pth');
    writeFileSync(f, zipCheckpoint(t));
    const { r, out } = convert(f, '--arch', 'slim');
    expectOneLineError(r, f);
    expect(r.stderr).toMatch(/1 shape mismatch\(es\).*loc\.1\.2\.weight \[8x128\] vs \[8x128x1x1\]/);
    expect(r.stderr).not.toMatch(/missing|unexpected/);
    expect(existsSync(out)).toBe(false);
  });

  it('empty file, not a checkpoint, missing file, unknown arch, bad opset, missing --arch', () => {
    const empty = join(dir, 'empty.pth');
    writeFileSync(empty, '');
    expectOneLineError(convert(empty, '--arch', 'slim').r, /empty\.pth: empty file/);
    const text = join(dir, 'text.pth');
    writeFileSync(text, 'hello world, not a checkpoint\n');
    expectOneLineError(convert(text, '--arch', 'slim').r, /text\.pth: not a PyTorch checkpoint/);
    expectOneLineError(convert(join(dir, 'nope.pth'), '--arch', 'slim').r, /nope\.pth: no such file/);
    expectOneLineError(convert(SLIM, '--arch', 'resnet50').r, /unknown --arch 'resnet50'/);
    expectOneLineError(convert(SLIM, '--arch', 'slim', '--opset', '7').r, /unsupported --opset 7/);
    expectOneLineError(convert(SLIM).r, /--arch is required/);
  });
});
