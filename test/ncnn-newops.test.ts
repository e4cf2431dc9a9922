/**
 * The ops added for real-world exports, one small graph each built in TS (src/onnx/builder.ts),
 * converted to ncnn and run in real ncnn against onnxruntime on seeded inputs:
 * LayerNorm, Gelu, Erf (and their decomposed forms), LogSoftmax, Gemm variants, batched MatMul,
 * Einsum, Gather, Expand, Tile, Where, comparisons that fold. Plus the one-line failures.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { convertOnnxToNcnn } from '../src/convert/ncnn/convert.js';
import { runCli, expectOneLineError } from './helpers/index.js';
import { ortVsNcnn, seeded, expectWithinTolerance } from './newops-helpers.js';
import { tmp } from './ncnn-helpers.js';

type Build = (b: GraphBuilder, x: string) => string;

/** x [dims] -> build(x) -> output 'y'. */
async function unaryGraph(name: string, dims: number[], build: Build, opset = 13, extraInputs: Record<string, number[]> = {}) {
  const b = new GraphBuilder({ opset });
  const x = b.addInput('x', 'float32', dims);
  for (const [k, d] of Object.entries(extraInputs)) b.addInput(k, 'float32', d);
  b.addOutput(build(b, x), 'y', 'float32');
  return ortVsNcnn(b, name, { x: dims, ...extraInputs });
}

const f = (b: GraphBuilder, name: string, dims: number[], seed: number, scale = 1) => b.constFloat(name, dims, seeded(seed, dims.reduce((p, q) => p * q, 1), scale));
const scalar = (b: GraphBuilder, name: string, v: number) => b.constFloat(name, [], [v]);

