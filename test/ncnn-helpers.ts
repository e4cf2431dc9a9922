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
