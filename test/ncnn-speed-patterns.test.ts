/**
 * Patterns where fdk's ncnn model ran slower than pnnx's conversion of the same corpus model
 * (docs/corpus.md, "ncnn run time"), each as a small graph built in TS, converted, run in real
 * ncnn against onnxruntime on seeded inputs, and checked for the layer pnnx writes for it.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { convertOnnxFileToNcnn } from '../src/convert/ncnn/index.js';
import { ortVsNcnn, seeded, expectWithinTolerance } from './newops-helpers.js';
import { tmp } from './ncnn-helpers.js';

const weight = (b: GraphBuilder, name: string, d: number[], seed: number) => b.constFloat(name, d, seeded(seed, d.reduce((p, q) => p * q, 1)));

/** ShuffleNet v2's channel shuffle as torch exports it: Reshape [1, g, c/g, h, w], Transpose [0,2,1,3,4], Reshape [1, c, h, w]. */
function shuffle(b: GraphBuilder, x: string, [c, h, w]: number[], g: number, tag: string): string {
  const v = b.op('Reshape', [x, b.constInt64(`g5${tag}`, [5], [1, g, c / g, h, w])]);
  const t = b.op('Transpose', [v], { perm: A.ints([0, 2, 1, 3, 4]) });
  return b.op('Reshape', [t, b.constInt64(`back${tag}`, [4], [1, c, h, w])]);
}

/** conv -> shuffle (groups g) -> conv, so the shuffle sits between packed convolution outputs as in ShuffleNet. */
function shuffleGraph(c: number, g: number): GraphBuilder {
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('x', 'float32', [1, 3, 6, 5]);
  const a = b.op('Conv', [x, weight(b, 'w1', [c, 3, 1, 1], 1)]);
  const s = shuffle(b, a, [c, 6, 5], g, '1');
  b.addOutput(b.op('Conv', [s, weight(b, 'w2', [4, c, 1, 1], 2)]), 'y', 'float32');
  return b;
}

describe('channel shuffle -> ShuffleChannel (passes/fuse-channel-shuffle.ts)', () => {
  for (const [c, g] of [[116, 2], [24, 3], [16, 4]])
    it(`Reshape [1,${g},${c / g},h,w] + Transpose + Reshape on ${c} channels -> one ShuffleChannel group ${g}`, async () => {
      const p = await ortVsNcnn(shuffleGraph(c, g), `shuffle-${c}-${g}`, { x: [1, 3, 6, 5] });
      expectWithinTolerance(p);
      expect(p.layerTypes).toEqual({ Input: 1, Convolution: 2, ShuffleChannel: 1 });
      expect(p.param).toMatch(new RegExp(`ShuffleChannel .* 0=${g} 1=0`));
    });

  it('--no-optimize keeps Reshape, Permute, Reshape (layer for layer)', () => {
    const dir = tmp('fdk-shuffle-');
    const onnx = join(dir, 's.onnx');
    saveOnnx(shuffleGraph(116, 2).build(), onnx);
    const r = convertOnnxFileToNcnn(onnx, { prefix: join(dir, 's'), optimize: false });
    expect(r.summary.layerTypes).toMatchObject({ Reshape: 2, Permute: 1 });
    expect(r.summary.layerTypes.ShuffleChannel).toBeUndefined();
  });

  it('the same swap of the outer axes on a view that mixes h and w into the groups stays Reshape + Permute + Reshape', async () => {
    // [1,4,6,8] viewed as [1,2,6,4,4]: the "groups" cut across h and w, so this is no channel shuffle
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 4, 6, 8]);
    const v = b.op('Reshape', [x, b.constInt64('v', [5], [1, 2, 6, 4, 4])]);
    const t = b.op('Transpose', [v], { perm: A.ints([0, 2, 1, 3, 4]) });
    b.addOutput(b.op('Reshape', [t, b.constInt64('bk', [4], [1, 12, 4, 4])]), 'y', 'float32');
    const p = await ortVsNcnn(b, 'not-shuffle', { x: [1, 4, 6, 8] });
    expectWithinTolerance(p);
    expect(p.layerTypes).toMatchObject({ Reshape: 2, Permute: 1 });
    expect(p.layerTypes.ShuffleChannel).toBeUndefined();
  });
});