describe('transformer ops -> ncnn', () => {
  it('LayerNormalization over the last axis (opset 17) -> LayerNorm', async () => {
    const p = await unaryGraph('layernorm', [1, 6, 16], (b, x) => b.op('LayerNormalization', [x, f(b, 'g', [16], 1), f(b, 'beta', [16], 2)], { axis: A.int(-1), epsilon: A.float(1e-5) }), 17);
    expect(p.layerTypes.LayerNorm).toBe(1);
    expectWithinTolerance(p);
  });

  it('LayerNormalization over the last two axes of a 4-D tensor -> LayerNorm over each plane', async () => {
    const p = await unaryGraph('layernorm2', [1, 3, 4, 5], (b, x) => b.op('LayerNormalization', [x, f(b, 'g', [4, 5], 1), f(b, 'beta', [4, 5], 2)], { axis: A.int(2) }), 17);
    expectWithinTolerance(p);
  });

  it('LayerNormalization over several axes (2 of rank 3, 3 of rank 4) -> rows view + one LayerNorm', async () => {
    for (const [dims, axis] of [[[1, 5, 6], 1], [[1, 2, 3, 4], 1]] as [number[], number][]) {
      const norm = dims.slice(axis);
      const p = await unaryGraph(`layernorm-axes${dims.length}`, dims, (b, x) => b.op('LayerNormalization', [x, f(b, 'g', norm, 1), f(b, 'beta', norm, 2)], { axis: A.int(axis) }), 17);
      expect(p.layerTypes).toMatchObject({ LayerNorm: 1, Reshape: 2 });
      expectWithinTolerance(p);
    }
  });

  it('LayerNormalization with its Mean and InvStdDev outputs -> LayerNorm + Reduction / BinaryOp / UnaryOp statistics', async () => {
    for (const axis of [-1, 2]) {
      const b = new GraphBuilder({ opset: 17 });
      const x = b.addInput('x', 'float32', [1, 3, 4, 5]);
      const norm = [1, 3, 4, 5].slice(axis < 0 ? 4 + axis : axis);
      const [y, mean, inv] = b.node('LayerNormalization', [b.op('Mul', [x, scalar(b, 's', 3)]), f(b, 'g', norm, 1), f(b, 'beta', norm, 2)], { attrs: { axis: A.int(axis), epsilon: A.float(1e-3) }, outputs: ['y', 'mean', 'inv'] });
      for (const o of [y, mean, inv]) b.addOutput(o, o, 'float32');
      const p = await ortVsNcnn(b, `layernorm-stats${axis}`, { x: [1, 3, 4, 5] });
      expect(p.layerTypes).toMatchObject({ LayerNorm: 1, Reduction: 2, UnaryOp: 2 });
      expectWithinTolerance(p);
    }
  });

  it('decomposed LayerNorm (ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add, as torch exports it below opset 17) fuses into one LayerNorm', async () => {
    const p = await unaryGraph('layernorm-decomposed', [1, 7, 12], (b, x) => {
      const mean = b.op('ReduceMean', [x], { axes: A.ints([-1]) });
      const d = b.op('Sub', [x, mean]);
      const v = b.op('ReduceMean', [b.op('Pow', [d, scalar(b, 'two', 2)])], { axes: A.ints([-1]) });
      const y = b.op('Div', [d, b.op('Sqrt', [b.op('Add', [v, scalar(b, 'eps', 1e-5)])])]);
      return b.op('Add', [b.op('Mul', [y, f(b, 'g', [12], 3)]), f(b, 'beta', [12], 4)]);
    });
    expect(p.layerTypes).toMatchObject({ LayerNorm: 1 });
    expect(p.layerTypes.Reduction).toBeUndefined();
    expectWithinTolerance(p);
  });

  it('Gelu (opset 20, exact and tanh) -> GELU', async () => {
    for (const approximate of ['none', 'tanh']) {
      const p = await unaryGraph(`gelu-${approximate}`, [1, 4, 8, 8], (b, x) => b.op('Gelu', [b.op('Mul', [x, scalar(b, 's', 3)])], { approximate: A.string(approximate) }), 20);
      expect(p.layerTypes.GELU).toBe(1);
      expectWithinTolerance(p);
    }
  });

  it('decomposed GELU x*0.5*(1+erf(x/sqrt2)) fuses into GELU; Erf alone -> Erf', async () => {
    const p = await unaryGraph('gelu-decomposed', [1, 4, 8, 8], (b, x) => {
      const e = b.op('Erf', [b.op('Div', [x, scalar(b, 'sqrt2', Math.SQRT2)])]);
      return b.op('Mul', [b.op('Mul', [x, b.op('Add', [e, scalar(b, 'one', 1)])]), scalar(b, 'half', 0.5)]);
    });
    expect(p.layerTypes).toMatchObject({ GELU: 1 });
    expect(p.layerTypes.Erf).toBeUndefined();
    expectWithinTolerance(p);
    const e = await unaryGraph('erf', [1, 3, 5], (b, x) => b.op('Erf', [b.op('Mul', [x, scalar(b, 's', 2)])]));
    expect(e.layerTypes.Erf).toBe(1);
    expectWithinTolerance(e);
  });

  it('--no-optimize keeps the decomposed GELU op by op (fusion is an optimisation)', () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 4, 8]);
    const e = b.op('Erf', [b.op('Div', [x, scalar(b, 'sqrt2', Math.SQRT2)])]);
    b.addOutput(b.op('Mul', [b.op('Mul', [x, b.op('Add', [e, scalar(b, 'one', 1)])]), scalar(b, 'half', 0.5)]), 'y', 'float32');
    const m = b.build();
    expect(convertOnnxToNcnn(m, { optimize: false }).summary.layerTypes).toMatchObject({ Erf: 1, BinaryOp: 4 });
    expect(convertOnnxToNcnn(m).summary.layerTypes).toMatchObject({ GELU: 1 });
  });

  it('SiLU x*sigmoid(x) fuses into Swish; a sigmoid read twice does not', async () => {
    const p = await unaryGraph('silu', [1, 4, 6, 6], (b, x) => b.op('Mul', [x, b.op('Sigmoid', [x])]));
    expect(p.layerTypes).toMatchObject({ Swish: 1 });
    expectWithinTolerance(p);
    const q = await unaryGraph('silu-shared', [1, 4, 6, 6], (b, x) => {
      const s = b.op('Sigmoid', [x]);
      return b.op('Add', [b.op('Mul', [x, s]), s]);
    });
    expect(q.layerTypes.Swish).toBeUndefined();
    expectWithinTolerance(q);
  });

  it('LogSoftmax on the last axis -> Softmax + log', async () => {
    const p = await unaryGraph('logsoftmax', [1, 5, 10], (b, x) => b.op('LogSoftmax', [x], { axis: A.int(-1) }));
    expectWithinTolerance(p);
  });
});

