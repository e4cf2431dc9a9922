/**
 * `fdk bench` on a model file without a description and with two dynamic inputs: `--input` fixes
 * named inputs in every case and gives the first input's sizes one case each; a dynamic input
 * left out is an error saying how to give it.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { A, GraphBuilder } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { expectOneLineError } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';

const tmp = mkdtempSync(join(tmpdir(), 'fdk-bench-any-'));

/** a [1,3,H,W] -> Conv 1x1 -> y; b [1,N] -> Relu -> z. */
function twoInputs(): string {
  const g = new GraphBuilder({ opset: 13 });
  const a = g.addInput('a', 'float32', [1, 3, 'H', 'W']);
  const b = g.addInput('b', 'float32', [1, 'N']);
  g.addOutput(g.op('Conv', [a, g.constFloat('w', [2, 3, 1, 1], new Float32Array(6).fill(0.25))], { kernel_shape: A.ints([1, 1]) }), 'y', 'float32');
  g.addOutput(g.op('Relu', [b]), 'z', 'float32');
  const p = join(tmp, 'two.onnx');
  saveOnnx(g.build(), p);
  return p;
}

describe('fdk bench on any model file', () => {
  const model = twoInputs();

  it('two dynamic inputs: sizes of the first one case each, the named one fixed in every case', async () => {
    const r = await runCliAsync(['bench', model, '--runtimes', 'ort', '--input', '1x3x8x10,1x3x16x20,b:1x7', '--warmup', '0', '--runs', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.schemaVersion).toBe(1);
    expect(j.cases.map((c: { input: string; error?: string }) => [c.input, c.error])).toEqual([['1x3x8x10,1x7', undefined], ['1x3x16x20,1x7', undefined]]);
  });

  it('a dynamic input left out, or a shape that does not fit, is one error line saying what to give', async () => {
    expectOneLineError(await runCliAsync(['bench', model, '--runtimes', 'ort']), "input 'b' has dynamic dims [1xN]; give them with --input b:1xN");
    expectOneLineError(await runCliAsync(['bench', model, '--runtimes', 'ort', '--input', 'b:1x7x2']), "--input b:1x7x2 does not fit the model's input 'b' [1xN]");
  });
});