describe('global pooling on the packed map (passes/global-pooling.ts)', () => {
  /** MobileNetV3's squeeze-excitation: x * hardsigmoid(fc2(relu(fc1(avgpool(x))))), fc = 1x1 Conv. */
  function seBlock(b: GraphBuilder, x: string, c: number, r: number): string {
    const pooled = b.op('GlobalAveragePool', [x]);
    const fc1 = b.op('Relu', [b.op('Conv', [pooled, weight(b, 'f1', [r, c, 1, 1], 21), weight(b, 'f1b', [r], 22)])]);
    const fc2 = b.op('Conv', [fc1, weight(b, 'f2', [c, r, 1, 1], 23), weight(b, 'f2b', [c], 24)]);
    return b.op('Mul', [b.op('HardSigmoid', [fc2], { alpha: A.float(1 / 6), beta: A.float(0.5) }), x]);
  }

  it('SE block: global Pooling (4=1) on the map, the two 1x1 Convs on the pooled vector as InnerProduct', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 3, 9, 7]);
    const a = b.op('Conv', [x, weight(b, 'w1', [24, 3, 3, 3], 1)], { pads: A.ints([1, 1, 1, 1]) });
    b.addOutput(seBlock(b, a, 24, 8), 'y', 'float32');
    const p = await ortVsNcnn(b, 'se-block', { x: [1, 3, 9, 7] });
    expectWithinTolerance(p);
    expect(p.layerTypes).toMatchObject({ Convolution: 1, Pooling: 1, InnerProduct: 2, BinaryOp: 1 });
    expect(p.layerTypes.Reshape).toBeUndefined();
    expect(p.param).toMatch(/Pooling .* 0=1 4=1\n/);
    expect(p.param).toMatch(/InnerProduct .* 0=8 1=1 2=192 9=1\n/);
  });

  it('a pooled [C,1,1] that a Concat reads, or a graph output: global Pooling + Reshape back to [C,1,1]', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 12, 5, 6]);
    const avg = b.op('GlobalAveragePool', [x]);
    const max = b.op('GlobalMaxPool', [b.op('Relu', [x])]);
    b.addOutput(b.op('Concat', [avg, max], { axis: A.int(1) }), 'y', 'float32');
    b.addOutput(b.op('GlobalAveragePool', [b.op('Sigmoid', [x])]), 'z', 'float32');
    const p = await ortVsNcnn(b, 'pool-keepdims', { x: [1, 12, 5, 6] });
    expectWithinTolerance(p);
    expect(p.layerTypes).toMatchObject({ Pooling: 3, Reshape: 3, Concat: 1 });
    expect(p.param).not.toMatch(/ 7=1/); // no adaptive pooling left
  });

  it('with a dynamic input (dims unknown when converting): global Pooling + Reshape to [C,1,1], the SE Convs stay', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 16, 'H', 'W']);
    b.addOutput(seBlock(b, x, 16, 4), 'y', 'float32');
    const p = await ortVsNcnn(b, 'se-dynamic', { x: [1, 16, 5, 7] });
    expectWithinTolerance(p);
    expect(p.layerTypes).toMatchObject({ Pooling: 1, Reshape: 1, Convolution: 2 });
    expect(p.param).toMatch(/Pooling .* 0=1 4=1\n/);
  });

  it('--no-optimize keeps the adaptive 1x1 Pooling and the Convolutions', () => {
    const dir = tmp('fdk-gpool-');
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 16, 4, 4]);
    b.addOutput(seBlock(b, x, 16, 4), 'y', 'float32');
    const onnx = join(dir, 'se.onnx');
    saveOnnx(b.build(), onnx);
    const r = convertOnnxFileToNcnn(onnx, { prefix: join(dir, 'se'), optimize: false });
    expect(r.summary.layerTypes).toMatchObject({ Pooling: 1, Convolution: 2 });
    expect(r.summary.layerTypes.InnerProduct).toBeUndefined();
  });
});

