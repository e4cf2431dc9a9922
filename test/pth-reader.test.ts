/**
 * The PyTorch checkpoint reader on the real seed files (legacy format) and on checkpoints the
 * tests build themselves (legacy and zip layouts, float16 / int64 / strided tensors, wrappers).
 */
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, parseCheckpoint, tensorFloat32 } from '../src/convert/pytorch/checkpoint.js';
import { loadOnnx } from '../src/onnx/io.js';
import { shared } from './helpers/index.js';
import { legacyCheckpoint, zipCheckpoint, type FixtureTensor } from './pth-fixtures.js';

const FILES: [string, number, string, number[]][] = [
  ['models/retinaface-1mb/slim_Final.pth', 198, 'conv1.0.weight', [16, 3, 3, 3]],
  ['models/retinaface-1mb/RBF_Final.pth', 258, 'conv8.branch0.0.conv.weight', [8, 64, 1, 1]],
  ['models/retinaface-1mb/mobilenet0.25_Final.pth', 300, 'LandmarkHead.2.conv1x1.weight', [20, 64, 1, 1]],
  ['models/ultra-light-1mb/pretrained/version-slim-320.pth', 184, 'extras.0.2.2.weight', [256, 64, 1, 1]],
  ['models/ultra-light-1mb/pretrained/version-slim-640.pth', 184, 'classification_headers.3.weight', [6, 256, 3, 3]],
  ['models/ultra-light-1mb/pretrained/version-RFB-320.pth', 244, 'base_net.7.shortcut.conv.weight', [64, 64, 1, 1]],
  ['models/ultra-light-1mb/pretrained/version-RFB-640.pth', 244, 'regression_headers.0.2.bias', [12]],
];

describe('legacy checkpoints of the seed project', () => {
  it.each(FILES)('%s: %i tensors, known key and shape', (file, count, key, shape) => {
    const c = loadCheckpoint(shared(file));
    expect(c.format).toBe('legacy');
    expect(c.tensors.size).toBe(count);
    expect(c.tensors.get(key)?.shape).toEqual(shape);
    const steps = [...c.tensors.entries()].filter(([k]) => k.endsWith('num_batches_tracked'));
    expect(steps.length).toBeGreaterThan(0);
    for (const [, t] of steps) {
      expect(t.dtype).toBe('int64');
      expect(t.shape).toEqual([]);
      expect(t.data.length).toBe(1);
      expect(t.data[0]).toBeGreaterThan(0n); // trained models: BN saw batches
    }
  });

  it('values equal the weights in the project\'s own ONNX export of the same model (all 184 tensors, bit for bit)', () => {
    const c = loadCheckpoint(shared('models/ultra-light-1mb/pretrained/version-slim-320.pth'));
    const onnx = loadOnnx(shared('models/ultra-light-1mb/onnx/version-slim-320.onnx'));
    let compared = 0;
    for (const [k, t] of c.tensors) {
      const o = onnx.graph.initializers.get(k);
      expect(o, k).toBeDefined();
      expect(o!.dims).toEqual(t.shape);
      if (t.dtype === 'float32') expect(Buffer.from(o!.bytes).equals(Buffer.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))), k).toBe(true);
      else expect(o!.toNumbers()).toEqual([...t.data].map(Number));
      compared++;
    }
    expect(compared).toBe(184);
  });
});

/** A few tensors covering the dtypes, a storage offset and a non-contiguous (transposed) view. */
function sampleTensors(): [string, FixtureTensor][] {
  const halfs = Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x0000]); // 1, -2, 0.5, 0
  return [
    ['a.weight', { dtype: 'float32', shape: [2, 3], storage: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['a.offset', { dtype: 'float32', shape: [2], storage: Float32Array.from([9, 8, 7, 6]), offset: 2 }],
    ['a.transposed', { dtype: 'float32', shape: [3, 2], storage: Float32Array.from([1, 2, 3, 4, 5, 6]), stride: [1, 3] }],
    ['b.half', { dtype: 'float16', shape: [4], storage: halfs }],
    ['b.num_batches_tracked', { dtype: 'int64', shape: [], storage: BigInt64Array.from([123456789012n]) }],
  ];
}

function checkSample(tensors: ReturnType<typeof loadCheckpoint>['tensors']) {
  expect([...tensors.keys()]).toEqual(['a.weight', 'a.offset', 'a.transposed', 'b.half', 'b.num_batches_tracked']);
  expect([...tensorFloat32(tensors.get('a.weight')!)]).toEqual([1, 2, 3, 4, 5, 6]);
  expect([...tensorFloat32(tensors.get('a.offset')!)]).toEqual([7, 6]);
  expect(tensors.get('a.transposed')!.shape).toEqual([3, 2]);
  expect([...tensorFloat32(tensors.get('a.transposed')!)]).toEqual([1, 4, 2, 5, 3, 6]);
  expect(tensors.get('b.half')!.dtype).toBe('float16');
  expect([...tensorFloat32(tensors.get('b.half')!)]).toEqual([1, -2, 0.5, 0]);
  expect(tensors.get('b.num_batches_tracked')!.data[0]).toBe(123456789012n);
}

describe('checkpoints built by the test', () => {
  it('legacy layout: dtypes, offsets, strides', () => {
    const c = parseCheckpoint(legacyCheckpoint(sampleTensors()), 'sample.pth');
    expect(c.format).toBe('legacy');
    checkSample(c.tensors);
  });

  it('zip layout (torch >= 1.6): dtypes, offsets, strides, any archive folder name', () => {
    const c = parseCheckpoint(zipCheckpoint(sampleTensors(), { root: 'my_model' }), 'sample.pth');
    expect(c.format).toBe('zip');
    checkSample(c.tensors);
  });

  it('zip layout re-zipped with deflate compression', () => {
    const c = parseCheckpoint(zipCheckpoint(sampleTensors(), { deflate: true }), 'deflated.pth');
    expect(c.format).toBe('zip');
    checkSample(c.tensors);
  });

  it('unwraps {"state_dict": ...} and strips the DataParallel "module." prefix', () => {
    const prefixed = sampleTensors().map(([k, t]) => [`module.${k}`, t] as [string, FixtureTensor]);
    for (const buf of [zipCheckpoint(prefixed, { wrapper: 'state_dict' }), legacyCheckpoint(prefixed, { wrapper: 'state_dict' })]) {
      const c = parseCheckpoint(buf, 'wrapped.pth');
      expect(c.wrapper).toBe('state_dict');
      expect(c.strippedModulePrefix).toBe(true);
      checkSample(c.tensors);
    }
  });
});
