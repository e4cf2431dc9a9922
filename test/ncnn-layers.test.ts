/**
 * The layer records (src/convert/ncnn/layers) against the real ncnn: hand-written .param files are
 * loaded and run by ncnn (PyPI, via fdk's ncnn runtime) and what ncnn does is compared with what
 * fdk's reader and analyzer say — so these tests prove ncnn's semantics, not fdk's own.
 *
 * - .bin layouts: every weight-bearing layer is followed by a MemoryData "sentinel" whose values
 *   come right after the layer's buffers in the .bin. ncnn loads buffers in sequence, so it returns
 *   a sentinel intact only if fdk's layout consumed exactly the bytes ncnn's load_model reads.
 * - output dims: every output blob ncnn computes is compared with fdk's propagateDims.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { float, int, ints, writeParam, writeBin, readNcnnModel, type NcnnLayer, type ParamValue } from '../src/convert/ncnn/format/index.js';
import { weightLayout } from '../src/convert/ncnn/format/bin.js';
import { propagateDims } from '../src/convert/ncnn/shapes.js';
import { analyzeNcnn } from '../src/convert/ncnn/analyze.js';
import { LAYERS, binaryOpDims } from '../src/convert/ncnn/layers/index.js';
import { OP_TABLE } from '../src/convert/ncnn/op-table.js';
import { ncnnRuntime, type NcnnModel } from '../src/runtime/ncnn.js';
import type { TensorMap } from '../src/runtime/types.js';
import { tmp } from './ncnn-helpers.js';
import { runCli, expectOneLineError } from './helpers/index.js';

type P = Record<number, ParamValue | number>;
/** Integers are written as ints; use float()/floats() for float params (ncnn reads the token's type). */
const params = (p: P) => new Map(Object.entries(p).map(([k, v]) => [Number(k), typeof v === 'number' ? int(v) : v] as [number, ParamValue]));

/** Deterministic small values (a fixed LCG), so weights are not all alike. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s >>> 8) / 2 ** 24 - 0.5) * 0.5;
  }
  return out;
}

/** A layer whose weights follow fdk's layout for its params (what the test checks ncnn agrees with). */
function L(type: string, name: string, inputs: string[], outputs: string[], p: P = {}, storage?: 'int8'): NcnnLayer {
  const pm = params(p);
  const layout = weightLayout(type, pm);
  if (!layout) throw new Error(`no record for ${type}`);
  const weights = layout.map(([count, tagged], i) => {
    let data = values(count, name.length * 131 + i);
    if (storage === 'int8' && tagged) data = Float32Array.from(data, (v) => Math.round(v * 200) + 0);
    return { data, tagged, storage: tagged ? storage : undefined };
  });
  return { type, name, inputs, outputs, params: pm, weights };
}

/** An Input layer declaring its dims (a 4-D one declares none: fdk's ncnn runtime checks declared inputs as (c,h,w)). */
const inputLayer = (name: string, dims: number[]): NcnnLayer => {
  const [w, h, c] = [...dims].reverse();
  if (dims.length === 4) return L('Input', name, [], [name]);
  return L('Input', name, [], [name], { 0: w, ...(h ? { 1: h } : {}), ...(c ? { 2: c } : {}) } as P);
};
const sentinelValues = (k: number) => Float32Array.from([k + 0.25, -k - 0.5, 1000 + k, 7]);
const sentinel = (k: number): NcnnLayer => ({ type: 'MemoryData', name: `sentinel${k}`, inputs: [], outputs: [`sentinel${k}`], params: params({ 0: 4 }), weights: [{ data: sentinelValues(k), tagged: false }] });

function writeNet(layers: NcnnLayer[], stem: string): string {
  const dir = tmp('fdk-ncnn-layers-');
  const p = join(dir, `${stem}.param`);
  writeFileSync(p, writeParam({ layers }));
  writeFileSync(join(dir, `${stem}.bin`), Buffer.concat(writeBin(layers)));
  return p;
}

