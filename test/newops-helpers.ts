/**
 * Helpers for the new-op tests: a seeded random source, and "build an ONNX graph in TS, convert
 * it to ncnn, run the same input in onnxruntime and real ncnn, return the worst difference".
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import type { GraphBuilder } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { convertOnnxFileToNcnn, type ConvertOptions } from '../src/convert/ncnn/index.js';
import type { TensorMap } from '../src/runtime/types.js';
import { seededUniform } from '../src/util/rng.js';
import { ncnn, ort, tmp } from './ncnn-helpers.js';

/** Deterministic uniform [-scale, scale) values. */
export const seeded = seededUniform;

const dir = tmp('fdk-newops-');

export interface Parity {
  /** worst |ort - ncnn| over all outputs */
  maxAbs: number;
  /** worst |ref| over all outputs */
  maxRef: number;
  layerTypes: Record<string, number>;
  param: string;
  /** the convert summary's pass reports */
  passes: ReturnType<typeof convertOnnxFileToNcnn>['summary']['passes'];
}

/**
 * Saves the graph, converts it to ncnn, runs both runtimes on seeded inputs. Outputs are compared
 * element by element (a sequence-major ONNX output [T,1,K] is the batch-major ncnn blob (T,K)).
 */
export async function ortVsNcnn(b: GraphBuilder, name: string, inputs: Record<string, number[]>, seed = 1, convert: ConvertOptions = {}): Promise<Parity> {
  const onnx = join(dir, `${name}.onnx`);
  saveOnnx(b.build(), onnx);
  const r = convertOnnxFileToNcnn(onnx, { ...convert, prefix: join(dir, name) });
  const feeds: TensorMap = {};
  Object.entries(inputs).forEach(([k, dims], i) => (feeds[k] = { dims, data: seeded(seed + i, dims.reduce((p, q) => p * q, 1)) }));
  const o = await (await ort()).load(onnx);
  const n = await (await ncnn()).load(r.paramPath);
  try {
    const a = (await o.run(feeds)).outputs;
    const c = (await n.run(feeds, Object.keys(a))).outputs;
    let maxAbs = 0, maxRef = 0;
    for (const [k, v] of Object.entries(a)) {
      const w = c[k];
      expect(w, `output ${k}`).toBeDefined();
      expect(w.data.length, `output ${k} size (ort [${v.dims}], ncnn [${w.dims}])`).toBe(v.data.length);
      for (let i = 0; i < v.data.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(v.data[i] - w.data[i]));
        maxRef = Math.max(maxRef, Math.abs(v.data[i]));
      }
    }
    const { readFileSync } = await import('node:fs');
    return { maxAbs, maxRef, layerTypes: r.summary.layerTypes, param: readFileSync(r.paramPath, 'utf8'), passes: r.summary.passes };
  } finally {
    await o.release();
    await n.release();
  }
}

/** The corpus tolerance: max abs <= 1e-4 x max(1, max |ref|). */
export function expectWithinTolerance(p: Parity): void {
  expect(p.maxRef, 'reference is not all zeros').toBeGreaterThan(1e-3);
  expect(p.maxAbs).toBeLessThanOrEqual(1e-4 * Math.max(1, p.maxRef));
}
