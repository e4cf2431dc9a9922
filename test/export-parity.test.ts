/**
 * ONNX exports of the PyTorch checkpoints, run in onnxruntime-node, reproduce the original
 * PyTorch outputs in ../shared/reference/pytorch (max abs diff <= 1e-4).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportedOnnxPath, exportOnnx } from '../src/convert/onnx-export.js';
import { saveOnnx } from '../src/onnx/io.js';
import { floatToHalf } from '../src/onnx/tensor.js';
import { ortRuntime } from '../src/runtime/ort.js';
import { readNpyFloat32 } from '../src/util/npy.js';
import { loadCheckpoint } from '../src/convert/pytorch/checkpoint.js';
import { maxAbsDiff, runCli, shared } from './helpers/index.js';
import { fixturesFrom, zipCheckpoint, type FixtureTensor } from './pth-fixtures.js';

const TOL = 1e-4;
const ref = (dir: string, f: string) => shared('reference/pytorch', dir, f);

async function run(model: string, input: { data: Float32Array; shape: number[] }) {
  const m = await ortRuntime.load(model);
  try {
    return (await m.run({ input: { data: input.data, dims: input.shape } })).outputs;
  } finally {
    await m.release();
  }
}

const SEED: [string, string][] = [['slim', 'slim-320-sample'], ['rfb', 'RFB-320-sample'], ['mnet0.25', 'mobilenet0.25-320-sample']];

describe('seed exports reproduce the PyTorch reference (loc, conf after softmax, landms)', () => {
  it.each(SEED)('%s (dynamic H/W, BN kept)', async (id, dir) => {
    const out = await run(exportedOnnxPath(id), readNpyFloat32(ref(dir, 'input_tensor_1x3xHxW.npy')));
    for (const name of ['loc', 'conf', 'landms']) {
      const want = readNpyFloat32(ref(dir, `${name}.npy`));
      expect(out[name].dims, name).toEqual(want.shape);
      const d = maxAbsDiff(out[name].data, want.data);
      expect(d, `${id} ${name} max abs diff ${d}`).toBeLessThanOrEqual(TOL);
    }
  });

  it.each(SEED)('%s with --fold-bn', async (id, dir) => {
    const out = await run(exportedOnnxPath(id, { foldBn: true }), readNpyFloat32(ref(dir, 'input_tensor_1x3xHxW.npy')));
    for (const name of ['loc', 'conf', 'landms']) expect(maxAbsDiff(out[name].data, readNpyFloat32(ref(dir, `${name}.npy`)).data)).toBeLessThanOrEqual(TOL);
  });
});

const ULFD: [string, string][] = [['ulfd-slim-320', 'version-slim-320-sample'], ['ulfd-rfb-320', 'version-RFB-320-sample']];

describe('Ultra-Light exports reproduce their PyTorch reference', () => {
  it.each(ULFD)('%s with the prior-decoding tail: scores and corner boxes, priors baked (fixed 240x320) and in-graph (dynamic)', async (id, dir) => {
    const input = readNpyFloat32(ref(dir, 'input_tensor_1x3x240x320.npy'));
    for (const dynamic of [false, true]) {
      const out = await run(exportedOnnxPath(id, { dynamic }), input);
      const scores = readNpyFloat32(ref(dir, 'scores_softmax.npy'));
      const boxes = readNpyFloat32(ref(dir, 'boxes_corner_norm.npy'));
      expect(out.scores.dims).toEqual(scores.shape);
      expect(out.boxes.dims).toEqual(boxes.shape);
      expect(maxAbsDiff(out.scores.data, scores.data)).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(out.boxes.data, boxes.data)).toBeLessThanOrEqual(TOL);
    }
  });

  it.each(ULFD)('%s without the tail (--no-postprocess): scores and raw locations', async (id, dir) => {
    const out = await run(exportedOnnxPath(id, { postprocess: false }), readNpyFloat32(ref(dir, 'input_tensor_1x3x240x320.npy')));
    expect(maxAbsDiff(out.scores.data, readNpyFloat32(ref(dir, 'scores_softmax.npy')).data)).toBeLessThanOrEqual(TOL);
    expect(maxAbsDiff(out.boxes.data, readNpyFloat32(ref(dir, 'locations_raw.npy')).data)).toBeLessThanOrEqual(TOL);
  });

  it('the 640 weights export and agree with themselves at 480x640: in-graph priors = baked priors', async () => {
    const input = { data: new Float32Array(3 * 480 * 640).map((_, i) => Math.sin(i * 0.37) * 0.9), shape: [1, 3, 480, 640] };
    for (const id of ['ulfd-slim-640', 'ulfd-rfb-640']) {
      const fixed = await run(exportedOnnxPath(id, { dynamic: false }), input);
      const dyn = await run(exportedOnnxPath(id), input);
      expect(fixed.boxes.dims).toEqual([1, 17640, 4]);
      expect(maxAbsDiff(fixed.boxes.data, dyn.boxes.data)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(fixed.scores.data, dyn.scores.data)).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('a zip checkpoint (torch >= 1.6 layout) built from the legacy one converts to the same model', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fdk-pth-zip-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('slim: {"state_dict": {"module.*": ...}} in archive/data.pkl + archive/data/N reproduces the reference', async () => {
    const tensors = fixturesFrom(loadCheckpoint(shared('models/retinaface-1mb/slim_Final.pth')).tensors).map(([k, t]): [string, FixtureTensor] => [`module.${k}`, t]);
    const pth = join(dir, 'slim_zip.pth');
    writeFileSync(pth, zipCheckpoint(tensors, { root: 'slim_zip', wrapper: 'state_dict' }));
    const onnx = join(dir, 'slim_zip.onnx');
    const r = runCli(['convert', pth, '--arch', 'slim', '--to', 'onnx', '-o', onnx, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.checkpointFormat).toBe('zip');
    const dirRef = 'slim-320-sample';
    const out = await run(onnx, readNpyFloat32(ref(dirRef, 'input_tensor_1x3xHxW.npy')));
    for (const name of ['loc', 'conf', 'landms']) expect(maxAbsDiff(out[name].data, readNpyFloat32(ref(dirRef, `${name}.npy`)).data)).toBeLessThanOrEqual(TOL);
  });

  it('slim with every float tensor stored as float16 (HalfStorage) converts and stays close to the float32 reference', async () => {
    const tensors = fixturesFrom(loadCheckpoint(shared('models/retinaface-1mb/slim_Final.pth')).tensors).map(([k, t]): [string, FixtureTensor] =>
      t.dtype === 'float32' ? [k, { ...t, dtype: 'float16', storage: Uint16Array.from(t.storage as Float32Array, floatToHalf) }] : [k, t]);
    const pth = join(dir, 'slim_half.pth');
    writeFileSync(pth, zipCheckpoint(tensors));
    const onnx = join(dir, 'slim_half.onnx');
    saveOnnx(exportOnnx({ weights: pth, arch: 'slim' }), onnx);
    const dirRef = 'slim-320-sample';
    const out = await run(onnx, readNpyFloat32(ref(dirRef, 'input_tensor_1x3xHxW.npy')));
    for (const name of ['loc', 'conf', 'landms']) {
      const d = maxAbsDiff(out[name].data, readNpyFloat32(ref(dirRef, `${name}.npy`)).data);
      expect(d, name).toBeLessThan(0.05); // fp16 weights: ~1e-2, not the 1e-5 of float32
      expect(d, name).toBeGreaterThan(1e-4); // the half values really were used
    }
  });
});
