/**
 * Parity inputs: real images from a folder, preprocessed exactly as the model's own pipeline does
 * (src/accuracy/preprocess.ts), so every runtime sees the same tensors a user would feed.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadImage } from '../accuracy/image.js';
import { preprocess, type Preprocessed } from '../accuracy/preprocess.js';
import type { ModelEntry } from '../models/manifest.js';
import { FdkError } from '../util/errors.js';
import { fsError } from '../util/fs.js';

export interface ParityInput {
  image: string;
  /** e.g. `seed-sample.jpg@320` */
  label: string;
  longSide?: number;
  pre: Preprocessed;
}

export function listImages(dir: string, limit?: number): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new FdkError('--images must be a folder of .jpg/.png files', { file: dir });
    names = readdirSync(dir);
  } catch (e) {
    if (e instanceof FdkError) throw e;
    throw fsError(e, dir);
  }
  const files = names.filter((n) => /\.(jpe?g|png)$/i.test(n)).sort().map((n) => join(dir, n));
  if (files.length === 0) throw new FdkError('no .jpg/.png images in the folder', { file: dir });
  return limit ? files.slice(0, limit) : files;
}

/** One input per image and long side (fixed-size models ignore the long side: one input per image). */
export async function parityInputs(entry: ModelEntry, images: string[], longSides: number[]): Promise<ParityInput[]> {
  const out: ParityInput[] = [];
  const fixed = entry.input.resize.mode === 'fixed';
  for (const path of images) {
    const img = await loadImage(path);
    for (const ls of fixed ? [undefined] : longSides) {
      const pre = preprocess(img, entry, { longSide: ls });
      out.push({ image: path, label: `${basename(path)}${ls ? `@${ls}` : ''}`, longSide: ls, pre });
    }
  }
  return out;
}
