/** Unit tests of the conversion passes, each on small hand-made graphs. */
import { describe, it, expect } from 'vitest';
import { ncnnAxis, permuteOrderType, reshapeParams, constantNcnnShape, BatchAxisError } from '../src/convert/ncnn/passes/batch-axis.js';
import { evalGlue, type SymTensor } from '../src/convert/ncnn/passes/shape-glue.js';
import { fuseBatchNorm } from '../src/convert/ncnn/passes/fuse-batchnorm.js';
import { fuseActivation } from '../src/convert/ncnn/passes/fuse-activation.js';
import { insertSplits } from '../src/convert/ncnn/passes/insert-split.js';
import { eliminateDead } from '../src/convert/ncnn/passes/eliminate-dead.js';
import type { Pass } from '../src/convert/ncnn/passes/index.js';
import { float, int, paramArray, type NcnnLayer, type ParamValue } from '../src/convert/ncnn/format/param.js';
import { convertOnnxToNcnn } from '../src/convert/ncnn/convert.js';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import type { Node } from '../src/onnx/model.js';
import { Tensor } from '../src/onnx/tensor.js';

/** Runs a pass on a layer list: the resulting layers and the pass's change lines. */
const run = (pass: Pass, layers: NcnnLayer[], outputs: string[] = []) => {
  const net = { layers };
  const { changes } = pass(net, { outputs: new Set(outputs) });
  return { layers: net.layers, changes };
};
const L = (type: string, name: string, inputs: string[], outputs: string[], params: [number, ParamValue][] = [], weights: Float32Array[] = []): NcnnLayer => ({
  type, name, inputs, outputs, params: new Map(params), weights: weights.map((data, i) => ({ data, tagged: i === 0 && type !== 'BatchNorm' })),
});

describe('batch-axis removal', () => {
  it('maps every NCHW permutation to the order_type onnx2ncnn uses', () => {
    const cases: [number[], number][] = [[[0, 1, 2, 3], 0], [[0, 1, 3, 2], 1], [[0, 2, 1, 3], 2], [[0, 2, 3, 1], 3], [[0, 3, 1, 2], 4], [[0, 3, 2, 1], 5], [[0, 2, 1], 1], [[0, 1, 2], 0]];
    for (const [perm, t] of cases) expect(permuteOrderType(perm), `perm ${perm}`).toBe(t);
    expect(permuteOrderType([0, 1, 2, 3, 4])).toBe(0);
    expect(permuteOrderType([0, 4, 3, 2, 1])).toBe(23); // full reversal of (c,d,h,w): 'CDHW'
    expect(permuteOrderType([0, 1, 2, 4, 3])).toBe(1); // 'HWDC'
    expect(() => permuteOrderType([1, 0, 2, 3])).toThrow(BatchAxisError);
  });
  it('shifts axes past the batch and rejects the batch axis', () => {
    expect(ncnnAxis(1, 4)).toBe(0);
    expect(ncnnAxis(-1, 3)).toBe(1);
    expect(() => ncnnAxis(0, 4)).toThrow(/batch/);
  });
  it('writes Reshape targets without the batch, keeping 0 only when ranks match', () => {
    expect([...reshapeParams([1, -1, 2], 4).entries()]).toEqual([[1, -1], [0, 2]]);
    expect([...reshapeParams([1, 0, -1, 4], 4).entries()]).toEqual([[2, 0], [1, -1], [0, 4]]);
    expect(() => reshapeParams([1, 0, -1], 4)).toThrow(/copies input dims/);
  });
  it('aligns constants like numpy, then drops the batch', () => {
    expect(constantNcnnShape([1, 4420, 2], 3)).toEqual([4420, 2]);
    expect(constantNcnnShape([16, 1, 1], 4)).toEqual([16, 1, 1]);
    expect(() => constantNcnnShape([2, 16, 1, 1], 4)).toThrow(/batch/);
  });
});

