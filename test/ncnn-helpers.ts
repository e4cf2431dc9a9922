/** Helpers for the ncnn converter tests: convert, run the same input in onnxruntime and real ncnn. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { getRuntime } from '../src/runtime/index.js';
import type { LoadedModel, TensorMap } from '../src/runtime/types.js';
import { loadImage, type BgrImage } from '../src/accuracy/image.js';
import { preprocess } from '../src/accuracy/preprocess.js';
import type { ModelEntry } from '../src/models/manifest.js';
import { shared, maxAbsDiff } from './helpers/index.js';

export const IMAGES = readdirSync(shared('images')).filter((f) => f.endsWith('.jpg')).sort().map((f) => shared('images', f));

const imageCache = new Map<string, BgrImage>();
export async function image(path: string): Promise<BgrImage> {
  let im = imageCache.get(path);
  if (!im) imageCache.set(path, (im = await loadImage(path)));
  return im;
}

export async function inputFor(path: string, entry: ModelEntry, longSide?: number): Promise<{ data: Float32Array; dims: number[] }> {
  const p = preprocess(await image(path), entry, { longSide });
  return { data: p.tensor, dims: [...p.dims] };
}

export function tmp(prefix = 'fdk-ncnn-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Max abs difference per output between two runs of the same input. */
export async function compareRuns(a: LoadedModel, b: LoadedModel, inputs: TensorMap): Promise<Record<string, number>> {
  const ra = await a.run(inputs);
  const rb = await b.run(inputs, Object.keys(ra.outputs));
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(ra.outputs)) {
    const w = rb.outputs[k];
    if (!w) throw new Error(`output '${k}' missing from the second runtime (has ${Object.keys(rb.outputs).join(', ')})`);
    if (w.dims.join('x') !== v.dims.join('x')) throw new Error(`output '${k}': dims ${v.dims} vs ${w.dims}`);
    out[k] = maxAbsDiff(v.data, w.data);
  }
  return out;
}

export const ort = () => getRuntime('ort');
export const ncnn = () => getRuntime('ncnn');

/**
 * Mean cosine similarity of every output of an ncnn model against its fp32 model, on the first two
 * sample photos (not calibration images): how close an int8 variant stays to fp32.
 */
export async function cosineToFp32(fp32: string, model: string, entry: ModelEntry, longSide = 320): Promise<number> {
  const rt = await ncnn();
  const fp = await rt.load(fp32);
  const q = await rt.load(model);
  let sum = 0;
  let n = 0;
  try {
    for (const path of IMAGES.slice(0, 2)) {
      const x = await inputFor(path, entry, longSide);
      const a = (await fp.run({ [fp.inputNames[0]]: x })).outputs;
      const b = (await q.run({ [q.inputNames[0]]: x })).outputs;
      for (const name of Object.keys(a)) {
        const u = a[name].data, v = b[name].data;
        let dot = 0, nu = 0, nv = 0;
        for (let i = 0; i < u.length; i++) {
          dot += u[i] * v[i]; nu += u[i] * u[i]; nv += v[i] * v[i];
        }
        sum += dot / Math.sqrt(nu * nv);
        n++;
      }
    }
  } finally {
    await fp.release();
    await q.release();
  }
  return sum / n;
}
