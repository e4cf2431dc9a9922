/**
 * fdk's own PyTorch->ONNX exports (src/convert/onnx-export.ts) converted to ncnn, fixed-size and
 * dynamic: ncnn loads them and matches onnxruntime on every image; one dynamic .param serves
 * 320x240 and 640x480 inputs.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { exportedOnnxPath } from '../src/convert/onnx-export.js';
import { convertOnnxFileToNcnn } from '../src/convert/ncnn/index.js';
import { getModel } from '../src/models/manifest.js';
import type { LoadedModel } from '../src/runtime/types.js';
import { IMAGES, compareRuns, inputFor, ncnn, ort, tmp } from './ncnn-helpers.js';

const out = tmp();
const open: LoadedModel[] = [];
afterAll(async () => {
  for (const m of open) await m.release();
});

async function pair(onnx: string, prefix: string, opts: { inputShapes?: Record<string, number[]> } = {}) {
  const r = convertOnnxFileToNcnn(onnx, { prefix: join(out, prefix), ...opts });
  const o = await (await ort()).load(onnx);
  const n = await (await ncnn()).load(r.paramPath);
  open.push(o, n);
  return { o, n, r };
}

describe('seed exports (slim, rfb, mnet0.25) -> ncnn', () => {
  it.each(['slim', 'rfb', 'mnet0.25'])('%s dynamic: one .param, every image at long side 320 and 640, incl. 320x240 and 640x480', async (id) => {
    const { o, n, r } = await pair(exportedOnnxPath(id, { dynamic: true }), `${id}-dyn`);
    expect(r.summary.outputs.sort()).toEqual(['conf', 'landms', 'loc']);
    const entry = getModel(id);
    const seen = new Set<string>();
    let worst = 0;
    for (const img of IMAGES)
      for (const longSide of [320, 640]) {
        const x = await inputFor(img, entry, longSide);
        seen.add(`${x.dims[3]}x${x.dims[2]}`);
        worst = Math.max(worst, ...Object.values(await compareRuns(o, n, { input: x })));
      }
    expect(seen).toContain('320x240');
    expect(seen).toContain('640x480');
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it.each(['slim', 'rfb', 'mnet0.25'])('%s fixed 320x240 matches onnxruntime', async (id) => {
    const { o, n } = await pair(exportedOnnxPath(id, { dynamic: false }), `${id}-fixed`);
    const x = { data: new Float32Array(3 * 240 * 320).map((_, i) => ((i * 7919) % 255) - 120), dims: [1, 3, 240, 320] };
    expect(Math.max(...Object.values(await compareRuns(o, n, { input: x })))).toBeLessThanOrEqual(1e-4);
  });
});

describe('Ultra-Light exports -> ncnn', () => {
  it.each(['ulfd-slim-320', 'ulfd-rfb-320'])('%s fixed matches onnxruntime on every image', async (id) => {
    const { o, n } = await pair(exportedOnnxPath(id, { dynamic: false }), `${id}-fixed`);
    let worst = 0;
    for (const img of IMAGES) worst = Math.max(worst, ...Object.values(await compareRuns(o, n, { input: await inputFor(img, getModel(id)) })));
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it.each(['ulfd-slim', 'ulfd-rfb'])('%s dynamic without postprocessing: one .param at 320x240 and 640x480', async (id) => {
    const { o, n } = await pair(exportedOnnxPath(`${id}-320`, { dynamic: true, postprocess: false }), `${id}-dyn-nopp`);
    let worst = 0;
    for (const size of [320, 640])
      for (const img of IMAGES) {
        const x = await inputFor(img, getModel(id, size));
        expect(x.dims).toEqual(size === 320 ? [1, 3, 240, 320] : [1, 3, 480, 640]);
        worst = Math.max(worst, ...Object.values(await compareRuns(o, n, { input: x })));
      }
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it('dynamic with postprocessing: priors depend on the input size, so it converts with --input and otherwise says why', async () => {
    const onnx = exportedOnnxPath('ulfd-slim-320', { dynamic: true });
    expect(() => convertOnnxFileToNcnn(onnx, { prefix: join(out, 'ulfd-dyn-pp') })).toThrow(/run time.*--input/);
    expect(existsSync(join(out, 'ulfd-dyn-pp.param'))).toBe(false);
    const { o, n } = await pair(onnx, 'ulfd-dyn-pp-fixed', { inputShapes: { input: [1, 3, 240, 320] } });
    let worst = 0;
    for (const img of IMAGES.slice(0, 5)) worst = Math.max(worst, ...Object.values(await compareRuns(o, n, { input: await inputFor(img, getModel('ulfd-slim-320')) })));
    expect(worst).toBeLessThanOrEqual(1e-4);
  });
});