describe('shape glue', () => {
  // Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1], [2])) as in the Ultra-Light exports
  const known = new Map<string, SymTensor>();
  const ctx = { get: (n: string) => known.get(n), rank: (n: string) => (n === 'x' ? 4 : undefined), opset: 9 };
  const run = (opType: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}) => {
    const v = evalGlue({ name: outputs[0], opType, domain: '', inputs, outputs, attrs }, ctx);
    v?.forEach((t, i) => known.set(outputs[i], t));
    return v;
  };
  it('evaluates the Ultra-Light reshape target symbolically: batch 1, unknown H/W kept as references', () => {
    run('Shape', ['x'], ['s']);
    expect(known.get('s')!.els).toEqual([1, { ref: 'x', axis: 1, scale: 1 }, { ref: 'x', axis: 2, scale: 1 }, { ref: 'x', axis: 3, scale: 1 }]);
    known.set('i0', { dims: [], els: [0], float: false });
    known.set('m1', { dims: [1], els: [-1], float: false });
    known.set('two', { dims: [1], els: [2], float: false });
    run('Gather', ['s', 'i0'], ['n'], { axis: A.int(0) });
    run('Unsqueeze', ['n'], ['n1'], { axes: A.ints([0]) });
    run('Concat', ['n1', 'm1', 'two'], ['target'], { axis: A.int(0) });
    expect(known.get('target')).toEqual({ dims: [3], els: [1, -1, 2], float: false });
  });
  it('keeps sizes of another tensor symbolic (Resize to a reference size) and scales by constants', () => {
    run('Slice', ['s', 'st', 'en'], ['hw'], {});
    expect(known.has('hw')).toBe(false); // starts/ends unknown: not glue
    known.set('st', { dims: [1], els: [2], float: false });
    known.set('en', { dims: [1], els: [4], float: false });
    const ctx10 = { ...ctx, opset: 10 };
    const v = evalGlue({ name: 'hw', opType: 'Slice', domain: '', inputs: ['s', 'st', 'en'], outputs: ['hw'], attrs: {} }, ctx10)!;
    expect(v[0].els).toEqual([{ ref: 'x', axis: 2, scale: 1 }, { ref: 'x', axis: 3, scale: 1 }]);
    known.set('hw', v[0]);
    known.set('k2', { dims: [], els: [2], float: false });
    run('Mul', ['hw', 'k2'], ['hw2']);
    expect(known.get('hw2')!.els).toEqual([{ ref: 'x', axis: 2, scale: 2 }, { ref: 'x', axis: 3, scale: 2 }]);
  });
  it('leaves real computations alone', () => {
    expect(run('Relu', ['x'], ['y'])).toBeUndefined();
    expect(run('Add', ['x', 'k2'], ['z'])).toBeUndefined();
  });
  it('removes glue and keeps H/W dynamic in a converted model', () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('input', 'float32', [1, 3, 'H', 'W']);
    const y = b.op('Relu', [x]);
    const s = b.op('Shape', [y]);
    const n = b.op('Gather', [s, b.constInt64('zero', [], [0])], { axis: A.int(0) });
    const n1 = b.op('Unsqueeze', [n, b.constInt64('ax', [1], [0])]);
    const t = b.op('Concat', [n1, b.constInt64('rest', [2], [3, -1])], { axis: A.int(0) });
    b.addOutput(b.op('Reshape', [y, t]), 'out', 'float32');
    const r = convertOnnxToNcnn(b.build());
    const reshape = r.net.layers.find((l) => l.type === 'Reshape')!;
    expect([...reshape.params.entries()]).toEqual([[0, int(-1)], [1, int(3)]]);
    expect(r.net.layers.map((l) => l.type)).toEqual(['Input', 'ReLU', 'Reshape']);
  });
});

describe('BatchNorm folding', () => {
  it('folds into a 1x1 convolution without changing its outputs', () => {
    const W = Float32Array.from([1, 2, 3, -1, 0.5, 2]); // 2 out x 3 in
    const bias = Float32Array.from([0.1, -0.2]);
    const bn = [Float32Array.from([2, 0.5]), Float32Array.from([0.3, -1]), Float32Array.from([4, 0.25]), Float32Array.from([1, 0])]; // slope mean var+eps bias
    const conv = L('Convolution', 'c', ['x'], ['y'], [[0, int(2)], [1, int(1)], [5, int(1)], [6, int(6)]], [W, bias]);
    const bnl = L('BatchNorm', 'bn', ['y'], ['z'], [[0, int(2)]], bn);
    const x = [0.7, -1.3, 2.1];
    const ref = [0, 1].map((o) => {
      const yv = W[o * 3] * x[0] + W[o * 3 + 1] * x[1] + W[o * 3 + 2] * x[2] + bias[o];
      return ((yv - bn[1][o]) / Math.sqrt(bn[2][o])) * bn[0][o] + bn[3][o];
    });
    const r = run(fuseBatchNorm, [conv, bnl], ['z']);
    expect(r.layers.map((l) => l.type)).toEqual(['Convolution']);
    expect(r.layers[0].outputs).toEqual(['z']);
    const [W2, b2] = r.layers[0].weights.map((w) => w.data);
    const got = [0, 1].map((o) => W2[o * 3] * x[0] + W2[o * 3 + 1] * x[1] + W2[o * 3 + 2] * x[2] + b2[o]);
    got.forEach((g, o) => expect(g).toBeCloseTo(ref[o], 5));
    expect(r.layers[0].weights.map((w) => w.tagged)).toEqual([true, false]);
  });
  it('adds a bias when the convolution had none, and skips a BatchNorm whose input is also used elsewhere', () => {
    const conv = L('Convolution', 'c', ['x'], ['y'], [[0, int(1)], [5, int(0)], [6, int(1)]], [Float32Array.from([2])]);
    const bnl = L('BatchNorm', 'bn', ['y'], ['z'], [[0, int(1)]], [1, 0, 1, 0].map((v) => Float32Array.from([v])));
    const other = L('ReLU', 'r', ['y'], ['w']);
    expect(run(fuseBatchNorm, [conv, bnl, other], ['z', 'w']).changes).toEqual([]);
    const r = run(fuseBatchNorm, [conv, bnl], ['z']);
    expect(r.layers[0].params.get(5)).toEqual(int(1));
    expect(r.layers[0].weights.length).toBe(2);
  });
});

