/**
 * One test per ONNX -> ncnn lowering added for conformance: a small ONNX graph built here, run in
 * onnxruntime and, converted by fdk, in the real ncnn (PyPI); outputs must agree (<= 1e-4), and the
 * ncnn layers used are the ones the lowering promises. Refusals are one error line naming op and node.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import type { Attr, Dim } from '../src/onnx/model.js';
import { saveOnnx } from '../src/onnx/io.js';
import { convertOnnxFileToNcnn } from '../src/convert/ncnn/index.js';
import type { LoadedModel } from '../src/runtime/types.js';
import { runCli, expectOneLineError } from './helpers/index.js';
import { compareRuns, ncnn, ort, tmp } from './ncnn-helpers.js';
import { interpSampling, onnxSampling, sameSampling, type ResizeKernel } from '../src/convert/ncnn/ops/resize-sampling.js';

const dir = tmp('fdk-ncnn-lower-');
const open: LoadedModel[] = [];
afterAll(async () => {
  for (const m of open) await m.release();
});

const values = (n: number, seed = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 * seed + seed) * 2);
const size = (d: number[]) => d.reduce((a, b) => a * b, 1);

let count = 0;
/** Builds `body(b, x)` on input [dims], saves it, returns the ONNX path. */
function model(dims: Dim[], opset: number, body: (b: GraphBuilder, x: string) => string): string {
  const b = new GraphBuilder({ opset });
  const x = b.addInput("x", "float32", dims);
  b.addOutput(body(b, x), 'y', 'float32');
  const p = join(dir, `m${count++}.onnx`);
  saveOnnx(b.build(), p);
  return p;
}

/** Converts, runs ORT and ncnn on the same input; returns the worst difference and the layer types. */
async function agree(onnx: string, dims: number[]): Promise<{ diff: number; layers: string[] }> {
  const r = convertOnnxFileToNcnn(onnx, { prefix: onnx.replace(/\.onnx$/, '') });
  const o = await (await ort()).load(onnx);
  const n = await (await ncnn()).load(r.paramPath);
  open.push(o, n);
  const d = await compareRuns(o, n, { x: { data: values(size(dims)), dims } });
  const layers = readFileSync(r.paramPath, 'utf8').split('\n').slice(2).map((l) => l.split(/\s+/)[0]).filter(Boolean);
  return { diff: Math.max(...Object.values(d)), layers };
}

const resize = (attrs: Record<string, Attr>, scales?: number[], sizes?: number[]) => (b: GraphBuilder, x: string) => {
  const roi = b.constFloat('roi', [0], []);
  const sc = scales ? b.constFloat('scales', [scales.length], scales) : '';
  const sz = sizes ? b.constInt64('sizes', [sizes.length], sizes) : '';
  return b.op('Resize', sizes ? [x, roi, sc, sz] : [x, roi, sc], attrs);
};

describe('Resize sampling matrices', () => {
  const k = (mode: ResizeKernel['mode'], ctm: string, extra: Partial<ResizeKernel> = {}): ResizeKernel => ({ mode, ctm, nearestMode: 'round_prefer_floor', cubicA: -0.75, excludeOutside: false, antialias: false, ...extra });
  it('linear half_pixel 2 -> 4 is the textbook matrix (edges clamped)', () => {
    const m = onnxSampling({ inSize: 2, outSize: 4, scale: 2 }, k('linear', 'half_pixel'));
    expect(Array.from(m.w)).toEqual([1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1]);
  });
  it('nearest half_pixel upsampling by an integer samples like ncnn (floor), downsampling by 0.6 does not', () => {
    expect(sameSampling(onnxSampling({ inSize: 5, outSize: 15, scale: 3 }, k('nearest', 'half_pixel')), interpSampling(1, false, 5, 15, 1 / 3))).toBe(true);
    expect(sameSampling(onnxSampling({ inSize: 5, outSize: 3, scale: 0.6 }, k('nearest', 'half_pixel')), interpSampling(1, false, 5, 3, 1 / 0.6))).toBe(false);
  });
  it('antialiased cubic downsampling: every row sums to 1 over a kernel wider than 4', () => {
    const m = onnxSampling({ inSize: 12, outSize: 4, scale: 1 / 3 }, k('cubic', 'half_pixel', { antialias: true }));
    for (let y = 0; y < 4; y++) {
      const row = Array.from(m.w.slice(y * 12, (y + 1) * 12));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(row.filter((v) => v !== 0).length).toBeGreaterThan(4);
    }
  });
  it('tf_crop_and_resize marks the positions sampled outside the input', () => {
    const m = onnxSampling({ inSize: 4, outSize: 3, scale: 0.75, roi: [-0.5, 1.5] }, k('linear', 'tf_crop_and_resize'));
    expect(m.extrapolated).toEqual([true, false, true]);
  });
});

