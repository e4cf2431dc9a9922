/**
 * ncnn specifics: .onnx models are converted with fdk's converter (and say so), dynamic-size
 * exports agree with ort and wasm at 320x240 and 640x480, the worker protocol survives split
 * frames, and venv setup without Python is one clear error.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRuntime } from '../src/runtime/index.js';
import { ncnnRuntime } from '../src/runtime/ncnn.js';
import { encodeFrame, FrameReader } from '../src/runtime/ncnn-protocol.js';
import { exportedOnnxPath } from '../src/convert/onnx-export.js';
import { syntheticInputs } from '../src/bench/case.js';
import type { LoadedModel } from '../src/runtime/types.js';
import { shared, maxAbsDiff, expectOneLineError } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';

const loaded: LoadedModel[] = [];
afterAll(async () => {
  for (const m of loaded) await m.release();
});

describe('ncnn runtime', () => {
  it('converts an .onnx with fdk\'s converter, reports it, and matches ort on Ultra-Light RFB', async () => {
    const onnx = shared('models/ultra-light-1mb/onnx/version-RFB-320.onnx');
    const m = await ncnnRuntime.load(onnx);
    loaded.push(m);
    expect(m.converted?.onnx).toBe(onnx);
    expect(m.converted?.param).toMatch(/\.fdk\/ncnn-cache\/.*\.param$/);
    const ort = await (await getRuntime('ort')).load(onnx);
    loaded.push(ort);
    const feeds = syntheticInputs({ input: [1, 3, 240, 320] });
    const a = (await ort.run(feeds)).outputs;
    const run = await m.run(feeds);
    const b = run.outputs;
    // the worker's CPU time of the forward pass comes back beside its wall time (speed.ts compares on it)
    expect(run.cpuMs).toBeGreaterThan(0);
    expect(run.cpuMs).not.toBe(run.ms);
    for (const k of ['scores', 'boxes']) {
      expect(b[k].dims).toEqual(a[k].dims);
      expect(maxAbsDiff(a[k].data, b[k].data), k).toBeLessThan(1e-4);
    }
  });

  for (const id of ['slim', 'mnet0.25']) {
    it(`fdk's dynamic ${id} export: ort, wasm and ncnn agree at 320x240 and 640x480`, async () => {
      const onnx = exportedOnnxPath(id, { dynamic: true });
      const models = await Promise.all(['ort', 'ort-wasm', 'ncnn'].map(async (r) => (await getRuntime(r)).load(onnx)));
      loaded.push(...models);
      for (const dims of [[1, 3, 240, 320], [1, 3, 480, 640]]) {
        const feeds = syntheticInputs({ [models[0].inputNames[0]]: dims });
        const [o, w, n] = await Promise.all(models.map(async (m) => (await m.run(feeds)).outputs));
        expect(Object.keys(n).sort()).toEqual(['conf', 'landms', 'loc']);
        for (const k of ['loc', 'conf', 'landms']) {
          expect(n[k].dims, `${k} ${dims}`).toEqual(o[k].dims);
          expect(maxAbsDiff(o[k].data, w[k].data), `${k} ort/wasm ${dims}`).toBeLessThan(1e-4);
          expect(maxAbsDiff(o[k].data, n[k].data), `${k} ort/ncnn ${dims}`).toBeLessThan(1e-4);
        }
      }
    });
  }

  it('the frame reader reassembles frames split at any byte', async () => {
    const f1 = encodeFrame({ op: 'run', n: 1 }, { x: { data: Float32Array.from([1, -2.5, 3e-7]), dims: [1, 3] } });
    const f2 = encodeFrame({ ok: true });
    const all = Buffer.concat([f1, f2]);
    for (const cut of [1, 3, 4, 9, f1.length - 1, f1.length, f1.length + 2]) {
      const r = new FrameReader();
      const frames = [...r.push(all.subarray(0, cut)), ...r.push(all.subarray(cut))];
      expect(frames.map((f) => f.header.op ?? f.header.ok)).toEqual(['run', true]);
      expect(Array.from(frames[0].tensors[0].tensor.data)).toEqual([1, -2.5, Math.fround(3e-7)]);
      expect(frames[0].tensors[0].tensor.dims).toEqual([1, 3]);
    }
  });

  it('fdk setup ncnn without a usable python is one clear error', async () => {
    const work = mkdtempSync(join(tmpdir(), 'fdk-work-'));
    try {
      const r = await runCliAsync(['setup', 'ncnn'], { env: { ...process.env, CI: 'true', FDK_WORK: work, FDK_PYTHON: '/nonexistent/python3' } });
      expectOneLineError(r, /\/nonexistent\/python3 not found.*install Python/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