describe('activation fusion', () => {
  it('fuses ReLU / leaky ReLU / Clip into the producing convolution', () => {
    const mk = (act: NcnnLayer) => run(fuseActivation, [L('Convolution', 'c', ['x'], ['y'], [[0, int(1)], [6, int(1)]], [Float32Array.from([1])]), act], [act.outputs[0]]);
    const relu = mk(L('ReLU', 'r', ['y'], ['z']));
    expect(relu.layers.length).toBe(1);
    expect(relu.layers[0].params.get(9)).toEqual(int(1));
    expect(relu.layers[0].outputs).toEqual(['z']);
    const leaky = mk(L('ReLU', 'r', ['y'], ['z'], [[0, float(0.1)]]));
    expect(leaky.layers[0].params.get(9)).toEqual(int(2));
    expect(paramArray(leaky.layers[0].params, 10)).toEqual([0.1]);
    const clip = mk(L('Clip', 'r', ['y'], ['z'], [[0, float(0)], [1, float(6)]]));
    expect(clip.layers[0].params.get(9)).toEqual(int(3));
    expect(paramArray(clip.layers[0].params, 10)).toEqual([0, 6]);
  });
  it('does not fuse when the convolution output is a graph output or has other readers', () => {
    const conv = () => L('Convolution', 'c', ['x'], ['y'], [[0, int(1)], [6, int(1)]], [Float32Array.from([1])]);
    expect(run(fuseActivation, [conv(), L('ReLU', 'r', ['y'], ['z'])], ['y', 'z']).changes).toEqual([]);
    expect(run(fuseActivation, [conv(), L('ReLU', 'r', ['y'], ['z']), L('Sigmoid', 's', ['y'], ['w'])], ['z', 'w']).changes).toEqual([]);
  });
});

describe('Split insertion and dead layers', () => {
  it('gives each reader its own split output, the first reader the highest index (like onnx2ncnn)', () => {
    const layers = [L('Input', 'in', [], ['x']), L('ReLU', 'a', ['x'], ['a']), L('Sigmoid', 'b', ['x'], ['b']), L('BinaryOp', 'c', ['a', 'x'], ['c'])];
    const r = run(insertSplits, layers);
    expect(r.layers.map((l) => l.type)).toEqual(['Input', 'Split', 'ReLU', 'Sigmoid', 'BinaryOp']);
    expect(r.layers[1]).toMatchObject({ name: 'splitncnn_input0', inputs: ['x'], outputs: ['x_splitncnn_0', 'x_splitncnn_1', 'x_splitncnn_2'] });
    expect(r.layers[2].inputs).toEqual(['x_splitncnn_2']);
    expect(r.layers[4].inputs).toEqual(['a', 'x_splitncnn_0']);
  });
  it('a layer reading one blob twice gets two split outputs', () => {
    const r = run(insertSplits, [L('Input', 'in', [], ['x']), L('BinaryOp', 'sq', ['x', 'x'], ['y'])]);
    expect(r.layers[2].inputs.sort()).toEqual(['x_splitncnn_0', 'x_splitncnn_1']);
  });
  it('drops layers that reach no output', () => {
    const r = run(eliminateDead, [L('Input', 'in', [], ['x']), L('ReLU', 'a', ['x'], ['a']), L('Sigmoid', 'b', ['x'], ['b'])], ['a']);
    expect(r.changes).toEqual(['b']);
  });
});

describe('constant operands', () => {
  it('become MemoryData (no batch axis) and scalars become with_scalar BinaryOps', () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('input', 'float32', [1, 5, 2]);
    const m = b.op('Mul', [x, b.constFloat('k', [], [0.5])]);
    const a = b.op('Add', [m, b.addInitializer('p', Tensor.float32('p', [1, 5, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))]);
    const s = b.op('Sub', [b.constFloat('one', [], [1]), a]);
    b.addOutput(s, 'out', 'float32');
    const r = convertOnnxToNcnn(b.build());
    const t = r.net.layers.map((l) => `${l.type}:${[...l.params.entries()].map(([k, v]) => `${k}=${v.value}`).join(',')}`);
    expect(t).toEqual(['Input:0=2,1=5', 'MemoryData:0=2,1=5', 'BinaryOp:0=2,1=1,2=0.5', 'BinaryOp:0=0', 'BinaryOp:0=7,1=1,2=1']);
  });
});