describe('Resize', () => {
  it('nearest half_pixel, integer upsample: Interp (same sampling as asymmetric floor)', async () => {
    const r = await agree(model([1, 2, 5, 7], 13, resize({ mode: A.string('nearest') }, [1, 1, 2, 3])), [1, 2, 5, 7]);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toContain('Interp');
    expect(r.layers).not.toContain('MatMul');
  });
  it('linear half_pixel downsample by sizes: Interp', async () => {
    const r = await agree(model([1, 3, 9, 8], 13, resize({ mode: A.string('linear') }, undefined, [1, 3, 4, 5])), [1, 3, 9, 8]);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toContain('Interp');
  });
  it('linear asymmetric (not an Interp mode): exact MatMul sampling', async () => {
    const r = await agree(model([1, 2, 4, 6], 13, resize({ mode: A.string('linear'), coordinate_transformation_mode: A.string('asymmetric') }, [1, 1, 2, 1.5])), [1, 2, 4, 6]);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers.filter((l) => l === 'MatMul')).toHaveLength(2);
    expect(r.layers).not.toContain('Interp');
  });
  it('cubic with A=-0.5 and exclude_outside: MatMul sampling', async () => {
    const attrs = { mode: A.string('cubic'), cubic_coeff_a: A.float(-0.5), exclude_outside: A.int(1) };
    const r = await agree(model([1, 1, 6, 6], 13, resize(attrs, [1, 1, 1.5, 0.5])), [1, 1, 6, 6]);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toContain('MatMul');
  });
  it('align_corners bilinear: Interp with align_corner=1', async () => {
    const onnx = model([1, 2, 3, 4], 13, resize({ mode: A.string('linear'), coordinate_transformation_mode: A.string('align_corners') }, undefined, [1, 2, 7, 9]));
    const r = await agree(onnx, [1, 2, 3, 4]);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(readFileSync(onnx.replace('.onnx', '.param'), 'utf8')).toMatch(/^Interp .* 6=1/m);
  });
  it('sizes known only at run time in a mode Interp cannot express: one error line', () => {
    const onnx = model([1, 3, 'H', 'W'], 13, resize({ mode: A.string('linear'), coordinate_transformation_mode: A.string('asymmetric') }, [1, 1, 2, 2]));
    const r = runCli(['convert', onnx, '--to', 'ncnn', '-o', join(dir, 'dyn')]);
    expectOneLineError(r, /node '.*' \(Resize\): .*asymmetric.*--input/);
  });
});

