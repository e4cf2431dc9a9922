/**
 * CLI manners (issue #16): --version, --input as one comma-separated value (never swallowing the
 * model path), a quiet exit when the reader of a pipe goes away, colour only on a terminal and
 * never with NO_COLOR, schemaVersion in --json, errors that name the option.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { A, GraphBuilder } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { ROOT, TSX, shared, runCli, expectOneLineError } from './helpers/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'fdk-manners-'));
const UL = shared('models/ultra-light-1mb/onnx/version-RFB-320.onnx');
const CLI = `${JSON.stringify(process.execPath)} --import ${JSON.stringify(TSX)} ${JSON.stringify(resolve(ROOT, 'src/cli/entry.ts'))}`;

/** Two inputs with dynamic dims: a [1,3,H,W] image path and b [1,N] through a 600-node Relu chain. */
function twoInputModel(): string {
  const g = new GraphBuilder({ opset: 13 });
  const a = g.addInput('a', 'float32', [1, 3, 'H', 'W']);
  const b = g.addInput('b', 'float32', [1, 'N']);
  const y = g.op('Conv', [a, g.constFloat('w', [4, 3, 1, 1], new Float32Array(12).fill(0.5))], { kernel_shape: A.ints([1, 1]) });
  let z = b;
  for (let i = 0; i < 600; i++) z = g.op('Relu', [z]);
  g.addOutput(y, 'y', 'float32');
  g.addOutput(z, 'z', 'float32');
  const p = join(tmp, 'two.onnx');
  saveOnnx(g.build(), p);
  return p;
}

describe('CLI manners', () => {
  it('one model-id resolver: the short Ultra-Light ids mean the 320 model in bench and parity as in detect', () => {
    for (const args of [['bench', 'ulfd-rfb', '--runtimes', 'ort', '--runs', '1', '--warmup', '0', '--json'], ['parity', 'ulfd-rfb', '--runtimes', 'ort,ort-wasm', '--max-images', '1', '--json']]) {
      const r = runCli(args);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).model.id ?? JSON.parse(r.stdout).model).toMatch(/ulfd-rfb-320|version-RFB-320/);
    }
  });

  it('--version prints the package version', () => {
    const r = runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('--input takes one value: before the model path it does not swallow it; a comma list sets several inputs', () => {
    const r = runCli(['analyze', '--input', '1x3x240x320', UL, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.schemaVersion).toBe(1);
    expect(j.inputShapes).toEqual({ input: [1, 3, 240, 320] });

    const two = twoInputModel();
    const m = runCli(['analyze', '--input', 'a:1x3x8x10,b:1x7', two, '--json']);
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout).inputShapes).toEqual({ a: [1, 3, 8, 10], b: [1, 7] });
  });

  it('a closed pipe (| head) ends fdk quietly with exit 0', () => {
    const two = twoInputModel();
    // the --json report is far larger than a pipe buffer, so fdk is still writing when head exits
    const r = spawnSync('bash', ['-c', `${CLI} analyze ${JSON.stringify(two)} --input a:1x3x8x10,b:1x7 --json 2>${join(tmp, 'err.txt')} | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(r.stdout.trim()).toBe('0');
    expect(readFileSync(join(tmp, 'err.txt'), 'utf8')).toBe('');
  });

  it('colour only on a terminal, never with NO_COLOR', () => {
    const onTty = (env: string) => spawnSync('script', ['-qec', `env -u CI ${env} ${CLI} analyze ${JSON.stringify(UL)} --no-layers`, '/dev/null'], { encoding: 'utf8' }).stdout;
    expect(onTty('')).toMatch(/\x1b\[/); // a terminal: the table is coloured
    expect(onTty('NO_COLOR=1')).not.toMatch(/\x1b\[/);
    expect(runCli(['analyze', UL, '--no-layers'], { env: { ...process.env, CI: '', FORCE_COLOR: '' } }).stdout).not.toMatch(/\x1b\[/); // a pipe
  });

  it('errors name the option the value came from', () => {
    expectOneLineError(runCli(['analyze', UL, '--input', '1x3xAx320']), "bad --input '1x3xAx320'");
    expectOneLineError(runCli(['bench', UL, '--threads', 'two']), "bad --threads 'two'");
    expectOneLineError(runCli(['parity', UL, '--map', 'boxes']), "bad --map 'boxes'");
    expectOneLineError(runCli(['convert', UL, '--to', 'onnx', '-o', join(tmp, 'a.onnx'), '--out', tmp]), 'either -o (a file) or --out (a folder)');
  });
});
