/**
 * Decoding and preprocessing against the original pipelines' tensors on seed-sample.jpg:
 * the resized BGR float image and input tensor of the seed models, and the RGB uint8 fixed resize
 * and normalised tensor of the Ultra-Light models.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadImage } from '../src/accuracy/image.js';
import { preprocess, seedResizeFactor } from '../src/accuracy/preprocess.js';
import { resizeLinearF32, resizeLinearF32ToCHW, resizeLinearU8, resizeSpecByFactor, resizeSpecBySize } from '../src/accuracy/cv-resize.js';
import { getModel } from '../src/models/manifest.js';
import { readNpy, readNpyFloat32 } from '../src/util/npy.js';
import { FdkError } from '../src/util/errors.js';
import { maxAbsDiff, shared } from './helpers/index.js';
import { resizeKernels } from '../src/accuracy/cv-resize-wasm.js';

const SAMPLE = shared('images', 'seed-sample.jpg');

describe('loadImage', () => {
  it('decodes seed-sample.jpg to the BGR bytes cv2.imread gives (sampled through the 1/5 resize)', async () => {
    const im = await loadImage(SAMPLE);
    expect([im.height, im.width]).toEqual([898, 1600]);
    // at r = 0.2 cv2's source coordinate is exactly 5x + 2, so the reference resize is a pixel sample
    const ref = readNpyFloat32(shared('reference/pytorch/slim-320-sample/input_bgr_resized_f32_HWC.npy'));
    const [H, W] = ref.shape;
    let diff = 0;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 3; c++) diff = Math.max(diff, Math.abs(im.data[((5 * y + 2) * im.width + 5 * x + 2) * 3 + c] - ref.data[(y * W + x) * 3 + c]));
    expect(diff).toBe(0);
  });

  it('names the file for a missing or corrupt image', async () => {
    await expect(loadImage('/nonexistent/x.jpg')).rejects.toThrow(/\/nonexistent\/x\.jpg: no such file/);
    const dir = mkdtempSync(join(tmpdir(), 'fdk-img-'));
    const bad = join(dir, 'corrupt.jpg');
    writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0, 1, 2, 3, 4, 5]));
    const err = await loadImage(bad).catch((e) => e);
    expect(err).toBeInstanceOf(FdkError);
    expect(String(err.message)).toContain(bad);
    expect(String(err.message)).not.toContain('\n');
  });
});

describe('preprocess (seed models, long side)', () => {
  for (const [id, net] of [['slim', 'slim'], ['rfb', 'RFB'], ['mnet0.25', 'mobilenet0.25']] as const) {
    it(`${id}: resized image and input tensor equal the reference within 1e-3`, async () => {
      const im = await loadImage(SAMPLE);
      const p = preprocess(im, getModel(id), { longSide: 320 });
      const dir = shared('reference/pytorch', `${net}-320-sample`);
      const hwc = readNpyFloat32(join(dir, 'input_bgr_resized_f32_HWC.npy'));
      const t = readNpyFloat32(join(dir, 'input_tensor_1x3xHxW.npy'));
      expect(p.dims).toEqual(t.shape);
      expect([p.resized.height, p.resized.width, 3]).toEqual(hwc.shape);
      expect(p.scale).toBe(0.2);
      expect(maxAbsDiff(p.resizedHWC, hwc.data)).toBeLessThanOrEqual(1e-3);
      expect(maxAbsDiff(p.tensor, t.data)).toBeLessThanOrEqual(1e-3);
    });
  }

  it('follows test_widerface.py scale rule (short side first, then long-side cap)', () => {
    expect(seedResizeFactor(1600, 898, 320)).toBe(0.2);
    expect(seedResizeFactor(1024, 1024, 640)).toBe(0.625);
    // round(320/1020 * 1024) = 321 > 320 -> long side
    expect(seedResizeFactor(1024, 1020, 320)).toBe(320 / 1024);
    // round(320/1023 * 1024) = 320 -> the short-side factor stays
    expect(seedResizeFactor(1024, 1023, 320)).toBe(320 / 1023);
  });
});

describe('preprocess (Ultra-Light, fixed 320x240 uint8)', () => {
  for (const net of ['slim', 'RFB'] as const) {
    it(`version-${net}: RGB uint8 resize is exact and the tensor within 1e-6`, async () => {
      const im = await loadImage(SAMPLE);
      const p = preprocess(im, getModel(`ulfd-${net.toLowerCase()}-320`), {});
      const dir = shared('reference/pytorch', `version-${net}-320-sample`);
      const u8 = readNpy(join(dir, 'input_rgb_resized_u8_HWC.npy'));
      const t = readNpyFloat32(join(dir, 'input_tensor_1x3x240x320.npy'));
      expect(p.dims).toEqual([1, 3, 240, 320]);
      expect(u8.shape).toEqual([240, 320, 3]);
      // the reference is the uint8 image; an int64 .npy (BigInt64Array) would not compare as numbers
      expect(u8.data).toBeInstanceOf(Uint8Array);
      expect(maxAbsDiff(p.resizedHWC, u8.data as Uint8Array)).toBe(0);
      expect(maxAbsDiff(p.tensor, t.data)).toBeLessThanOrEqual(1e-6);
    });
  }
});

describe('reused tensor buffer', () => {
  it('a scratch buffer gives the same tensors as fresh arrays, image after image of different sizes', async () => {
    const list = readFileSync(shared('wider', 'val-mini', 'list.txt'), 'utf8').split('\n').filter(Boolean);
    const scratch: { tensor?: Float32Array } = {};
    for (const rel of [list[3], list[120], list[300]]) {
      const im = await loadImage(shared('wider', 'val-mini', 'images', rel), { keepRgb: true });
      const fresh = preprocess(im, getModel('mnet0.25'), { longSide: 640 });
      const reused = preprocess(im, getModel('mnet0.25'), { longSide: 640, scratch });
      expect(reused.tensor.length).toBe(fresh.tensor.length);
      expect(reused.tensor.buffer).toBe(scratch.tensor!.buffer);
      expect(maxAbsDiff(reused.tensor, fresh.tensor)).toBe(0);
    }
  });
});

describe('RGB fast path', () => {
  it('an image kept in decode order (RGB) gives the same tensors as the BGR image, both families', async () => {
    const bgr = await loadImage(SAMPLE);
    const rgb = await loadImage(SAMPLE, { keepRgb: true });
    expect(rgb.rgb).toBe(true);
    expect(Array.from(rgb.data.subarray(0, 3))).toEqual(Array.from(bgr.data.subarray(0, 3)).reverse());
    for (const [id, ls] of [['rfb', 640], ['ulfd-slim-640', 640]] as const) {
      const a = preprocess(bgr, getModel(id), { longSide: ls });
      const b = preprocess(rgb, getModel(id), { longSide: ls });
      expect(maxAbsDiff(a.tensor, b.tensor)).toBe(0);
      expect(maxAbsDiff(a.resizedHWC, b.resizedHWC)).toBe(0);
    }
  });
});

describe('cv-resize details', () => {
  it('the WebAssembly kernels are available here (otherwise the next test compares JS with JS)', () => {
    expect(resizeKernels()).not.toBeNull();
  });

  it('wasm and JS agree bit for bit on odd sizes, upscales, tiny and large images (memory growth)', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const norm = { mean: [104, 117, 123], std: [1, 1, 1], planeOf: [2, 1, 0] as [number, number, number] };
    for (const [w, h] of [[1, 1], [17, 5], [100, 80], [641, 479], [1024, 683], [333, 1999], [2, 700], [3000, 2000]])
      for (const ls of [320, 640]) {
        const src = Uint8Array.from({ length: w * h * 3 }, () => (rnd() * 256) | 0);
        const spec = resizeSpecByFactor(w, h, seedResizeFactor(w, h, ls));
        const a = resizeLinearF32ToCHW(src, w, h, spec, norm);
        const b = resizeLinearF32ToCHW(src, w, h, spec, { ...norm, jsOnly: true });
        expect(a.length, `${w}x${h}@${ls}`).toBe(3 * spec.width * spec.height);
        expect(maxAbsDiff(a, b), `${w}x${h}@${ls}`).toBe(0);
      }
  });

  it('the committed wasm bytes are what resize.wat compiles to (npm run build:wasm)', () => {
    const out = execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/up to date/);
  });

  it('the fused resize -> normalised CHW (wasm and JS) equals resize, channel swap, mean/std and transpose bit for bit', async () => {
    // real WIDER images of different shapes (val-mini), at both long sides and both channel orders
    const list = readFileSync(shared('wider', 'val-mini', 'list.txt'), 'utf8').split('\n').filter(Boolean);
    const picks = [list[0], list[57], list[211], list[487]];
    const cases: [number, [number, number, number], number[]][] = [
      [640, [2, 1, 0], [1, 1, 1]],
      [320, [0, 1, 2], [1, 1, 1]],
      [640, [0, 1, 2], [58, 57.5, 57]], // non-unit std takes the unfused route inside
    ];
    for (const rel of picks) {
      const im = await loadImage(shared('wider', 'val-mini', 'images', rel));
      for (const [ls, planeOf, std] of cases) {
        const mean = [104, 117, 123];
        const spec = resizeSpecByFactor(im.width, im.height, seedResizeFactor(im.width, im.height, ls));
        // the WebAssembly kernels (uint8 source), the JS loops, and the JS loops on a float32 copy
        const fused = resizeLinearF32ToCHW(im.data, im.width, im.height, spec, { mean, std, planeOf });
        const js = resizeLinearF32ToCHW(im.data, im.width, im.height, spec, { mean, std, planeOf, jsOnly: true });
        const jsF32 = resizeLinearF32ToCHW(Float32Array.from(im.data), im.width, im.height, spec, { mean, std, planeOf });
        const hwc = resizeLinearF32(im.data, im.width, im.height, 3, spec);
        const plane = spec.width * spec.height;
        const ref = new Float32Array(3 * plane);
        for (let k = 0; k < 3; k++) {
          const p = planeOf[k];
          for (let i = 0; i < plane; i++) ref[p * plane + i] = Math.fround(Math.fround(hwc[i * 3 + k] - Math.fround(mean[p])) / Math.fround(std[p]));
        }
        for (const out of [fused, js, jsF32]) {
          expect(out.length).toBe(ref.length);
          expect(maxAbsDiff(out, ref)).toBe(0);
        }
      }
    }
  });

  it('float path: weights come from the double-precision source coordinate', () => {
    // a 1024-wide ramp: output = sx + frac at fx = 3.2 dx + 1.1; at dx = 300 the fraction is 0.1
    const src = new Float32Array(1024 * 2 * 1);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 1024; x++) src[y * 1024 + x] = x;
    const out = resizeLinearF32(src, 1024, 2, 1, { ...resizeSpecByFactor(1024, 2, 0.3125, 1) });
    expect(out[300]).toBeCloseTo(961.1, 3);
  });

  it('uint8 path: 11-bit fixed point, SIMD rounding differs from exact arithmetic', () => {
    const src = new Uint8Array(640 * 480 * 3).map((_, i) => (i * 37) % 256);
    const a = resizeLinearU8(src, 640, 480, 3, resizeSpecBySize(640, 480, 320, 241));
    const exact = resizeLinearU8(src, 640, 480, 3, resizeSpecBySize(640, 480, 320, 241), 1 << 30);
    expect(a.length).toBe(320 * 241 * 3);
    expect(maxAbsDiff(a, exact)).toBeLessThanOrEqual(1);
  });
});