const loaded: NcnnModel[] = [];
afterAll(async () => {
  for (const m of loaded) await m.release();
});
async function load(param: string): Promise<NcnnModel> {
  const m = await ncnnRuntime.load(param);
  loaded.push(m);
  return m;
}
function inputsFor(layers: NcnnLayer[], dims: Record<string, number[]>, integers = new Set<string>()): TensorMap {
  const out: TensorMap = {};
  for (const l of layers.filter((x) => x.type === 'Input')) {
    const d = dims[l.outputs[0]];
    const data = values(d.reduce((a, b) => a * b, 1), 7);
    out[l.outputs[0]] = { data: integers.has(l.outputs[0]) ? data.map((_, i) => i % 3) : data, dims: [1, ...d] };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One net holding every weight-bearing layer type, each reading its own input.

const IN: Record<string, number[]> = {
  img: [3, 8, 8], dw: [4, 8, 8], seq1d: [3, 10], vol3d: [2, 5, 6, 6], small: [3, 4, 4], dwsmall: [4, 4, 4], tokens: [5, 6], rows: [4, 6], ids: [5], gn: [4, 3, 3], offs: [18, 6, 6],
};
/** [layer, run it? (false: load only — int8 outputs and quantizers' int32 inputs)] */
const CASES: [NcnnLayer, boolean][] = [
  [L('Convolution', 'conv', ['img'], ['conv'], { 0: 4, 1: 3, 5: 1, 6: 108 }), true],
  [L('Convolution', 'conv_int8', ['img'], ['conv_int8'], { 0: 4, 1: 3, 5: 1, 6: 108, 8: 1 }, 'int8'), true],
  [L('ConvolutionDepthWise', 'dwconv', ['dw'], ['dwconv'], { 0: 4, 1: 3, 3: 2, 4: 1, 5: 1, 6: 36, 7: 4 }), true],
  [L('ConvolutionDepthWise', 'dwconv_int8', ['dw'], ['dwconv_int8'], { 0: 4, 1: 3, 5: 1, 6: 36, 7: 4, 8: 1 }, 'int8'), true],
  [L('Convolution1D', 'conv1d', ['seq1d'], ['conv1d'], { 0: 4, 1: 3, 5: 1, 6: 36 }), true],
  [L('ConvolutionDepthWise1D', 'dwconv1d', ['seq1d'], ['dwconv1d'], { 0: 3, 1: 3, 5: 1, 6: 9, 7: 3 }), true],
  [L('Convolution3D', 'conv3d', ['vol3d'], ['conv3d'], { 0: 3, 1: 3, 5: 1, 6: 162 }), true],
  [L('Deconvolution', 'deconv', ['small'], ['deconv'], { 0: 2, 1: 3, 3: 2, 5: 1, 6: 54 }), true],
  [L('DeconvolutionDepthWise', 'dwdeconv', ['dwsmall'], ['dwdeconv'], { 0: 4, 1: 3, 3: 2, 4: 1, 5: 1, 6: 36, 7: 4 }), true],
  [L('InnerProduct', 'fc', ['small'], ['fc'], { 0: 5, 1: 1, 2: 240 }), true],
  [L('InnerProduct', 'fc_int8', ['small'], ['fc_int8'], { 0: 5, 1: 1, 2: 240, 8: 1 }, 'int8'), true],
  [L('BatchNorm', 'bn', ['small'], ['bn'], { 0: 3 }), true],
  [L('Scale', 'scale', ['small'], ['scale'], { 0: 3, 1: 1 }), true],
  [L('Bias', 'bias', ['small'], ['bias'], { 0: 3 }), true],
  [L('PReLU', 'prelu', ['small'], ['prelu'], { 0: 3 }), true],
  [L('LayerNorm', 'layernorm', ['rows'], ['layernorm'], { 0: 6, 1: float(1e-5), 2: 1 }), true],
  [L('GroupNorm', 'groupnorm', ['gn'], ['groupnorm'], { 0: 2, 1: 4, 2: float(1e-5), 3: 1 }), true],
  [L('InstanceNorm', 'instnorm', ['small'], ['instnorm'], { 0: 3, 1: float(1e-5), 2: 1 }), true],
  [L('Normalize', 'normalize', ['small'], ['normalize'], { 0: 1, 1: 1, 2: float(1e-5), 3: 1 }), true],
  [L('Padding', 'pad', ['small'], ['pad'], { 0: 1, 1: 1, 2: 1, 3: 1, 6: 3 }), true],
  [L('Embed', 'embed', ['ids'], ['embed'], { 0: 4, 1: 10, 2: 1, 3: 40 }), true],
  [L('LSTM', 'lstm', ['tokens'], ['lstm'], { 0: 4, 1: 96, 2: 0 }), true],
  [L('LSTM', 'lstm_proj_bi', ['tokens'], ['lstm_proj_bi'], { 0: 4, 1: 384, 2: 2, 3: 8 }), true],
  [L('GRU', 'gru', ['tokens'], ['gru'], { 0: 4, 1: 72, 2: 0 }), true],
  [L('GRU', 'gru_bi', ['tokens'], ['gru_bi'], { 0: 4, 1: 144, 2: 2 }), true],
  [L('RNN', 'rnn', ['tokens'], ['rnn'], { 0: 4, 1: 24, 2: 0 }), true],
  [L('MultiHeadAttention', 'mha', ['tokens'], ['mha'], { 0: 8, 1: 2, 2: 48, 3: 6, 4: 6 }), true],
  [L('Gemm', 'gemm', ['rows'], ['gemm'], { 3: 1, 5: 1, 6: 1, 8: 3, 9: 6, 10: 4 }), true],
  [L('Gemm', 'gemm_constA', ['rows'], ['gemm_constA'], { 2: 0, 4: 1, 7: 2, 9: 4, 3: 1 }), false],
  [L('DeformableConv2D', 'deform', ['img', 'offs'], ['deform'], { 0: 4, 1: 3, 5: 1, 6: 108 }), true],
  [L('GLU', 'glu', ['rows'], ['glu'], { 0: -1 }), true],
  [L('Flip', 'flip', ['small'], ['flip'], { 0: ints([0, 2]) }), true],
  [L('MemoryData', 'memory_none', [], ['memory_none']), true],
  [L('MemoryData', 'memory_tagged', [], ['memory_tagged'], { 0: 3, 1: 2, 21: 0 }), true],
  [L('Interp', 'interp_scale', ['small'], ['interp_scale'], { 0: 2, 1: float(2), 2: float(1.5) }), true],
  [L('Interp', 'interp_1d', ['ids'], ['interp_1d'], { 0: 1, 3: 2, 4: 3 }), true],
  [L('Quantize', 'quantize', ['small'], ['quantize'], { 0: 1 }), false],
  [L('Dequantize', 'dequantize', ['small'], ['dequantize'], { 0: 1, 1: 3 }), false],
  [L('Requantize', 'requantize', ['small'], ['requantize'], { 0: 1, 1: 1, 2: 3 }), false],
];

describe('ncnn layer records vs the real ncnn', () => {
  const layers: NcnnLayer[] = [...Object.entries(IN).map(([n, d]) => inputLayer(n, d))];
  CASES.forEach(([l], k) => layers.push(l, sentinel(k)));
  const param = writeNet(layers, 'weights');

  it('ncnn reads exactly the .bin bytes fdk\'s layout gives, for every weight-bearing layer type (sentinels intact)', async () => {
    const m = await load(param);
    const names = CASES.map((_, k) => `sentinel${k}`);
    const got = await m.extract({}, names);
    CASES.forEach(([l], k) => expect([...got.blobs[names[k]].tensor.data], `buffers of ${l.type} '${l.name}'`).toEqual([...sentinelValues(k)]));
    // and fdk reads its own .bin back to the same buffers (int8 stays int8)
    const back = readNcnnModel(param);
    expect(back.layers.map((l) => l.weights.map((w) => [...w.data]))).toEqual(layers.map((l) => l.weights.map((w) => [...w.data])));
    expect(back.layers.find((l) => l.name === 'conv_int8')!.weights[0].storage).toBe('int8');
  });

  it('ncnn computes the output dims fdk propagates, for every layer that runs on float input', async () => {
    const m = await load(param);
    const run = CASES.filter(([, r]) => r).map(([l]) => l.outputs[0]);
    const got = await m.extract(inputsFor(layers, IN, new Set(['ids'])), run);
    const dims = propagateDims(layers, IN, param);
    const ours = Object.fromEntries(run.map((b) => [b, dims.get(b)]));
    const theirs = Object.fromEntries(run.map((b) => [b, got.blobs[b].ncnnDims]));
    expect(ours).toEqual(theirs);
  });

  it('fdk analyze reads the file (LayerNorm, LSTM, MultiHeadAttention... weights included) and counts their parameters', () => {
    const g = analyzeNcnn(param, { convention: 'onnx-tool', inputShapes: Object.fromEntries(Object.entries(IN).map(([k, v]) => [k, [1, ...v]])) });
    const byName = new Map(g.layers.map((l) => [l.name, l]));
    // int8 scales are quantization metadata, not parameters
    const int8 = new Set(['conv_int8', 'dwconv_int8', 'fc_int8']);
    for (const [l] of CASES) if (!int8.has(l.name)) expect(byName.get(l.name)?.params, l.name).toBe(l.weights.reduce((s, w) => s + w.data.length, 0));
    expect(byName.get('conv_int8')!.params).toBe(108 + 4);
    expect(byName.get('lstm')!.macs).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('BinaryOp broadcasting follows ncnn', () => {
  /** Operands as MemoryData blobs of the given ncnn dims (outer-first). */
  const OPERANDS: Record<string, number[]> = { chw: [6, 4, 5], c: [6], w: [5], c11: [6, 1, 1], one_hw: [1, 4, 5], hw: [4, 5], h: [4], ch: [6, 4], cdhw: [3, 6, 4, 5], c4: [3], cdh: [3, 6, 4] };
  const PAIRS: [string, string][] = [
    ['chw', 'c'], ['c', 'chw'], ['chw', 'w'], ['chw', 'c11'], ['chw', 'one_hw'], ['chw', 'ch'], ['hw', 'h'], ['hw', 'w'], ['h', 'hw'], ['cdhw', 'c4'], ['cdhw', 'cdh'], ['cdh', 'cdhw'],
  ];
  const mem = (name: string, d: number[]): NcnnLayer => {
    const [w, h, c] = [...d].reverse();
    const p: P = { 0: w };
    if (h) p[1] = h;
    if (d.length === 4) Object.assign(p, { 11: d[1], 2: d[0] });
    else if (c) p[2] = c;
    return L('MemoryData', name, [], [name], p);
  };
  const layers: NcnnLayer[] = Object.entries(OPERANDS).map(([n, d]) => mem(n, d));
  // each operand is read by several layers, so each read goes through its own Split output
  const reads = new Map<string, number>();
  const use = (b: string) => `${b}_${reads.set(b, (reads.get(b) ?? 0) + 1).get(b)}`;
  const ops = PAIRS.map(([a, b]) => L('BinaryOp', `${a}_x_${b}`, [use(a), use(b)], [`${a}_x_${b}`], { 0: 2 }));
  for (const [n] of Object.entries(OPERANDS)) {
    const k = reads.get(n) ?? 0;
    if (k) layers.push({ type: 'Split', name: 'splitncnn_0', inputs: [n], outputs: Array.from({ length: k }, (_, i) => `${n}_${i + 1}`), params: new Map(), weights: [] });
  }
  layers.push(...ops);
  const param = writeNet(layers, 'broadcast');

  it('a [c] blob against a (c,h,w) blob is per channel (the [1,192,20,20] x [192] case), and every other pair as ncnn computes it', async () => {
    const m = await load(param);
    const got = await m.extract({}, ops.map((o) => o.outputs[0]));
    const dims = propagateDims(layers, {}, param);
    for (const o of ops) expect(dims.get(o.outputs[0]), o.name).toEqual(got.blobs[o.outputs[0]].ncnnDims);
    expect(dims.get('chw_x_c')).toEqual([6, 4, 5]);
    expect(binaryOpDims([192, 20, 20], [192])).toEqual([192, 20, 20]);
  });

  it('file with repeated layer names (every Split here is splitncnn_0) loads in ncnn and in fdk', async () => {
    expect(layers.filter((l) => l.name === 'splitncnn_0').length).toBeGreaterThan(1);
    await load(param); // throws if ncnn refuses it
    expect(readNcnnModel(param).layers.length).toBe(layers.length);
  });

  it('operands that ncnn cannot broadcast are a clear error, not a made-up shape', () => {
    expect(() => binaryOpDims([6, 4, 5], [4])).toThrow(/do not broadcast by ncnn's rules/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('layer registry', () => {
  it('has a record for every ncnn layer type the op table can emit', () => {
    const emitted = new Set(Object.values(OP_TABLE).flatMap((e) => e.ncnn.split('/').map((s) => s.trim())).filter((t) => !t.startsWith('(')));
    expect(emitted.size).toBeGreaterThan(20);
    const missing = [...emitted].filter((t) => !LAYERS.has(t));
    expect(missing).toEqual([]);
  });

  it('covers the layer types pnnx and onnx2ncnn emit', () => {
    const required = [
      'Convolution', 'ConvolutionDepthWise', 'Convolution1D', 'ConvolutionDepthWise1D', 'Convolution3D', 'ConvolutionDepthWise3D', 'Deconvolution', 'DeconvolutionDepthWise',
      'InnerProduct', 'BatchNorm', 'Scale', 'Bias', 'PReLU', 'LayerNorm', 'GroupNorm', 'InstanceNorm', 'Embed', 'LSTM', 'GRU', 'RNN', 'MultiHeadAttention', 'Gemm', 'MatMul',
      'Interp', 'Pooling', 'Padding', 'Crop', 'Reshape', 'Permute', 'Flatten', 'Concat', 'Slice', 'Split', 'Softmax', 'Sigmoid', 'ReLU', 'Clip', 'Swish', 'HardSwish',
      'HardSigmoid', 'GELU', 'Erf', 'UnaryOp', 'BinaryOp', 'Eltwise', 'Reduction', 'ArgMax', 'Dropout', 'Noop', 'Input', 'MemoryData', 'Squeeze', 'ExpandDims', 'Reorg',
      'PixelShuffle', 'ShuffleChannel', 'Dequantize', 'Quantize', 'Requantize',
    ];
    expect(required.filter((t) => !LAYERS.has(t))).toEqual([]);
    // every param id appears once per record
    for (const r of LAYERS.values()) expect(new Set(r.params.map((p) => p.id)).size, r.type).toBe(r.params.length);
  });
});

describe('files ncnn would refuse', () => {
  it('an unknown layer type is one error line naming the file and the layer', () => {
    const p = join(tmp('fdk-ncnn-layers-'), 'unknown.param');
    writeFileSync(p, '7767517\n2 2\nInput in 0 1 in 0=4 1=4 2=3\nFancyLayer fancy 1 1 in out 0=1\n');
    writeFileSync(p.replace('.param', '.bin'), '');
    expectOneLineError(runCli(['analyze', p]), /unknown\.param.*'fancy'.*FancyLayer/);
  });
});

describe('a squeeze-excite block as pnnx writes it', () => {
  // global pooling gives a 1-D [c] blob, the 1x1 convolutions run on it as InnerProducts, and the
  // per-channel BinaryOp scales the (c,h,w) blob: the pattern behind the 35.0 G vs 2.54 G report
  const layers: NcnnLayer[] = [
    inputLayer('x', [6, 4, 5]),
    { type: 'Split', name: 'splitncnn_0', inputs: ['x'], outputs: ['x_0', 'x_1'], params: new Map(), weights: [] },
    L('Pooling', 'pool', ['x_0'], ['pooled'], { 0: 1, 4: 1 }),
    L('Convolution', 'fc1', ['pooled'], ['fc1'], { 0: 3, 1: 1, 5: 1, 6: 18, 9: 1 }),
    L('Convolution', 'fc2', ['fc1'], ['fc2'], { 0: 6, 1: 1, 5: 1, 6: 18 }),
    L('HardSigmoid', 'gate', ['fc2'], ['gate'], { 0: float(1 / 6), 1: float(0.5) }),
    L('BinaryOp', 'scale', ['x_1', 'gate'], ['y'], { 0: 2 }),
  ];
  const param = writeNet(layers, 'se');

  it('has the dims ncnn computes and counts the BinaryOp over c*h*w elements', async () => {
    const m = await load(param);
    const blobs = ['pooled', 'fc1', 'fc2', 'gate', 'y'];
    const got = await m.extract(inputsFor(layers, { x: [6, 4, 5] }), blobs);
    const dims = propagateDims(layers, { x: [6, 4, 5] }, param);
    expect(Object.fromEntries(blobs.map((b) => [b, dims.get(b)]))).toEqual(Object.fromEntries(blobs.map((b) => [b, got.blobs[b].ncnnDims])));
    const g = analyzeNcnn(param, { convention: 'onnx-tool' });
    expect(g.layers.find((l) => l.name === 'scale')!.macs).toBe(6 * 4 * 5);
    expect(g.layers.find((l) => l.name === 'fc1')!.outputs[0].shape).toEqual([1, 3]);
  });
});

describe('.bin storage tags', () => {
  it('a quantization-table buffer (any other non-zero tag) reads as ncnn reads it', async () => {
    // Convolution 1x1, 3 inputs -> 1 output; its weights as a 256-entry table + one uint8 index each
    const dir = tmp('fdk-ncnn-layers-');
    const param = join(dir, 'table.param');
    writeFileSync(param, '7767517\n2 2\nInput in 0 1 in 0=1 1=1 2=3\nConvolution conv 1 1 in out 0=1 1=1 6=3\n');
    const table = Float32Array.from({ length: 256 }, (_, i) => i * 0.5 - 7);
    const bin = Buffer.concat([Buffer.from([1, 0, 0, 0]), Buffer.from(table.buffer), Buffer.from([20, 3, 200, 0])]);
    writeFileSync(join(dir, 'table.bin'), bin);
    const w = readNcnnModel(param).layers[1].weights[0].data;
    expect([...w]).toEqual([table[20], table[3], table[200]]);
    const m = await load(param);
    const x = Float32Array.from([1, 10, 100]);
    const got = await m.run({ in: { data: x, dims: [1, 3, 1, 1] } });
    expect(got.outputs.out.data[0]).toBeCloseTo(w[0] * 1 + w[1] * 10 + w[2] * 100, 3);
  });
});
