/**
 * Attention fusion (passes/fuse-attention.ts): the self-attention block torch exports for
 * nn.MultiheadAttention (batch_first, need_weights=False, opset 17: packed in_proj MatMul + Add,
 * unflatten / Unsqueeze / Transpose / Squeeze / Gather into q, k, v, views into heads,
 * scaled_dot_product_attention as Mul(sqrt scale) on q and on k^T, MatMul, Softmax, MatMul, head
 * merge, out_proj Gemm) built in TS with seeded weights, converted, and run in real ncnn against
 * onnxruntime: one ncnn MultiHeadAttention with the optimisations, op by op with --no-optimize.
 */
import { describe, it, expect } from 'vitest';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import { ortVsNcnn, seeded, expectWithinTolerance } from './newops-helpers.js';

const [L, E, H] = [17, 64, 4];
const hd = E / H;
const ints = (b: GraphBuilder, name: string, v: number[]) => b.constInt64(name, [v.length], v);
const weight = (b: GraphBuilder, name: string, d: number[], seed: number) => b.constFloat(name, d, seeded(seed, d.reduce((p, q) => p * q, 1), 0.3));

/**
 * x [1, L, E] -> nn.MultiheadAttention(E, H, batch_first=True)(x, x, x) + x, as torch.onnx
 * writes it. `scale` replaces SDPA's 1/sqrt(hd) (computed from the shape, as torch does, when
 * absent); `scoreMask` adds a constant [L, L] mask to the scores before the Softmax.
 */
function selfAttention(o: { scale?: number; scoreMask?: boolean; separate?: boolean } = {}): GraphBuilder {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.addInput('x', 'float32', [1, L, E]);
  const seqFirst = b.op('Transpose', [x], { perm: A.ints([1, 0, 2]) });
  const proj = b.op('Add', [weight(b, 'in_proj_bias', [3 * E], 2), b.op('MatMul', [seqFirst, weight(b, 'in_proj_w', [E, 3 * E], 1)])]);
  // unflatten(-1, (3, E)) through the Shape glue torch writes
  const shp = b.op('Shape', [proj]);
  const lead = b.op('Slice', [shp, ints(b, 's0', [0]), ints(b, 's1', [2])]);
  const target = b.op('Concat', [lead, ints(b, 'three_e', [3, E]), b.op('Slice', [shp, ints(b, 's3', [3]), ints(b, 'smax', [2 ** 62])])], { axis: A.int(0) });
  const split = b.op('Squeeze', [b.op('Transpose', [b.op('Unsqueeze', [b.op('Reshape', [proj, target]), ints(b, 'ax0', [0])])], { perm: A.ints([3, 1, 2, 0, 4]) }), ints(b, 'ax3', [3])]);
  const heads = [0, 1, 2].map((i) => {
    // separate: q, k, v from three projections of x (torch's path when their weights are apart)
    const t = o.separate
      ? b.op('Add', [b.op('MatMul', [seqFirst, weight(b, `w${i}`, [E, E], 10 + i)]), weight(b, `bias${i}`, [E], 20 + i)])
      : b.op('Gather', [split, b.constInt64(`i${i}`, [], [i])], { axis: A.int(0) });
    const perHead = b.op('Transpose', [b.op('Reshape', [t, ints(b, `h${i}`, [L, H, hd])])], { perm: A.ints([1, 0, 2]) });
    return b.op('Reshape', [perHead, ints(b, `b${i}`, [1, H, L, hd])]);
  });
  const [q, k, v] = heads;
  let sqrtScale: string;
  if (o.scale === undefined) {
    // sqrt(1 / sqrt(hd)) from the shape of q, as scaled_dot_product_attention exports it
    const last = b.op('Cast', [b.op('Slice', [b.op('Shape', [q]), ints(b, 'm1', [-1]), ints(b, 'big', [2 ** 62])])], { to: A.int(1) });
    sqrtScale = b.op('Sqrt', [b.op('Div', [b.constFloat('one', [], [1]), b.op('Sqrt', [last])])]);
  } else sqrtScale = b.constFloat('sqrt_scale', [], [Math.sqrt(o.scale)]);
  let scores = b.op('MatMul', [b.op('Mul', [q, sqrtScale]), b.op('Mul', [b.op('Transpose', [k], { perm: A.ints([0, 1, 3, 2]) }), sqrtScale])]);
  if (o.scoreMask) scores = b.op('Add', [scores, weight(b, 'mask', [L, L], 9)]);
  const att = b.op('MatMul', [b.op('Softmax', [scores], { axis: A.int(-1) }), v]);
  const merged = b.op('Reshape', [b.op('Transpose', [att], { perm: A.ints([2, 0, 1, 3]) }), ints(b, 'merged', [L, E])]);
  const out = b.op('Gemm', [merged, weight(b, 'out_w', [E, E], 3), weight(b, 'out_b', [E], 4)], { transB: A.int(1) });
  const back = b.op('Transpose', [b.op('Reshape', [out, ints(b, 'l1e', [L, 1, E])])], { perm: A.ints([1, 0, 2]) });
  b.addOutput(b.op('Add', [back, x]), 'y', 'float32');
  return b;
}