describe('pooling', () => {
  const pool = (op: string, attrs: Record<string, Attr>) => (b: GraphBuilder, x: string) => b.op(op, [x], attrs);
  it('MaxPool with dilations: Padding + Crop taps + strided Pooling', async () => {
    const dims = [1, 3, 9, 10];
    const r = await agree(model(dims, 12, pool('MaxPool', { kernel_shape: A.ints([3, 2]), dilations: A.ints([2, 3]), strides: A.ints([2, 1]), pads: A.ints([1, 0, 2, 1]) })), dims);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toContain('Crop');
    expect(r.layers).toContain('Padding');
  });
  it('AveragePool ceil_mode + count_include_pad: decomposed with the ONNX divisor', async () => {
    const dims = [1, 2, 8, 8];
    const r = await agree(model(dims, 12, pool('AveragePool', { kernel_shape: A.ints([3, 3]), strides: A.ints([2, 2]), pads: A.ints([1, 1, 1, 1]), ceil_mode: A.int(1), count_include_pad: A.int(1) })), dims);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toContain('MemoryData');
  });
  it('1-D AveragePool: Pooling1D', async () => {
    const dims = [1, 4, 11];
    const r = await agree(model(dims, 11, pool('AveragePool', { kernel_shape: A.ints([3]), strides: A.ints([2]), pads: A.ints([1, 1]) })), dims);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toContain('Pooling1D');
  });
  it('3-D MaxPool with SAME_UPPER: Pooling3D', async () => {
    const dims = [1, 2, 5, 6, 7];
    const r = await agree(model(dims, 11, pool('MaxPool', { kernel_shape: A.ints([2, 3, 3]), strides: A.ints([2, 2, 2]), auto_pad: A.string('SAME_UPPER') })), dims);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toContain('Pooling3D');
  });
  it('MaxPool with the indices output: one error line', () => {
    const b = new GraphBuilder({ opset: 12 });
    const x = b.addInput('x', 'float32', [1, 1, 4, 4]);
    const [y] = b.node('MaxPool', [x], { outputs: ['y', 'idx'], attrs: { kernel_shape: A.ints([2, 2]) } });
    b.addOutput(y, 'y', 'float32');
    const p = join(dir, 'argmax.onnx');
    saveOnnx(b.build(), p);
    expectOneLineError(runCli(['convert', p, '--to', 'ncnn', '-o', join(dir, 'argmax')]), /\(MaxPool\): .*indices/);
  });
});

describe('ConvTranspose', () => {
  const deconv = (wdims: number[], attrs: Record<string, Attr>) => (b: GraphBuilder, x: string) => {
    const cout = wdims[1] * (attrs.group ? (attrs.group as { value: number }).value : 1);
    return b.op('ConvTranspose', [x, b.constFloat('w', wdims, values(size(wdims), 3)), b.constFloat('bias', [cout], values(cout, 5))], attrs);
  };
  it('output_shape: pads and output padding derived from it', async () => {
    const dims = [1, 2, 3, 4];
    const r = await agree(model(dims, 13, deconv([2, 3, 3, 3], { strides: A.ints([3, 2]), output_shape: A.ints([10, 8]) })), dims);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toContain('Deconvolution');
  });
  it('groups + auto_pad SAME_UPPER + output_padding', async () => {
    const dims = [1, 4, 5, 5];
    const r = await agree(model(dims, 13, deconv([4, 1, 3, 3], { group: A.int(2), strides: A.ints([2, 2]), auto_pad: A.string('SAME_UPPER'), output_padding: A.ints([1, 1]) })), dims);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toContain('DeconvolutionDepthWise');
  });
  it('1-D: Deconvolution1D', async () => {
    const dims = [1, 2, 6];
    const r = await agree(model(dims, 13, deconv([2, 3, 3], { strides: A.ints([2]), pads: A.ints([1, 0]) })), dims);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toContain('Deconvolution1D');
  });
});