describe('Crops that cut one blob into consecutive pieces -> one Slice (passes/crops-to-slice.ts)', () => {
  /** x -> conv -> chunk(parts on channels) as torch exports it (one ONNX Slice per part) -> convs -> Concat. */
  function chunkGraph(cuts: number[][], c: number): GraphBuilder {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 3, 5, 6]);
    const a = b.op('Conv', [x, weight(b, 'w1', [c, 3, 1, 1], 31)]);
    const parts = cuts.map(([s, e], i) =>
      b.op('Slice', [a, b.constInt64(`s${i}`, [1], [s]), b.constInt64(`e${i}`, [1], [e]), b.constInt64(`a${i}`, [1], [1])]));
    const outs = parts.map((p, i) => b.op('Conv', [p, weight(b, `w${i + 2}`, [4, cuts[i][1] - cuts[i][0], 1, 1], 40 + i)]));
    b.addOutput(b.op('Concat', outs, { axis: A.int(1) }), 'y', 'float32');
    return b;
  }

  it("ShuffleNet's channel split (two halves of 116, the second read first) -> Slice [58,-233] on channels", async () => {
    const p = await ortVsNcnn(chunkGraph([[58, 116], [0, 58]], 116), 'chunk-halves', { x: [1, 3, 5, 6] });
    expectWithinTolerance(p);
    expect(p.layerTypes.Crop).toBeUndefined();
    expect(p.layerTypes).toMatchObject({ Slice: 1 });
    expect(p.param).toMatch(/Slice .* -23300=2,58,-233 1=0\n/);
  });

  it('three uneven pieces -> one Slice [3,5,-233]', async () => {
    const p = await ortVsNcnn(chunkGraph([[0, 3], [3, 8], [8, 12]], 12), 'chunk-three', { x: [1, 3, 5, 6] });
    expectWithinTolerance(p);
    expect(p.param).toMatch(/Slice .* -23300=3,3,5,-233 1=0\n/);
  });

  it('pieces that overlap or leave a gap stay Crops', async () => {
    const p = await ortVsNcnn(chunkGraph([[0, 6], [4, 12]], 12), 'chunk-overlap', { x: [1, 3, 5, 6] });
    expectWithinTolerance(p);
    expect(p.layerTypes).toMatchObject({ Crop: 2 });
    expect(p.layerTypes.Slice).toBeUndefined();
    const q = await ortVsNcnn(chunkGraph([[0, 4], [6, 12]], 12), 'chunk-gap', { x: [1, 3, 5, 6] });
    expectWithinTolerance(q);
    expect(q.layerTypes).toMatchObject({ Crop: 2 });
  });
});

describe('one-input Concat (passes/eliminate-single-concat.ts)', () => {
  it("DenseNet's torch.cat([x], 1): the Concat goes, its readers read x; a graph-output Concat stays", async () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 3, 6, 5]);
    const a = b.op('Conv', [x, weight(b, 'w1', [8, 3, 1, 1], 51)]);
    const one = b.op('Concat', [a], { axis: A.int(1) });
    const c = b.op('Conv', [one, weight(b, 'w2', [4, 8, 1, 1], 52)]);
    b.addOutput(b.op('Concat', [one, c], { axis: A.int(1) }), 'y', 'float32');
    b.addOutput(b.op('Concat', [b.op('Relu', [a])], { axis: A.int(1) }), 'z', 'float32');
    const p = await ortVsNcnn(b, 'single-concat', { x: [1, 3, 6, 5] });
    expectWithinTolerance(p);
    expect(p.layerTypes).toMatchObject({ Concat: 2, Convolution: 2 });
  });
});

describe('Reshapes that change nothing (passes/eliminate-noop-reshape.ts)', () => {
  /** conv -> [8, 20] -> transpose [20, 8] -> view [20, 2, 4] -> view [20, 8] (CRNN after its LSTM) -> view [20, 8] again -> sigmoid. */
  function graph(): GraphBuilder {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('x', 'float32', [1, 3, 4, 5]);
    const c = b.op('Conv', [x, weight(b, 'w', [8, 3, 1, 1], 61)]);
    const seq = b.op('Transpose', [b.op('Reshape', [c, b.constInt64('s1', [3], [1, 8, 20])])], { perm: A.ints([0, 2, 1]) });
    const split = b.op('Reshape', [seq, b.constInt64('s2', [4], [1, 20, 2, 4])]);
    const back = b.op('Reshape', [split, b.constInt64('s3', [3], [1, 20, 8])]);
    const same = b.op('Reshape', [back, b.constInt64('s4', [3], [1, 20, 8])]);
    b.addOutput(b.op('Sigmoid', [same]), 'y', 'float32');
    b.addOutput(b.op('Reshape', [b.op('Relu', [seq]), b.constInt64('s5', [3], [1, 20, 8])]), 'z', 'float32'); // a graph output: kept
    return b;
  }

  it('a view and its inverse, and a view to the same dims, go; their readers read the start blob; a graph output keeps its Reshape', async () => {
    const p = await ortVsNcnn(graph(), 'noop-reshape', { x: [1, 3, 4, 5] });
    expectWithinTolerance(p);
    // left: the [8,4,5] -> [8,20] view before the Permute, and the graph output's
    expect(p.layerTypes.Reshape).toBe(2);
  });

  it('--no-optimize keeps every Reshape (layer for layer)', () => {
    const dir = tmp('fdk-noop-reshape-');
    const onnx = join(dir, 'r.onnx');
    saveOnnx(graph().build(), onnx);
    const r = convertOnnxFileToNcnn(onnx, { prefix: join(dir, 'r'), optimize: false });
    expect(r.summary.layerTypes.Reshape).toBe(5);
    const o = convertOnnxFileToNcnn(onnx, { prefix: join(dir, 'o') });
    expect(o.summary.passes.noopReshape.removed).toBe(2); // the pair, and the single one
  });
});