const count = (param: string, type: string) => param.split('\n').filter((l) => l.startsWith(`${type} `)).length;

describe('self-attention -> ncnn MultiHeadAttention (passes/fuse-attention.ts)', () => {
  it('torch\'s nn.MultiheadAttention export becomes one MultiHeadAttention layer and matches onnxruntime', async () => {
    const p = await ortVsNcnn(selfAttention(), 'mha', { x: [1, L, E] });
    expectWithinTolerance(p);
    expect(count(p.param, 'MultiHeadAttention')).toBe(1);
    for (const t of ['MatMul', 'Softmax', 'Gemm', 'Permute', 'Slice']) expect(count(p.param, t), t).toBe(0);
    // 0=embed_dim 1=num_heads 2=weight_data_size 3=kdim 4=vdim; torch's scale is ncnn's default (no 6=)
    expect(p.param).toMatch(new RegExp(`MultiHeadAttention .* 0=${E} 1=${H} 2=${E * E} 3=${E} 4=${E}\n`));
    expect(p.passes.attention.fused).toBe(1);
  });

  it('--no-optimize keeps it op by op (MatMul, Softmax, Gemm) and still matches', async () => {
    const p = await ortVsNcnn(selfAttention(), 'mha-noopt', { x: [1, L, E] }, 1, { optimize: false });
    expectWithinTolerance(p);
    expect(count(p.param, 'MultiHeadAttention')).toBe(0);
    expect(count(p.param, 'MatMul')).toBe(2);
    expect(count(p.param, 'Softmax')).toBe(1);
    expect(p.passes.attention).toMatchObject({ fused: 0 });
  });

  it('a scale other than 1/sqrt(head dim) goes into ncnn\'s scale param (6) and matches', async () => {
    const p = await ortVsNcnn(selfAttention({ scale: 0.71 }), 'mha-scale', { x: [1, L, E] }, 3);
    expectWithinTolerance(p);
    expect(count(p.param, 'MultiHeadAttention')).toBe(1);
    expect(p.param).toMatch(/MultiHeadAttention .* 6=0\.71/);
  });

  it('q, k and v from three projections of the same input: one MultiHeadAttention, matches', async () => {
    const p = await ortVsNcnn(selfAttention({ separate: true }), 'mha-separate', { x: [1, L, E] }, 7);
    expectWithinTolerance(p);
    expect(count(p.param, 'MultiHeadAttention')).toBe(1);
    for (const t of ['MatMul', 'Softmax', 'Gemm']) expect(count(p.param, t), t).toBe(0);
  });

  it('a mask added to the scores is not MultiHeadAttention\'s pattern: left op by op, still matches', async () => {
    const p = await ortVsNcnn(selfAttention({ scoreMask: true }), 'mha-mask', { x: [1, L, E] }, 5);
    expectWithinTolerance(p);
    expect(count(p.param, 'MultiHeadAttention')).toBe(0);
    expect(count(p.param, 'Softmax')).toBe(1);
  });
});
