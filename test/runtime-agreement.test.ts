/**
 * The three runtimes on the Ultra-Light models at 320x240 with the PyTorch reference input:
 * outputs agree with each other, and with the PyTorch reference outputs, within 1e-4.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { getRuntime } from '../src/runtime/index.js';
import { readNpyFloat32 } from '../src/util/npy.js';
import { isWasmBuild } from '../src/runtime/wasm.js';
import type { LoadedModel, TensorMap } from '../src/runtime/types.js';
import { shared, maxAbsDiff } from './helpers/index.js';

const REF = (f: string) => shared('reference/pytorch/version-slim-320-sample', f);
const UL = (f: string) => shared('models/ultra-light-1mb', f);
const npy = (p: string) => readNpyFloat32(p) as unknown as { data: Float32Array; shape: number[] };

const input = npy(REF('input_tensor_1x3x240x320.npy'));
const feeds: TensorMap = { input: { data: input.data, dims: input.shape } };
const loaded: LoadedModel[] = [];
async function run(rt: string, file: string) {
  const m = await (await getRuntime(rt)).load(file, { threads: 1 });
  loaded.push(m);
  return (await m.run(feeds)).outputs;
}
afterAll(async () => {
  for (const m of loaded) await m.release();
});

describe('runtimes agree on Ultra-Light 320x240', () => {
  it('ort and ort-wasm match the PyTorch reference on version-slim-320.onnx (decoded boxes)', async () => {
    const scores = npy(REF('scores_softmax.npy'));
    const boxes = npy(REF('boxes_corner_norm.npy'));
    for (const rt of ['ort', 'ort-wasm']) {
      const o = await run(rt, UL('onnx/version-slim-320.onnx'));
      expect(o.scores.dims).toEqual([1, 4420, 2]);
      expect(o.boxes.dims).toEqual([1, 4420, 4]);
      expect(maxAbsDiff(o.scores.data, scores.data), rt).toBeLessThan(1e-4);
      expect(maxAbsDiff(o.boxes.data, boxes.data), rt).toBeLessThan(1e-4);
    }
  });

  for (const [net, onnx, param] of [
    ['slim', 'onnx/version-slim-320_simplified.onnx', 'ncnn/slim-320.param'],
    ['RFB', 'onnx/version-RFB-320_simplified.onnx', 'ncnn/RFB-320.param'],
  ]) {
    it(`ort, ort-wasm and ncnn (official .param) agree on ${net}-320`, async () => {
      const ort = await run('ort', UL(onnx));
      const wasm = await run('ort-wasm', UL(onnx));
      const ncnn = await run('ncnn', UL(param));
      for (const k of ['scores', 'boxes']) {
        // ncnn has no batch axis: the adapter adds the leading 1 back, so dims match ONNX exactly
        expect(ncnn[k].dims).toEqual(ort[k].dims);
        expect(wasm[k].dims).toEqual(ort[k].dims);
        expect(maxAbsDiff(ort[k].data, wasm[k].data), `${k} ort/wasm`).toBeLessThan(1e-4);
        expect(maxAbsDiff(ort[k].data, ncnn[k].data), `${k} ort/ncnn`).toBeLessThan(1e-4);
      }
      // the scores are real softmax outputs, not zeros: rows sum to 1
      expect(ncnn.scores.data[0] + ncnn.scores.data[1]).toBeCloseTo(1, 5);
    });
  }

  it('the ort-wasm runtime really is onnxruntime-web (not the native binding)', async () => {
    expect(isWasmBuild()).toBe(true);
    const info = await (await getRuntime('ort-wasm')).info();
    expect(info.detail).toMatch(/WebAssembly/);
    const ortInfo = await (await getRuntime('ort')).info();
    expect(ortInfo.name).toBe('ort');
  });
});