describe('Gemm and MatMul -> ncnn', () => {
  const gemmCases: [string, Record<string, ReturnType<typeof A.int>>, number[] | null][] = [
    ['plain', {}, [8]],
    ['transB alpha beta', { transB: A.int(1), alpha: A.float(0.5), beta: A.float(2) }, [8]],
    ['C [1,N]', { beta: A.float(-1) }, [1, 8]],
    ['scalar C', { alpha: A.float(3) }, []],
    ['no C', { transB: A.int(1) }, null],
  ];
  for (const [name, attrs, cDims] of gemmCases)
    it(`Gemm ${name} -> InnerProduct`, async () => {
      const p = await unaryGraph(`gemm-${name.replace(/\W+/g, '-')}`, [1, 12], (b, x) => {
        const B = f(b, 'B', attrs.transB ? [8, 12] : [12, 8], 5);
        const ins = [x, B];
        if (cDims) ins.push(f(b, 'C', cDims, 6));
        return b.op('Gemm', ins, attrs);
      });
      expectWithinTolerance(p);
    });

  it('Gemm with a run-time C -> InnerProduct + BinaryOp', async () => {
    const p = await unaryGraph('gemm-runtime-c', [1, 12], (b, x) => b.op('Gemm', [x, f(b, 'B', [12, 8], 5), b.op('Relu', ['c'])], { beta: A.float(0.25) }), 13, { c: [1, 8] });
    expectWithinTolerance(p);
  });

  it('batched MatMul of two activations (rank 3 and rank 4, attention scores)', async () => {
    const p3 = await unaryGraph('matmul-b3', [1, 6, 5], (b, x) => b.op('MatMul', [x, b.op('Transpose', [x], { perm: A.ints([0, 2, 1]) })]));
    expectWithinTolerance(p3);
    const p4 = await unaryGraph('matmul-b4', [1, 2, 6, 4], (b, x) => b.op('MatMul', [x, b.op('Transpose', ['k'], { perm: A.ints([0, 1, 3, 2]) })]), 13, { k: [1, 2, 7, 4] });
    expectWithinTolerance(p4);
  });

  it('MatMul of a 4-D activation and a constant 2-D and 3-D weight and a vector', async () => {
    expectWithinTolerance(await unaryGraph('matmul-c2', [1, 2, 6, 4], (b, x) => b.op('MatMul', [x, f(b, 'W', [4, 3], 7)])));
    expectWithinTolerance(await unaryGraph('matmul-c3', [1, 2, 6, 4], (b, x) => b.op('MatMul', [x, f(b, 'W', [2, 4, 3], 8)])));
    expectWithinTolerance(await unaryGraph('matmul-vec', [1, 2, 6, 4], (b, x) => b.op('MatMul', [x, f(b, 'v', [4], 9)])));
  });
});

describe('Einsum -> MatMul/Permute', () => {
  const cases: [string, number[], number[]][] = [
    ['bij,bjk->bik', [1, 5, 6], [1, 6, 4]],
    ['bhqd,bhkd->bhqk', [1, 2, 5, 8], [1, 2, 7, 8]],
    ['bhqk,bhkd->bhqd', [1, 2, 5, 7], [1, 2, 7, 8]],
    ['bik,bkj->bji', [1, 5, 6], [1, 6, 4]],
  ];
  for (const [eq, da, db] of cases)
    it(eq, async () => {
      const p = await unaryGraph(`einsum-${eq.replace(/\W+/g, '-')}`, da, (b, x) => b.op('Einsum', [x, 'w'], { equation: A.string(eq) }), 13, { w: db });
      expect(p.layerTypes.MatMul).toBe(1);
      expectWithinTolerance(p);
    });
});

