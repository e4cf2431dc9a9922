/**
 * The patterns of the real-model corpus (docs/corpus.md) that pnnx handled and fdk did not, or
 * handled slower, each as a small graph built in TS, converted, and run in real ncnn against
 * onnxruntime on seeded inputs: rank-6 views (Swin's window partition and windowed q/k/v split,
 * ops/rank-reduce.ts + the virtual batch axis of ops/sequence-layout.ts), Linear layers on
 * sequences as Gemm with the bias fused (passes/fuse-bias.ts), decomposed HardSwish.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { runCli, expectOneLineError } from './helpers/index.js';
import { ortVsNcnn, seeded, expectWithinTolerance } from './newops-helpers.js';
import { tmp } from './ncnn-helpers.js';

const shape = (b: GraphBuilder, name: string, d: number[]) => b.constInt64(name, [d.length], d);
const weight = (b: GraphBuilder, name: string, d: number[], seed: number) => b.constFloat(name, d, seeded(seed, d.reduce((p, q) => p * q, 1)));

/** Swin's window partition of x [1, H, W, C] into windows of ws x ws, and its reverse. */
function partition(b: GraphBuilder, x: string, [H, W, C]: number[], ws: number): string {
  const six = b.op('Reshape', [x, shape(b, 'part6', [1, H / ws, ws, W / ws, ws, C])]);
  const t = b.op('Transpose', [six], { perm: A.ints([0, 1, 3, 2, 4, 5]) });
  return b.op('Reshape', [t, shape(b, 'windows', [(H / ws) * (W / ws), ws * ws, C])]);
}
function unpartition(b: GraphBuilder, w: string, [H, W, C]: number[], ws: number): string {
  const six = b.op('Reshape', [w, shape(b, 'unpart6', [1, H / ws, W / ws, ws, ws, C])]);
  const t = b.op('Transpose', [six], { perm: A.ints([0, 1, 3, 2, 4, 5]) });
  return b.op('Reshape', [t, shape(b, 'image', [1, H, W, C])]);
}

describe('rank-6 views -> ncnn (axis merging, virtual batch axis)', () => {
  it('window partition -> Linear per window -> window reverse (Reshape 6-D, Transpose, Reshape)', async () => {
    const dims = [1, 8, 12, 6];
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', dims);
    const w = partition(b, x, [8, 12, 6], 4);
    const y = b.op('MatMul', [w, weight(b, 'fc', [6, 6], 3)]);
    b.addOutput(unpartition(b, y, [8, 12, 6], 4), 'y', 'float32');
    const p = await ortVsNcnn(b, 'window-partition', { x: dims });
    expectWithinTolerance(p);
    // each rank-6 transpose became one 4-D Permute (axes merged), and the Linear one Gemm
    expect(p.layerTypes).toMatchObject({ Permute: 2, Gemm: 1 });
  });

  it('windowed multi-head attention: q/k/v split by Reshape [.., 3, heads, hd] -> Transpose [2,0,3,1,4] -> Gather 0/1/2', async () => {
    const [H, W, C, heads, ws] = [4, 4, 8, 2, 2];
    const nW = (H / ws) * (W / ws), N = ws * ws, hd = C / heads;
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, H, W, C]);
    const win = partition(b, x, [H, W, C], ws);
    const qkv = b.op('Add', [b.op('MatMul', [win, weight(b, 'wqkv', [C, 3 * C], 5)]), weight(b, 'bqkv', [3 * C], 6)]);
    const split = b.op('Transpose', [b.op('Reshape', [qkv, shape(b, 'qkv5', [nW, N, 3, heads, hd])])], { perm: A.ints([2, 0, 3, 1, 4]) });
    const [q, k, v] = [0, 1, 2].map((i) => b.op('Gather', [split, b.constInt64(`i${i}`, [], [i])], { axis: A.int(0) }));
    const scores = b.op('MatMul', [b.op('Mul', [q, b.constFloat('scale', [], [1 / Math.sqrt(hd)])]), b.op('Transpose', [k], { perm: A.ints([0, 1, 3, 2]) })]);
    const att = b.op('Softmax', [b.op('Add', [scores, weight(b, 'relbias', [1, heads, N, N], 7)])], { axis: A.int(-1) });
    const o = b.op('Reshape', [b.op('Transpose', [b.op('MatMul', [att, v])], { perm: A.ints([0, 2, 1, 3]) }), shape(b, 'merged', [nW, N, C])]);
    b.addOutput(unpartition(b, o, [H, W, C], ws), 'y', 'float32');
    const p = await ortVsNcnn(b, 'window-attention', { x: [1, H, W, C] });
    expectWithinTolerance(p);
    expect(p.layerTypes).toMatchObject({ Softmax: 1, Permute: expect.any(Number) });
  });

  it('a rank-6 Transpose whose axes cannot merge: one error line naming the node, nothing written', () => {
    const dir = tmp('fdk-rank6-');
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 6, 120]);
    const six = b.op('Reshape', [x, shape(b, 'six', [1, 2, 3, 4, 5, 6])]);
    b.addOutput(b.op('Relu', [b.op('Transpose', [six], { perm: A.ints([0, 2, 4, 1, 5, 3]) })]), 'y', 'float32');
    const onnx = join(dir, 'rank6.onnx');
    saveOnnx(b.build(), onnx);
    expectOneLineError(runCli(['convert', onnx, '--to', 'ncnn', '-o', join(dir, 'out')]), /'Reshape_0' \(Reshape\): rank 5 \(without batch\) is beyond ncnn's 4-D Mats/);
    expect(existsSync(join(dir, 'out.param'))).toBe(false);
  });
});

