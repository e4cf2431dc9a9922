/** Bad input to `fdk convert --to ncnn`: one clear error line, non-zero exit, no output files left. */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, expectOneLineError, shared } from './helpers/index.js';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { tmp } from './ncnn-helpers.js';

const dir = tmp('fdk-ncnn-bad-');

/** A tiny valid graph: input [1,3,8,8] -> Conv(3x3, 4 filters) -> extra(op) -> output. */
function tinyModel(name: string, tail?: (b: GraphBuilder, x: string) => string, weightFromInput = false): string {
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('input', 'float32', [1, 3, 8, 8]);
  let w: string;
  if (weightFromInput) {
    w = b.addInput('w', 'float32', [1, 3, 3, 3]); // a weight fed at run time
  } else w = b.constFloat('w', [4, 3, 3, 3], new Float32Array(108).map((_, i) => Math.sin(i)));
  let y = b.op('Conv', [x, w], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]) });
  if (tail) y = tail(b, y);
  b.addOutput(y, 'out', 'float32');
  const p = join(dir, `${name}.onnx`);
  saveOnnx(b.build(), p);
  return p;
}

const noOutputs = (prefix: string) => {
  expect(existsSync(`${prefix}.param`)).toBe(false);
  expect(existsSync(`${prefix}.bin`)).toBe(false);
  expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
};

describe('fdk convert --to ncnn: bad input', () => {
  it('the tiny model itself converts (so the failures below are about the defect)', () => {
    const prefix = join(dir, 'ok');
    const r = runCli(['convert', tinyModel('ok'), '--to', 'ncnn', '-o', prefix, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).ncnnLayers).toBe(2);
    expect(readFileSync(`${prefix}.param`, 'utf8')).toMatch(/^Convolution\s+\S+\s+1 1 input out 0=4 1=3 11=3/m);
  });

  it('a truncated ONNX file', () => {
    const src = readFileSync(shared('models/ultra-light-1mb/onnx/version-slim-320_simplified.onnx'));
    const p = join(dir, 'truncated.onnx');
    writeFileSync(p, src.subarray(0, Math.floor(src.length / 3)));
    const prefix = join(dir, 'truncated');
    const r = runCli(['convert', p, '--to', 'ncnn', '-o', prefix]);
    expectOneLineError(r, 'truncated.onnx');
    noOutputs(prefix);
  });

  it('an op ncnn has no mapping for: names the op and the node', () => {
    const p = tinyModel('unsupported', (b, y) => b.op('Hardmax', [y], { axis: A.int(1) }, 'my_hardmax'));
    const prefix = join(dir, 'unsupported');
    const r = runCli(['convert', p, '--to', 'ncnn', '-o', prefix]);
    expectOneLineError(r, /unsupported\.onnx.*my_hardmax.*Hardmax.*unsupported op Hardmax/);
    noOutputs(prefix);
  });

  it('a convolution weight computed at run time', () => {
    const p = tinyModel('runtime-weight', undefined, true);
    const prefix = join(dir, 'runtime-weight');
    const r = runCli(['convert', p, '--to', 'ncnn', '-o', prefix]);
    expectOneLineError(r, /runtime-weight\.onnx.*\(Conv\).*weight.*must be a constant.*computed at run time/);
    noOutputs(prefix);
  });

  it('an output path that cannot be written', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'x');
    const r = runCli(['convert', tinyModel('ok2'), '--to', 'ncnn', '-o', join(blocker, 'sub', 'model')]);
    expectOneLineError(r, 'a-file');
    expect(existsSync(join(blocker, 'sub'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('model') || f.endsWith('.tmp'))).toEqual([]);
  });

  it('a missing file and a non-ONNX input', () => {
    expectOneLineError(runCli(['convert', join(dir, 'nope.onnx'), '--to', 'ncnn']), 'nope.onnx: no such file');
    expectOneLineError(runCli(['convert', shared('models/ultra-light-1mb/ncnn/slim-320.param'), '--to', 'ncnn']), 'slim-320.param');
  });

  it('--input naming an input the model does not have', () => {
    const r = runCli(['convert', tinyModel('ok3'), '--to', 'ncnn', '--input', 'image:1x3x8x8', '-o', join(dir, 'ok3')]);
    expectOneLineError(r, /'image'.*input/);
  });
});
