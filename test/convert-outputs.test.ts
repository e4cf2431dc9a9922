/**
 * Where `fdk convert` writes and what it may overwrite: `./fdk-out/` under the working directory
 * (or `--out DIR`), names that carry the options, identical bytes left alone ("unchanged"), a
 * different model refused without --force, and `-o` onto a symlink / directory / FIFO / device refused.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnnx } from '../src/onnx/io.js';
import { shared, runCli, expectOneLineError } from './helpers/index.js';

const PTH = shared('models/ultra-light-1mb/pretrained/version-slim-320.pth');
const ONNX = shared('models/ultra-light-1mb/onnx/version-slim-320_simplified.onnx');
const fresh = () => mkdtempSync(join(tmpdir(), 'fdk-outputs-'));
const noTemps = (dir: string) => expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

describe('fdk convert: outputs', () => {
  it('default names under ./fdk-out carry -nopost / -foldbn / -fp16, so variants never overwrite each other', () => {
    const cwd = fresh();
    const run = (...a: string[]) => {
      const r = runCli(['convert', ...a, '--json'], { cwd });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const plain = run(PTH, '--arch', 'ulfd-slim-320', '--to', 'onnx');
    const nopost = run(PTH, '--arch', 'ulfd-slim-320', '--to', 'onnx', '--no-postprocess');
    const fold = run(PTH, '--arch', 'ulfd-slim-320', '--to', 'onnx', '--fold-bn', '--no-postprocess');
    const out = join(cwd, 'fdk-out');
    expect([plain.output, nopost.output, fold.output]).toEqual(['version-slim-320', 'version-slim-320-nopost', 'version-slim-320-foldbn-nopost'].map((n) => join(out, `${n}.onnx`)));
    // the files really differ the way their names say
    expect(loadOnnx(plain.output).graph.nodes.some((n) => n.opType === 'Exp')).toBe(true);
    expect(loadOnnx(nopost.output).graph.nodes.some((n) => n.opType === 'Exp')).toBe(false);
    expect(loadOnnx(fold.output).graph.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);

    const n32 = run(ONNX, '--to', 'ncnn');
    const n16 = run(ONNX, '--to', 'ncnn', '--fp16');
    expect([n32.param, n16.param]).toEqual([join(out, 'version-slim-320_simplified.param'), join(out, 'version-slim-320_simplified-fp16.param')]);
    expect(statSync(n16.bin).size).toBeLessThan(statSync(n32.bin).size);

    const other = fresh();
    const o = run(ONNX, '--to', 'onnx', '--out', other);
    expect(o.output).toBe(join(other, 'version-slim-320_simplified.clean.onnx'));
    noTemps(out);
  });

  it('the same model again is "unchanged" (file untouched); a different one needs --force', () => {
    const dir = fresh();
    const target = join(dir, 'm.onnx');
    const first = runCli(['convert', PTH, '--arch', 'ulfd-slim-320', '--to', 'onnx', '-o', target, '--json']);
    expect(JSON.parse(first.stdout).outcome).toBe('written');
    const before = statSync(target);
    const again = runCli(['convert', PTH, '--arch', 'ulfd-slim-320', '--to', 'onnx', '-o', target]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/unchanged/);
    expect(statSync(target).ino).toBe(before.ino);
    expect(statSync(target).mtimeMs).toBe(before.mtimeMs);

    const bytes = readFileSync(target);
    const differ = runCli(['convert', PTH, '--arch', 'ulfd-slim-320', '--to', 'onnx', '--fold-bn', '-o', target]);
    expectOneLineError(differ, `${target}: exists and holds a different model; pass --force`);
    expect(readFileSync(target).equals(bytes)).toBe(true);
    noTemps(dir);
    const forced = runCli(['convert', PTH, '--arch', 'ulfd-slim-320', '--to', 'onnx', '--fold-bn', '-o', target, '--force', '--json']);
    expect(JSON.parse(forced.stdout).outcome).toBe('replaced');
    expect(loadOnnx(target).graph.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
  });

  it('-o onto a symlink, a directory, a FIFO or a device is refused; nothing is written', () => {
    const dir = fresh();
    const real = join(dir, 'real.onnx');
    writeFileSync(real, 'x');
    const link = join(dir, 'link.onnx');
    symlinkSync(real, link);
    const sub = join(dir, 'sub.onnx');
    mkdirSync(sub);
    const fifo = join(dir, 'pipe.onnx');
    execFileSync('mkfifo', [fifo]);
    const cases: [string, RegExp][] = [
      [link, /link\.onnx: -o: is a symbolic link/],
      [sub, /sub\.onnx: -o: is a directory/],
      [fifo, /pipe\.onnx: -o: is not a regular file/],
      ['/dev/null', /\/dev\/null: -o: is not a regular file/],
    ];
    for (const [target, msg] of cases) expectOneLineError(runCli(['convert', ONNX, '--to', 'onnx', '-o', target]), msg);
    expect(readFileSync(real, 'utf8')).toBe('x');
    symlinkSync(real, join(dir, 'n.param')); // ncnn: either file of the prefix counts
    expectOneLineError(runCli(['convert', ONNX, '--to', 'ncnn', '-o', join(dir, 'n')], { cwd: dir }), /n\.param: -o: is a symbolic link/);
    expect(existsSync(join(dir, 'n.bin'))).toBe(false);
    noTemps(dir);
    expect(existsSync(join(dir, 'fdk-out'))).toBe(false);
  });
});