describe('Linear layers on sequences -> ncnn Gemm / InnerProduct with the bias fused (passes/fuse-bias.ts)', () => {
  const linear = (b: GraphBuilder, x: string, k: number, n: number, seed: number) => b.op('Add', [weight(b, `b${seed}`, [n], seed + 1), b.op('MatMul', [x, weight(b, `w${seed}`, [k, n], seed)])]);

  it('MatMul + Add on [1, rows, K] -> one Gemm (C = bias), no BinaryOp', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 7, 16]);
    b.addOutput(linear(b, b.op('Relu', [linear(b, x, 16, 24, 1)]), 24, 8, 3), 'y', 'float32');
    const p = await ortVsNcnn(b, 'gemm-rows-bias', { x: [1, 7, 16] });
    expectWithinTolerance(p);
    expect(p.layerTypes).toMatchObject({ Gemm: 2 });
    expect(p.layerTypes.BinaryOp).toBeUndefined();
    expect(p.layerTypes.MemoryData).toBeUndefined();
  });

  it('channels-last MatMul + Add on [1, H, W, C] -> Reshape, Gemm with bias, Reshape', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 3, 5, 8]);
    b.addOutput(linear(b, x, 8, 12, 5), 'y', 'float32');
    const p = await ortVsNcnn(b, 'gemm-channels-last-bias', { x: [1, 3, 5, 8] });
    expectWithinTolerance(p);
    expect(p.layerTypes).toMatchObject({ Gemm: 1, Reshape: 2 });
    expect(p.layerTypes.BinaryOp).toBeUndefined();
  });

  it('MatMul + Add + Relu on a [1, K] vector -> one InnerProduct (bias_term 1, ReLU fused)', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 16]);
    b.addOutput(b.op('Relu', [linear(b, x, 16, 10, 7)]), 'y', 'float32');
    const p = await ortVsNcnn(b, 'ip-vector-bias', { x: [1, 16] });
    expectWithinTolerance(p);
    expect(p.layerTypes).toEqual({ Input: 1, InnerProduct: 1 });
    expect(p.param).toMatch(/InnerProduct .* 1=1 .*9=1/);
  });
});

describe('decomposed HardSwish (torch below opset 14) -> HardSwish, taken over by the convolution', () => {
  it('Conv -> HardSigmoid(1/6, 1/2) -> Mul(x) becomes one Convolution with activation 6', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 3, 8, 8]);
    const c = b.op('Conv', [x, weight(b, 'cw', [4, 3, 3, 3], 11), weight(b, 'cb', [4], 12)], { pads: A.ints([1, 1, 1, 1]) });
    const hs = b.op('Mul', [c, b.op('HardSigmoid', [c], { alpha: A.float(1 / 6), beta: A.float(0.5) })]);
    // an SE-style gate (x * hardsigmoid(y), y another tensor) is not a HardSwish and stays
    const gate = b.op('Mul', [hs, b.op('HardSigmoid', [b.op('Neg', [hs])], { alpha: A.float(1 / 6), beta: A.float(0.5) })]);
    b.addOutput(gate, 'y', 'float32');
    const p = await ortVsNcnn(b, 'hardswish-decomposed', { x: [1, 3, 8, 8] });
    expectWithinTolerance(p);
    expect(p.layerTypes.HardSigmoid).toBe(1);
    expect(p.layerTypes.HardSwish).toBeUndefined();
    expect(p.param).toMatch(/Convolution .* 9=6/);
  });
});
