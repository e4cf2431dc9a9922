/**
 * The calibration set: a folder of images (searched recursively) or a list file (one path per line,
 * relative to the list's folder or to its `images/` subfolder, as `wider/calib-200/list.txt` is;
 * the folder or list itself may be given relative to the data folder),
 * preprocessed by the model's own manifest description into float32 tensors in a temp folder that
 * the ncnn helper reads. Unreadable images are skipped and counted; none readable is an error.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { resolveDataDir } from '../util/data.js';
import type { ModelEntry } from '../models/manifest.js';
import { FdkError } from '../util/errors.js';
import { readFileOrThrow } from '../util/fs.js';

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.webp']);

export interface CalibTensor {
  file: string;
  dims: number[];
}

export interface CalibSet {
  images: string[];
  tensors: CalibTensor[];
  skipped: { path: string; reason: string }[];
  dir: string;
  /** Removes the temp folder. */
  dispose(): void;
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (IMAGE_EXT.has(extname(name).toLowerCase())) out.push(p);
  }
}

/** The image paths of DIR or LIST, in a stable order. */
export function listCalibImages(spec: string): string[] {
  let p = resolve(spec);
  // a path relative to the data folder works from any directory: --calib wider/calib-200/list.txt
  if (!existsSync(p) && !isAbsolute(spec)) {
    const data = resolveDataDir(undefined, { required: false });
    if (data && existsSync(join(data, spec))) p = join(data, spec);
  }
  if (!existsSync(p)) throw new FdkError('no such file or folder', { file: spec });
  if (statSync(p).isDirectory()) {
    const out: string[] = [];
    walk(p, out);
    return out;
  }
  const base = dirname(p);
  return readFileOrThrow(p)
    .toString('utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      if (l.startsWith('/')) return l;
      const direct = join(base, l);
      return existsSync(direct) || !existsSync(join(base, 'images', l)) ? direct : join(base, 'images', l);
    });
}

/** Preprocesses up to `limit` images of `spec` for `entry` at `longSide` into temp tensor files. */
export async function prepareCalibSet(spec: string, entry: ModelEntry, longSide: number, limit?: number): Promise<CalibSet> {
  const { loadImage } = await import('../accuracy/image.js');
  const { preprocess } = await import('../accuracy/preprocess.js');
  const all = listCalibImages(spec);
  const images = limit ? all.slice(0, limit) : all;
  const dir = mkdtempSync(join(tmpdir(), 'fdk-calib-'));
  const set: CalibSet = { images: [], tensors: [], skipped: [], dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
  try {
    for (const path of images) {
      let pre;
      try {
        pre = preprocess(await loadImage(path, { keepRgb: true }), entry, { longSide });
      } catch (e) {
        set.skipped.push({ path, reason: (e as Error).message });
        continue;
      }
      const file = join(dir, `${set.tensors.length}.f32`);
      writeFileSync(file, new Uint8Array(pre.tensor.buffer, pre.tensor.byteOffset, pre.tensor.byteLength));
      set.tensors.push({ file, dims: [...pre.dims] });
      set.images.push(path);
    }
    if (!set.tensors.length)
      throw new FdkError(`no readable calibration images (${all.length} candidate file(s)${set.skipped[0] ? `; first: ${set.skipped[0].reason}` : ''})`, { file: spec });
    return set;
  } catch (e) {
    set.dispose();
    throw e;
  }
}