describe('Pad', () => {
  const pad = (mode: string, pads: number[], opset = 11, axes?: number[]) => (b: GraphBuilder, x: string) => {
    const ins = [x, b.constInt64('pads', [pads.length], pads), opset >= 18 && axes ? b.constFloat('v', [], [0]) : ''];
    if (axes) ins.push(b.constInt64('axes', [axes.length], axes));
    return b.op('Pad', ins.filter((v, i) => v || i < 2 || axes), { mode: A.string(mode) });
  };
  it.each(['reflect', 'edge'])('%s mode: ncnn Padding type 2 / 1', async (mode) => {
    const dims = [1, 3, 5, 6];
    const r = await agree(model(dims, 11, pad(mode, [0, 0, 2, 1, 0, 0, 1, 3])), dims);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toContain('Padding');
  });
  it('opset 18 axes input and negative pads: Crop then Padding', async () => {
    const dims = [1, 3, 5, 6];
    const r = await agree(model(dims, 18, pad('constant', [-1, 2, 1, -2], 18, [2, 3])), dims);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toEqual(expect.arrayContaining(['Crop', 'Padding']));
  });
});

describe('Slice with steps', () => {
  const sl = (b: GraphBuilder, x: string, starts: number[], ends: number[], axes: number[], steps: number[]) =>
    b.op('Slice', [x, b.constInt64('s', [starts.length], starts), b.constInt64('e', [ends.length], ends), b.constInt64('a', [axes.length], axes), b.constInt64('t', [steps.length], steps)]);
  it('the YOLO Focus pattern x[..., ::2, ::2] (4 slices + Concat): copies only (Reorg + Crop), no arithmetic', async () => {
    const dims = [1, 3, 8, 10];
    const big = 2 ** 31 - 1;
    const onnx = model(dims, 13, (b, x) => {
      const parts = [[0, 0], [1, 0], [0, 1], [1, 1]].map(([h, w]) => sl(b, x, [h, w], [big, big], [2, 3], [2, 2]));
      return b.op('Concat', parts, { axis: A.int(1) });
    });
    const r = await agree(onnx, dims);
    expect(r.diff).toBe(0);
    expect(r.layers).not.toContain('MatMul');
    expect(r.layers).not.toContain('BinaryOp');
    // the strided-slice pass (ops/strided-slice.ts) turns the space-to-depth pattern into ncnn's Reorg
    expect(r.layers).toContain('Reorg');
  });
  it('a step that leaves an incomplete last group', async () => {
    const dims = [1, 2, 5, 11];
    const r = await agree(model(dims, 13, (b, x) => sl(b, x, [1, 0], [5, 11], [-1, 2], [3, 2])), dims);
    expect(r.diff).toBe(0);
  });
  it('negative steps (reversal) on two axes, mixed with a positive step: MatMul selection', async () => {
    const dims = [1, 3, 5, 7];
    const r = await agree(model(dims, 13, (b, x) => sl(b, x, [-1, 4, 0], [-100, 0, 3], [3, 2, 1], [-2, -1, 2])), dims);
    expect(r.diff).toBe(0);
    expect(r.layers).toContain('MatMul');
  });
  it('a zero step: one error line naming op and node', () => {
    const onnx = model([1, 2, 4, 4], 13, (b, x) => sl(b, x, [0], [4], [3], [0]));
    expectOneLineError(runCli(['convert', onnx, '--to', 'ncnn', '-o', join(dir, 'zero')]), /node '.*' \(Slice\): .*include 0/);
  });
});