describe('Gather / Expand / Tile / Where / logic -> ncnn', () => {
  it('Gather with a scalar, a contiguous and a scattered constant index list', async () => {
    expectWithinTolerance(await unaryGraph('gather-scalar', [1, 4, 6], (b, x) => b.op('Gather', [x, b.constInt64('i', [], [-2])], { axis: A.int(1) })));
    expectWithinTolerance(await unaryGraph('gather-run', [1, 4, 6], (b, x) => b.op('Gather', [x, b.constInt64('i', [3], [2, 3, 4])], { axis: A.int(2) })));
    expectWithinTolerance(await unaryGraph('gather-scatter', [1, 4, 6], (b, x) => b.op('Gather', [x, b.constInt64('i', [4], [5, 0, 1, 3])], { axis: A.int(2) })));
  });

  it('Gather with 2-D constant indices -> Crop (+ Concat) + Reshape', async () => {
    const p = await unaryGraph('gather-2d', [1, 4, 6], (b, x) => b.op('Gather', [x, b.constInt64('i', [2, 2], [3, 0, -1, 2])], { axis: A.int(1) }));
    expect(p.layerTypes).toMatchObject({ Concat: 1, Reshape: 1 });
    expectWithinTolerance(p);
    expectWithinTolerance(await unaryGraph('gather-2d-run', [1, 4, 6], (b, x) => b.op('Gather', [x, b.constInt64('i', [1, 2], [1, 2])], { axis: A.int(2) })));
  });

  it('Expand of a run-time tensor to a constant shape', async () => {
    const p = await unaryGraph('expand', [1, 3, 1, 5], (b, x) => b.op('Expand', [x, b.constInt64('s', [4], [1, 3, 4, 5])]));
    expectWithinTolerance(p);
  });

  it('Tile -> Tile', async () => {
    const p = await unaryGraph('tile', [1, 2, 3, 4], (b, x) => b.op('Tile', [x, b.constInt64('r', [4], [1, 2, 1, 3])]));
    expect(p.layerTypes.Tile).toBe(1);
    expectWithinTolerance(p);
  });

  it('Where with a condition from folded comparisons (Less, Greater, Not, And, Or, Equal on constants)', async () => {
    const p = await unaryGraph('where', [1, 2, 6], (b, x) => {
      const r = b.constFloat('ramp', [6], [0, 1, 2, 3, 4, 5]);
      const lo = b.op('Less', [r, scalar(b, 'four', 4)]);
      const hi = b.op('Greater', [r, scalar(b, 'zero', 0)]);
      const mid = b.op('And', [lo, hi]);
      const cond = b.op('Or', [b.op('Not', [mid]), b.op('Equal', [r, scalar(b, 'two', 2)])]);
      return b.op('Where', [cond, x, b.op('Neg', [x])]);
    });
    expect(p.layerTypes.BinaryOp).toBeGreaterThan(0);
    expectWithinTolerance(p);
  });
});

describe('step-2 slices (YOLOv5 Focus) -> Reorg + Crop', () => {
  it('four two-node slice chains concatenated, then a conv (as torch exports Focus)', async () => {
    const p = await unaryGraph('focus', [1, 3, 8, 12], (b, x) => {
      const big = 2 ** 62;
      const sl = (t: string, axis: number, start: number) =>
        b.op('Slice', [t, b.constInt64('s', [1], [start]), b.constInt64('e', [1], [big]), b.constInt64('a', [1], [axis]), b.constInt64('st', [1], [2])]);
      const parts = [[0, 0], [1, 0], [0, 1], [1, 1]].map(([sh, sw]) => sl(sl(x, 2, sh), 3, sw));
      const cat = b.op('Concat', parts, { axis: A.int(1) });
      return b.op('Conv', [cat, f(b, 'w', [8, 12, 3, 3], 9)], { pads: A.ints([1, 1, 1, 1]) });
    });
    expect(p.layerTypes.Reorg).toBe(1);
    expectWithinTolerance(p);
  });

  it('one Slice over both axes, and an odd size left to the general Slice lowering (Reshape/Crop)', async () => {
    const big = 2 ** 62;
    const both = (b: GraphBuilder, x: string) =>
      b.op('Slice', [x, b.constInt64('s', [2], [1, 0]), b.constInt64('e', [2], [big, big]), b.constInt64('a', [2], [-1, -2]), b.constInt64('st', [2], [2, 2])]);
    expectWithinTolerance(await unaryGraph('slice-both', [1, 2, 6, 4], both));
    expectWithinTolerance(await unaryGraph('slice-odd', [1, 2, 5, 4], both));
  });
});

describe('attention as nn.MultiheadAttention exports it (sequence-major, batch merged into heads)', () => {
  it('[1,L,E] -> [L,1,E] -> q/k/v views [L,heads,hd] -> [heads,L,hd] -> softmax(qk^T/sqrt d) v -> Gemm out_proj -> [1,L,E]', async () => {
    const L = 9, E = 16, heads = 4, hd = E / heads;
    const p = await unaryGraph('mha', [1, L, E], (b, x) => {
      const s = b.op('Transpose', [x], { perm: A.ints([1, 0, 2]) }); // [L,1,E]
      const proj = (k: string, seed: number) => {
        const y = b.op('Add', [b.op('MatMul', [s, f(b, `W${k}`, [E, E], seed, 0.3)]), f(b, `b${k}`, [E], seed + 1)]);
        const v = b.op('Reshape', [y, b.constInt64(`shape${k}`, [3], [L, heads, hd])]); // batch merged into heads
        return b.op('Transpose', [v], { perm: A.ints([1, 0, 2]) }); // [heads,L,hd]
      };
      const q = proj('q', 10), k = proj('k', 20), v = proj('v', 30);
      const scores = b.op('Mul', [b.op('MatMul', [q, b.op('Transpose', [k], { perm: A.ints([0, 2, 1]) })]), scalar(b, 'scale', 1 / Math.sqrt(hd))]);
      const ctx = b.op('MatMul', [b.op('Softmax', [scores], { axis: A.int(-1) }), v]); // [heads,L,hd]
      const rows = b.op('Reshape', [b.op('Transpose', [ctx], { perm: A.ints([1, 0, 2]) }), b.constInt64('rows', [2], [L, E])]); // [L,E]
      const o = b.op('Gemm', [rows, f(b, 'Wo', [E, E], 40, 0.3), f(b, 'bo', [E], 41)], { transB: A.int(1) });
      return b.op('Transpose', [b.op('Reshape', [o, b.constInt64('back', [3], [L, 1, E])])], { perm: A.ints([1, 0, 2]) });
    });
    // the attention pass fuses it (passes/fuse-attention.ts); test/ncnn-attention.test.ts keeps the unfused lowering covered
    expect(p.layerTypes.MultiHeadAttention).toBe(1);
    expect(p.layerTypes.MatMul).toBeUndefined();
    expectWithinTolerance(p);
  });
});

