/**
 * Dynamic-size exports run at other input sizes: the number of priors follows the manifest's
 * anchor config (ceil(size/step) feature maps), and the outputs are sane probabilities/boxes.
 */
import { describe, expect, it } from 'vitest';
import { exportedOnnxPath } from '../src/convert/onnx-export.js';
import { ortRuntime } from '../src/runtime/ort.js';
import { getModel } from '../src/models/manifest.js';
import type { PriorParams } from '../src/families/prior.js';

const SIZES: [number, number][] = [[180, 320], [360, 640], [640, 480]];

function expectedPriors(id: string, h: number, w: number): number {
  const a = getModel(id).decode as PriorParams;
  return a.steps.reduce((n, s, i) => n + a.minSizes[i].length * Math.ceil(h / s) * Math.ceil(w / s), 0);
}

describe('one dynamic export runs at several input sizes', () => {
  it.each(['slim', 'mnet0.25', 'ulfd-rfb-320'])('%s at 1x3x180x320, 1x3x360x640, 1x3x640x480', async (id) => {
    const m = await ortRuntime.load(exportedOnnxPath(id, { dynamic: true }));
    try {
      for (const [h, w] of SIZES) {
        const data = new Float32Array(3 * h * w).map((_, i) => ((i * 7919) % 255) - 120);
        const { outputs } = await m.run({ input: { data, dims: [1, 3, h, w] } });
        const n = expectedPriors(id, h, w);
        const conf = outputs.conf ?? outputs.scores;
        expect(conf.dims, `${id} ${h}x${w}`).toEqual([1, n, 2]);
        for (let i = 0; i < n; i += 97) expect(conf.data[2 * i] + conf.data[2 * i + 1]).toBeCloseTo(1, 5);
        const box = outputs.loc ?? outputs.boxes;
        expect(box.dims).toEqual([1, n, 4]);
        expect(box.data.every(Number.isFinite)).toBe(true);
        if (outputs.landms) expect(outputs.landms.dims).toEqual([1, n, 10]);
      }
    } finally {
      await m.release();
    }
  });
});