describe('shape ops and elementwise', () => {
  it('Transpose of rank 5 that moves the unit batch axis ([1,4,1,3,5] perm [2,0,3,1,4])', async () => {
    const dims = [1, 4, 1, 3, 5];
    const r = await agree(model(dims, 13, (b, x) => b.op('Transpose', [x], { perm: A.ints([2, 0, 3, 1, 4]) })), dims);
    expect(r.diff).toBe(0);
    expect(r.layers).toContain('Permute');
  });
  it('attention with batch 1: Reshape [1,N,3,H,D] -> Transpose [2,0,3,1,4] -> Split/Squeeze into q, k, v -> softmax(q kᵀ) v', async () => {
    const dims = [1, 6, 12];
    const onnx = model(dims, 13, (b, x) => {
      const qkv = b.op('Reshape', [x, b.constInt64('shape', [5], [1, 6, 3, 2, 2])]);
      const t = b.op('Transpose', [qkv], { perm: A.ints([2, 0, 3, 1, 4]) });
      const parts = b.node('Split', [t, b.constInt64('split', [3], [1, 1, 1])], { outputs: 3, attrs: { axis: A.int(0) } });
      const [q, k, v] = parts.map((p) => b.op('Squeeze', [p, b.constInt64('ax0', [1], [0])]));
      const att = b.op('Softmax', [b.op('MatMul', [q, b.op('Transpose', [k], { perm: A.ints([0, 1, 3, 2]) })])], { axis: A.int(-1) });
      return b.op('MatMul', [att, v]);
    });
    const r = await agree(onnx, dims);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
    expect(r.layers).toEqual(expect.arrayContaining(['Permute', 'Slice', 'Squeeze', 'MatMul', 'Softmax']));
  });
  it('a moved batch axis read by an elementwise op: re-laid batch-major (ops/sequence-layout.ts), same outputs', async () => {
    const dims = [1, 4, 3, 2];
    const onnx = model(dims, 13, (b, x) => b.op('Relu', [b.op('Transpose', [x], { perm: A.ints([2, 0, 1, 3]) })]));
    const r = convertOnnxFileToNcnn(onnx, { prefix: onnx.replace(/\.onnx$/, '') });
    const [o, n] = [await (await ort()).load(onnx), await (await ncnn()).load(r.paramPath)];
    open.push(o, n);
    const feed = { x: { data: values(size(dims)), dims } };
    const [a, c] = [(await o.run(feed)).outputs.y, (await n.run(feed)).outputs.y];
    // ort's [3,1,4,2] comes out of ncnn as a batch-major Mat (3,4,2): the same values in the same order
    expect(a.dims).toEqual([3, 1, 4, 2]);
    expect(c.dims.filter((d) => d !== 1)).toEqual([3, 4, 2]);
    expect(Array.from(c.data)).toEqual(Array.from(a.data));
  });
  it('a moved batch axis that neither the re-layout nor the lowering can carry: one error line', () => {
    // Flatten from axis 1 of [3,1,4,2] would merge the unit axis into the data: no ncnn layout for it
    const onnx = model([1, 4, 3, 2], 13, (b, x) => b.op('Flatten', [b.op('Transpose', [x], { perm: A.ints([2, 0, 1, 3]) })], { axis: A.int(2) }));
    expectOneLineError(runCli(['convert', onnx, '--to', 'ncnn', '-o', join(dir, 'moved')]), /\(Flatten\)/);
    expect(existsSync(join(dir, 'moved.param'))).toBe(false);
  });
  it('Reshape copying a dim (0) while changing rank, with static sizes', async () => {
    const dims = [1, 2, 3, 4];
    const r = await agree(model(dims, 13, (b, x) => b.op('Reshape', [x, b.constInt64('shape', [5], [1, 0, 3, 2, -1])])), dims);
    expect(r.diff).toBe(0);
  });
  it('MatMul by a constant vector and Max of three operands with a constant', async () => {
    const dims = [1, 2, 3, 4];
    const onnx = model(dims, 13, (b, x) => {
      const m = b.op('MatMul', [x, b.constFloat('v', [4], [0.5, -1, 2, 0.25])]);
      return b.op('Max', [m, b.op('Neg', [m]), b.constFloat('c', [1], [0.3])]);
    });
    const r = await agree(onnx, dims);
    expect(r.diff).toBeLessThanOrEqual(1e-4);
  });
  it('an input with a zero-size dim: one error line', () => {
    const onnx = model([1, 0, 4], 13, (b, x) => b.op('Relu', [x]));
    expectOneLineError(runCli(['convert', onnx, '--to', 'ncnn', '-o', join(dir, 'empty')]), /zero-size/);
  });
});