describe('new ops: failures are one line naming op, node and reason, nothing written', () => {
  const dir = tmp('fdk-newops-bad-');
  const bad = (name: string, build: Build, dims = [1, 4, 6], opset = 13) => {
    const b = new GraphBuilder({ opset });
    const x = b.addInput('x', 'float32', dims);
    b.addOutput(build(b, x), 'y', 'float32');
    const p = join(dir, `${name}.onnx`);
    saveOnnx(b.build(), p);
    const prefix = join(dir, name);
    const r = runCli(['convert', p, '--to', 'ncnn', '-o', prefix]);
    expect(existsSync(`${prefix}.param`) || existsSync(`${prefix}.bin`)).toBe(false);
    expect(readdirSync(dir).filter((x) => x.endsWith('.tmp'))).toEqual([]);
    return r;
  };
  it('GRU with linear_before_reset=0', () => {
    const r = bad('gru-lbr0', (b, x) => {
      const xt = b.op('Transpose', [x], { perm: A.ints([1, 0, 2]) });
      return b.node('GRU', [xt, f(b, 'W', [1, 9, 6], 1), f(b, 'R', [1, 9, 3], 2)], { name: 'my_gru', attrs: { hidden_size: A.int(3) } })[0];
    });
    expectOneLineError(r, /gru-lbr0\.onnx: node 'my_gru' \(GRU\): linear_before_reset=0/);
  });
  it('LSTM reading a sequence-major graph input', () => {
    const r = bad('lstm-seq-input', (b, x) => b.node('LSTM', [x, f(b, 'W', [1, 12, 6], 1), f(b, 'R', [1, 12, 3], 2)], { name: 'my_lstm', attrs: { hidden_size: A.int(3) } })[0], [5, 1, 6]);
    expectOneLineError(r, /node 'my_lstm' \(LSTM\): sequence-major input 'x' \[5,1,6\] is a graph input/);
  });
  it('RNN with an X that is not rank 3', () => {
    const r = bad('rnn-rank4', (b, x) => b.node('RNN', [x, f(b, 'W', [1, 4, 2], 1), f(b, 'R', [1, 4, 4], 2)], { name: 'my_rnn', attrs: { hidden_size: A.int(4), layout: A.int(1) } })[0], [1, 3, 1, 2]);
    expectOneLineError(r, /node 'my_rnn' \(RNN\): X of rank 4/);
  });
  it('Less on run-time data', () => {
    expectOneLineError(bad('less', (b, x) => b.op('Less', [x, scalar(b, 'z', 0)], {}, 'my_less')), /node 'my_less' \(Less\): Less of run-time data/);
  });
  it('Einsum with three operands', () => {
    expectOneLineError(bad('einsum3', (b, x) => b.op('Einsum', [x, x, x], { equation: A.string('bij,bij,bij->bij') }, 'my_einsum')), /node 'my_einsum' \(Einsum\): equation 'bij,bij,bij->bij' with 3 operands/);
  });
  it('LayerNormalization over the batch axis', () => {
    expectOneLineError(bad('layernorm0', (b, x) => b.op('LayerNormalization', [x, f(b, 'g', [1, 4, 6], 1)], { axis: A.int(0) }, 'my_ln'), [1, 4, 6], 17), /node 'my_ln' \(LayerNormalization\): LayerNormalization over the batch axis/);
  });
  it('Gather along the batch axis', () => {
    expectOneLineError(bad('gather0', (b, x) => b.op('Gather', [x, b.constInt64('i', [], [0])], { axis: A.int(0) }, 'my_gather')), /node 'my_gather' \(Gather\): axis 0 is the batch axis/);
  });
});
