/**
 * `thop` params for weights the exporter stored in Constant nodes (or as a constant subgraph such
 * as Transpose(W)) instead of graph initializers: the same network built both ways must report the
 * same params and MACs, equal to the closed-form count computed here. onnx-tool keeps to
 * initializers (its own rule), so its params differ on the Constant-node variant.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { A, GraphBuilder } from '../src/onnx/builder.js';
import { Tensor } from '../src/onnx/tensor.js';
import { saveOnnx } from '../src/onnx/io.js';
import { runCli } from './helpers/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'fdk-constw-'));
const Cin = 3, Cout = 8, K = 3, H = 6, W = 6, F = 10;
const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 10);

/** Conv(3->8, 3x3, pad 1) -> Relu -> Flatten -> MatMul(8*6*6 -> 10) -> Add(bias). */
function build(how: 'initializer' | 'constant' | 'transposed'): string {
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('input', 'float32', [1, Cin, H, W]);
  const weight = (name: string, dims: number[]): string => {
    const t = Tensor.float32(name, dims, ramp(dims.reduce((a, c) => a * c, 1)));
    if (how === 'initializer') return b.addInitializer(name, t);
    if (how === 'constant') return b.node('Constant', [], { attrs: { value: A.tensor(t) } })[0];
    // 'transposed': stored as a Constant of the transposed shape, turned into the weight by Transpose
    if (dims.length !== 2) return b.node('Constant', [], { attrs: { value: A.tensor(t) } })[0];
    const tt = Tensor.float32(name, [dims[1], dims[0]], ramp(dims[0] * dims[1]));
    const c = b.node('Constant', [], { attrs: { value: A.tensor(tt) } })[0];
    return b.op('Transpose', [c], { perm: A.ints([1, 0]) });
  };
  const conv = b.op('Conv', [x, weight('w', [Cout, Cin, K, K]), weight('b', [Cout])], { pads: A.ints([1, 1, 1, 1]), kernel_shape: A.ints([K, K]) });
  const flat = b.op('Flatten', [b.op('Relu', [conv])], { axis: A.int(1) });
  const mm = b.op('MatMul', [flat, weight('fc', [Cout * H * W, F])]);
  const y = b.op('Add', [mm, weight('fc_b', [F])]);
  b.addOutput(y, 'out', 'float32', [1, F]);
  const path = join(tmp, `${how}.onnx`);
  saveOnnx(b.build(), path);
  return path;
}

interface Totals { params: number; macs: number }
function totals(file: string, convention = 'thop'): Totals {
  const r = runCli(['analyze', file, '--json', '--convention', convention]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout).totals;
}

describe('thop counts Constant-node weights', () => {
  // Conv: weights + bias; MatMul (nn.Linear without its bias, which is a separate Add here)
  const convParams = Cout * Cin * K * K + Cout;
  const fcParams = Cout * H * W * F;
  const convMacs = Cout * H * W * (Cin * K * K) + Cout * H * W;
  const fcMacs = Cout * H * W * F;

  it('initializer, Constant node and Transpose(Constant) give the closed-form params and MACs', () => {
    for (const how of ['initializer', 'constant', 'transposed'] as const) {
      const t = totals(build(how));
      expect({ how, params: t.params, macs: t.macs }).toEqual({ how, params: convParams + fcParams, macs: convMacs + fcMacs });
    }
  });

  it('onnx-tool still counts initializers only', () => {
    expect(totals(build('initializer'), 'onnx-tool').params).toBe(convParams + fcParams + F);
    expect(totals(build('constant'), 'onnx-tool').params).toBe(0);
  });
});
