/**
 * Shape rules for the common CNN op set, with onnxruntime as the oracle: one opset-14 model using
 * each op (odd sizes, strides, ceil mode, padding, broadcasting) where every tensor is a graph
 * output; the inferred shapes must equal the shapes ort actually produces. Also checks that
 * foldConstants leaves such a model's outputs unchanged.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { saveOnnx } from '../src/onnx/io.js';
import { Tensor } from '../src/onnx/tensor.js';
import type { Attr, Model, Node } from '../src/onnx/model.js';
import { inferShapes } from '../src/onnx/shape-inference.js';
import { foldConstants } from '../src/onnx/fold.js';
import { maxAbsDiff } from './helpers/index.js';

function buildModel(): Model {
  const nodes: Node[] = [];
  const init = new Map<string, Tensor>();
  let seed = 3;
  const rnd = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5));
  const f32 = (name: string, dims: number[], v?: number[]) => init.set(name, Tensor.fromValues(name, 'float32', dims, v ? Float32Array.from(v) : rnd(dims.reduce((a, b) => a * b, 1))));
  const i64 = (name: string, v: number[]) => init.set(name, Tensor.int64(name, [v.length], v));
  const ints = (value: number[]): Attr => ({ type: 'ints', value });
  const int = (value: number): Attr => ({ type: 'int', value });
  const node = (opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}) =>
    nodes.push({ name: outputs[0], opType, domain: '', inputs, outputs, attrs });

  f32('w_conv', [8, 4, 3, 3]); f32('b_conv', [8]);
  node('Conv', ['x', 'w_conv', 'b_conv'], ['conv'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), group: int(2) });
  node('Conv', ['x', 'w_conv'], ['conv_same'], { kernel_shape: ints([3, 3]), strides: ints([2, 3]), auto_pad: { type: 'string', value: 'SAME_UPPER' }, group: int(2) });
  node('Conv', ['x', 'w_conv'], ['conv_dil'], { kernel_shape: ints([3, 3]), dilations: ints([2, 3]), group: int(2) });
  f32('w_ct', [8, 4, 3, 3]);
  node('ConvTranspose', ['x', 'w_ct'], ['convt'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), output_padding: ints([1, 0]) });
  node('MaxPool', ['x'], ['maxpool'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), ceil_mode: int(1) });
  node('AveragePool', ['x'], ['avgpool'], { kernel_shape: ints([2, 3]), strides: ints([2, 2]), pads: ints([1, 0, 1, 0]) });
  node('GlobalAveragePool', ['x'], ['gap']);
  node('GlobalMaxPool', ['x'], ['gmp']);
  node('BatchNormalization', ['x', 'bn_s', 'bn_b', 'bn_m', 'bn_v'], ['bn']);
  f32('bn_s', [8]); f32('bn_b', [8]); f32('bn_m', [8]); f32('bn_v', [8], [1, 1, 1, 1, 1, 1, 1, 1]);
  f32('scales', [4], [1, 1, 2, 1.5]);
  node('Resize', ['x', '', 'scales'], ['resize_nearest'], { mode: { type: 'string', value: 'nearest' } });
  i64('sizes', [1, 8, 7, 9]);
  node('Resize', ['x', '', '', 'sizes'], ['resize_linear'], { mode: { type: 'string', value: 'linear' } });
  i64('pads', [0, 0, 1, 2, 0, 0, 3, 4]);
  node('Pad', ['x', 'pads'], ['pad']);
  i64('split', [3, 5]);
  node('Split', ['x', 'split'], ['split_a', 'split_b'], { axis: int(1) });
  i64('sl_starts', [1]); i64('sl_ends', [-1]); i64('sl_axes', [3]); i64('sl_steps', [2]);
  node('Slice', ['x', 'sl_starts', 'sl_ends', 'sl_axes', 'sl_steps'], ['slice']);
  node('Flatten', ['x'], ['flatten'], { axis: int(2) });
  node('Flatten', ['gap'], ['gap_flat']);
  f32('gemm_b', [10, 8]); f32('gemm_c', [10]);
  node('Gemm', ['gap_flat', 'gemm_b', 'gemm_c'], ['gemm'], { transB: int(1) });
  f32('mm_w', [21, 6]);
  node('MatMul', ['x', 'mm_w'], ['matmul']);
  i64('sq_axes', [2, 3]);
  node('Squeeze', ['gap', 'sq_axes'], ['squeeze']);
  i64('us_axes', [0, -1]);
  node('Unsqueeze', ['squeeze', 'us_axes'], ['unsqueeze']);
  node('ReduceMean', ['x'], ['reducemean'], { axes: ints([2, 3]), keepdims: int(0) });
  node('Transpose', ['x'], ['transpose'], { perm: ints([0, 2, 3, 1]) });
  node('Concat', ['x', 'bn'], ['concat'], { axis: int(1) });
  f32('clip_min', [], [0]); f32('clip_max', [], [6]);
  node('Clip', ['x', 'clip_min', 'clip_max'], ['clip']);
  node('Relu', ['x'], ['relu']);
  node('LeakyRelu', ['x'], ['leaky'], { alpha: { type: 'float', value: 0.1 } });
  f32('slope', [8, 1, 1]);
  node('PRelu', ['x', 'slope'], ['prelu']);
  node('Sigmoid', ['x'], ['sigmoid']);
  node('HardSigmoid', ['x'], ['hardsigmoid']);
  node('HardSwish', ['x'], ['hardswish']);
  node('Exp', ['x'], ['exp']);
  node('Softmax', ['x'], ['softmax'], { axis: int(1) });
  f32('chan', [8, 1, 1]);
  node('Add', ['x', 'chan'], ['add']);
  node('Sub', ['chan', 'x'], ['sub']);
  node('Mul', ['x', 'chan'], ['mul']);
  node('Div', ['x', 'chan'], ['div']);
  i64('gather_idx', [0, 2]);
  node('Gather', ['x', 'gather_idx'], ['gather'], { axis: int(1) });
  // Shape glue: Reshape x to [N, C, H*W] with the target computed from Shape.
  node('Shape', ['x'], ['shape']);
  i64('first2', [0, 1]);
  node('Gather', ['shape', 'first2'], ['nc']);
  i64('minus1', [-1]);
  node('Concat', ['nc', 'minus1'], ['target'], { axis: int(0) });
  node('Reshape', ['x', 'target'], ['reshape']);
  i64('exp_shape', [1, 8, 3, 3]);
  node('Expand', ['gap', 'exp_shape'], ['expand']);
  node('Constant', [], ['const'], { value: { type: 'tensor', value: Tensor.float32('', [2, 3], [1, 2, 3, 4, 5, 6]) } });
  node('Mul', ['const', 'const'], ['const_sq']);
  // constant layout ops, evaluated by folding (one strided walk serves both)
  f32('cube', [2, 3, 4, 5]);
  node('Transpose', ['cube'], ['const_tr'], { perm: ints([2, 0, 3, 1]) });
  i64('csl_starts', [-1, 1, 4]);
  i64('csl_ends', [-100, 3, 0]);
  i64('csl_axes', [0, 2, 3]);
  i64('csl_steps', [-1, 1, -2]);
  node('Slice', ['cube', 'csl_starts', 'csl_ends', 'csl_axes', 'csl_steps'], ['const_sl']);

  const outputs = nodes.flatMap((n) => n.outputs).filter((o) => !['shape', 'nc', 'target', 'const', 'const_sq', 'const_tr', 'const_sl', 'gap_flat', 'squeeze'].includes(o));
  return {
    irVersion: 8, opsetImport: [{ domain: '', version: 14 }], producerName: 'fdk-test', producerVersion: '1',
    graph: {
      name: 'ops', nodes, initializers: init, valueInfo: new Map(),
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8, 'H', 'W'] }],
      outputs: [...outputs, 'const_sq', 'const_tr', 'const_sl'].map((name) => ({ name, dtype: 'float32' })),
    },
  };
}

describe('shape rules against onnxruntime', () => {
  const model = buildModel();
  const dir = mkdtempSync(join(tmpdir(), 'fdk-ops-'));
  const path = join(dir, 'ops.onnx');
  saveOnnx(model, path);
  const x = Float32Array.from({ length: 8 * 17 * 21 }, (_, i) => Math.sin(i * 0.37));

  async function runOrt(p: string) {
    const s = await ort.InferenceSession.create(p, { logSeverityLevel: 3 });
    const r = await s.run({ x: new ort.Tensor('float32', x, [1, 8, 17, 21]) });
    await s.release();
    return r;
  }

  it('every output shape equals what ort produces at 1x8x17x21', async () => {
    const shapes = inferShapes(model, { inputShapes: { x: [1, 8, 17, 21] } });
    const r = await runOrt(path);
    expect(Object.keys(r).length).toBe(model.graph.outputs.length);
    for (const [name, t] of Object.entries(r)) expect(shapes.get(name)?.shape, name).toEqual([...t.dims]);
    expect(shapes.get('target')?.dtype).toBe('int64');
  });

  it('folding with the input shape removes the glue and keeps every output', async () => {
    const f = foldConstants(model, { inputShapes: { x: [1, 8, 17, 21] } });
    expect(f.removedNodes).toEqual(expect.arrayContaining(['shape', 'nc', 'target', 'const', 'const_sq', 'const_tr', 'const_sl']));
    expect(f.model.graph.initializers.get('const_sq')?.toNumbers()).toEqual([1, 4, 9, 16, 25, 36]);
    const p2 = join(dir, 'folded.onnx');
    saveOnnx(f.model, p2);
    const [a, b] = [await runOrt(path), await runOrt(p2)];
    for (const k of Object.keys(a)) expect(maxAbsDiff(a[k].data as Float32Array, b[k].data as Float32Array), k).toBeLessThanOrEqual(1e-6);
    // the folded layout ops are pure copies: bit-identical to what ort computes, shapes included
    for (const k of ['const_tr', 'const_sl']) {
      expect([...b[k].dims], k).toEqual([...a[k].dims]);
      expect(Array.from(b[k].data as Float32Array), k).toEqual(Array.from(a[k].data as Float32Array));
    }
    expect([...a.const_sl.dims]).toEqual([2, 3, 2, 2]);
  });
});

/** Older opsets move parameters between attributes and inputs: check both forms against ort. */
function legacyModel(opset: 9 | 11): Model {
  const nodes: Node[] = [];
  const init = new Map<string, Tensor>();
  const ints = (value: number[]): Attr => ({ type: 'ints', value });
  const node = (opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}) =>
    nodes.push({ name: outputs[0], opType, domain: '', inputs, outputs, attrs });
  const f32 = (name: string, v: number[]) => init.set(name, Tensor.float32(name, [v.length], v));
  const i64 = (name: string, v: number[]) => init.set(name, Tensor.int64(name, [v.length], v));
  if (opset === 9) {
    f32('scales', [1, 1, 2, 3]);
    node('Upsample', ['x', 'scales'], ['upsample']);
    node('Slice', ['x'], ['slice'], { starts: ints([1, 2]), ends: ints([2 ** 62, -3]), axes: ints([2, 3]) });
    node('Pad', ['x'], ['pad'], { pads: ints([0, 0, 2, 1, 0, 0, 0, 3]) });
    node('Clip', ['x'], ['clip'], { min: { type: 'float', value: 0 }, max: { type: 'float', value: 6 } });
  } else {
    f32('roi', []);
    f32('scales', [1, 1, 0.5, 2]);
    node('Resize', ['x', 'roi', 'scales'], ['resize'], { mode: { type: 'string', value: 'linear' } });
    i64('pads', [0, 0, 2, 1, 0, 0, 0, 3]);
    node('Pad', ['x', 'pads'], ['pad']);
    init.set('lo', Tensor.float32('lo', [], [0]));
    node('Clip', ['x', 'lo'], ['clip']);
  }
  node('Split', ['x'], ['sa', 'sb'], { axis: { type: 'int', value: 1 }, split: ints([2, 6]) });
  node('GlobalAveragePool', ['x'], ['gap']);
  node('Squeeze', ['gap'], ['squeeze'], { axes: ints([3]) });
  node('Unsqueeze', ['squeeze'], ['unsqueeze'], { axes: ints([0]) });
  node('ReduceMean', ['x'], ['mean'], { axes: ints([1]) });
  const outs = nodes.flatMap((n) => n.outputs);
  return {
    irVersion: opset === 9 ? 4 : 6, opsetImport: [{ domain: '', version: opset }], producerName: 'fdk-test', producerVersion: '1',
    graph: {
      name: `legacy${opset}`, nodes, initializers: init, valueInfo: new Map(),
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8, 'H', 'W'] }],
      outputs: outs.map((name) => ({ name, dtype: 'float32' })),
    },
  };
}

describe.each([9, 11] as const)('opset %i attribute/input forms against onnxruntime', (opset) => {
  it('inferred shapes equal ort shapes', async () => {
    const model = legacyModel(opset);
    const p = join(mkdtempSync(join(tmpdir(), 'fdk-ops-')), `legacy${opset}.onnx`);
    saveOnnx(model, p);
    const s = await ort.InferenceSession.create(p, { logSeverityLevel: 3 });
    const r = await s.run({ x: new ort.Tensor('float32', new Float32Array(8 * 17 * 21).fill(0.5), [1, 8, 17, 21]) });
    await s.release();
    const shapes = inferShapes(model, { inputShapes: { '': [1, 8, 17, 21] } });
    expect(Object.keys(r).length).toBe(model.graph.outputs.length);
    for (const [name, t] of Object.entries(r)) expect(shapes.get(name)?.shape, name).toEqual([...t.dims]);
  });
});
