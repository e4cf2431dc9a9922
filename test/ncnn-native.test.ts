/**
 * ncnn in-process (src/runtime/ncnn-native.ts): ncnn built natively from the PyPI source
 * distribution, run on fdk's own thread through its N-API binding. It must give what the worker
 * (the PyPI wheel) gives: the official Ultra-Light slim-320 against the PyTorch reference outputs,
 * and the seed detectors (fdk's dynamic exports) against onnxruntime within 1e-4 at two sizes.
 * Needs `bash scripts/build-ncnn-native.sh` (skipped, saying so, where it was not built).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ncnnRuntime } from '../src/runtime/ncnn.js';
import { findNcnnNative, NcnnNativeModel } from '../src/runtime/ncnn-native.js';
import { convertOnnxForNcnn } from '../src/runtime/ncnn-convert.js';
import { ortRuntime } from '../src/runtime/ort.js';
import { exportedOnnxPath } from '../src/convert/onnx-export.js';
import { syntheticInputs } from '../src/bench/case.js';
import { readNpyFloat32 } from '../src/util/npy.js';
import { GraphBuilder } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import type { LoadedModel, TensorMap } from '../src/runtime/types.js';
import { shared, maxAbsDiff } from './helpers/index.js';

const built = findNcnnNative();
const loaded: LoadedModel[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'fdk-native-'));
afterAll(async () => {
  for (const m of loaded) await m.release();
  rmSync(tmp, { recursive: true, force: true });
});
const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.skipIf(!built)(`ncnn in-process (${built?.build ?? 'not built: bash scripts/build-ncnn-native.sh'})`, () => {
  it('official Ultra-Light slim-320: matches the PyTorch reference and the PyPI ncnn worker', async () => {
    const param = shared('models/ultra-light-1mb/ncnn/slim-320.param');
    const native = NcnnNativeModel.load(param);
    const worker = await ncnnRuntime.load(param);
    loaded.push(native, worker);
    expect(native.inputNames).toEqual(worker.inputNames);
    expect(native.outputNames).toEqual(worker.outputNames);
    const ref = 'reference/pytorch/version-slim-320-sample';
    const x = readNpyFloat32(shared(ref, 'input_tensor_1x3x240x320.npy'));
    const feeds: TensorMap = { input: { data: x.data, dims: x.shape } };
    const [a, b] = [await native.run(feeds), await worker.run(feeds)];
    expect(a.ms).toBeGreaterThan(0);
    for (const k of ['scores', 'boxes']) {
      expect(a.outputs[k].dims, k).toEqual(b.outputs[k].dims);
      expect(maxAbsDiff(a.outputs[k].data, b.outputs[k].data), `${k} in-process vs worker`).toBeLessThan(1e-5);
    }
    expect(maxAbsDiff(a.outputs.scores.data, readNpyFloat32(shared(ref, 'scores_softmax.npy')).data)).toBeLessThan(1e-4);
    expect(maxAbsDiff(a.outputs.boxes.data, readNpyFloat32(shared(ref, 'locations_raw.npy')).data)).toBeLessThan(1e-4);
  });

  for (const id of ['slim', 'rfb', 'mnet0.25']) {
    it(`seed ${id} (fdk's dynamic export, converted): in-process = ort within 1e-4 at 320x240 and 640x480`, async () => {
      const onnx = exportedOnnxPath(id, { dynamic: true });
      const { param } = await convertOnnxForNcnn(onnx, {});
      const native = NcnnNativeModel.load(param);
      const ort = await ortRuntime.load(onnx);
      loaded.push(native, ort);
      for (const dims of [[1, 3, 240, 320], [1, 3, 480, 640]]) {
        const feeds = syntheticInputs({ [ort.inputNames[0]]: dims });
        const [o, n] = [(await ort.run(feeds)).outputs, (await native.run(feeds)).outputs];
        expect(Object.keys(n).sort()).toEqual(['conf', 'landms', 'loc']);
        for (const k of ['loc', 'conf', 'landms']) {
          expect(n[k].dims, `${k} ${dims}`).toEqual(o[k].dims);
          expect(maxAbsDiff(o[k].data, n[k].data), `${k} ort/in-process ${dims}`).toBeLessThan(1e-4);
        }
      }
    });
  }

  it('inputs used in place (unpadded) or copied (padded planes): an in-place ReLU leaves the caller\'s array alone, call after call', async () => {
    const g = new GraphBuilder({ opset: 13 });
    g.addOutput(g.op('Relu', [g.addInput('input', 'float32', [1, 3, 'h', 'w'])]), 'output', 'float32');
    const onnx = join(tmp, 'relu.onnx');
    saveOnnx(g.build(), onnx);
    const { param } = await convertOnnxForNcnn(onnx, {}, { optimize: false });
    const m = NcnnNativeModel.load(param);
    loaded.push(m);
    // 3 channels: no packed layout in between, ReLU runs in place on the input blob itself.
    // 64x64 planes: no padding, the Float32Array itself is the input blob; 17x5 = 85 floats a
    // plane: ncnn pads each to 16 bytes, so the input is copied into the kept Mat
    for (const [k, h, w] of [[1, 64, 64], [-1, 64, 64], [3, 17, 5], [-2, 17, 5], [5, 64, 64]]) {
      const x = Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * k + 0.25));
      const before = Buffer.from(bytesOf(x));
      const out = (await m.run({ input: { data: x, dims: [1, 3, h, w] } })).outputs.output;
      expect(out.dims).toEqual([1, 3, h, w]);
      expect(bytesOf(out.data).equals(bytesOf(x.map((v) => Math.max(v, 0)))), `${k} ${h}x${w}`).toBe(true);
      expect(bytesOf(x).equals(before), `input changed ${k} ${h}x${w}`).toBe(true);
    }
  });

  it('bad input is one clear error, and a released model refuses to run', async () => {
    const param = shared('models/ultra-light-1mb/ncnn/slim-320.param');
    expect(() => NcnnNativeModel.load('/nonexistent/x.param')).toThrow(/no such file/);
    const m = NcnnNativeModel.load(param);
    await expect(m.run({ input: { data: new Float32Array(10), dims: [1, 3, 240, 320] } })).rejects.toThrow(/does not match its shape/);
    await expect(m.run({ input: { data: new Float32Array(2 * 3 * 240 * 320), dims: [2, 3, 240, 320] } })).rejects.toThrow(/batch must be 1/);
    await m.release();
    await expect(m.run({ input: { data: new Float32Array(3 * 240 * 320), dims: [1, 3, 240, 320] } })).rejects.toThrow(/released/);
  });
});
