/**
 * Parity inputs for a model without a description: seeded synthetic tensors, or the user's own
 * arrays (`--inputs a.npy` / `b.npz`). Every runtime gets the very same values. (Models with a
 * description use real images, preprocessed by their own pipeline: images.ts.)
 */
import { basename, extname } from 'node:path';
import { syntheticInputs } from '../bench/case.js';
import { ZipArchive, ZipError } from '../convert/pytorch/zip.js';
import type { TensorMap } from '../runtime/types.js';
import { FdkError } from '../util/errors.js';
import { readFileOrThrow } from '../util/fs.js';
import { parseNpy, type NpyArray } from '../util/npy.js';
import type { Preprocessed } from '../accuracy/preprocess.js';

/** One parity input set: the same feeds go to every runtime. */
export interface ParityCase {
  label: string;
  /** Input name (of the ONNX graph, or the .param) -> tensor. Absent: built from `pre` for the first input. */
  feeds?: TensorMap;
  /** Set for real images: lets parity compare detections too. */
  pre?: Preprocessed;
}

/** `count` sets of seeded values in [-1, 1) with the given shapes (seeds seed, seed+1, ...). */
export function syntheticCases(shapes: Record<string, number[]>, opts: { count?: number; seed?: number } = {}): ParityCase[] {
  const seed = opts.seed ?? 1;
  return Array.from({ length: opts.count ?? 1 }, (_, i) => ({
    label: `synthetic seed ${seed + i} (${Object.entries(shapes).map(([n, d]) => `${n}:${d.join('x')}`).join(',')})`,
    feeds: syntheticInputs(shapes, seed + i),
  }));
}

function toFloat32(a: NpyArray): Float32Array {
  if (a.data instanceof Float32Array) return a.data;
  if (a.dtype === '<f2') throw new FdkError('float16 arrays are not supported; save them as float32');
  return Float32Array.from(a.data as ArrayLike<number | bigint>, Number);
}

/**
 * The user's arrays: a .npy feeds the model's only input (or the input named like the file's stem);
 * a .npz feeds inputs by entry name (`input.npy` -> input), or its single entry the only input.
 */
export function arrayCases(files: string[], inputNames: string[]): ParityCase[] {
  return files.map((file) => {
    const ext = extname(file).toLowerCase();
    const buf = readFileOrThrow(file);
    const entries: [string, NpyArray][] = [];
    if (ext === '.npy') entries.push([basename(file, extname(file)), parseNpy(buf, file)]);
    else if (ext === '.npz') {
      let zip: ZipArchive;
      try {
        zip = new ZipArchive(buf);
        for (const n of zip.names()) if (n.endsWith('.npy')) entries.push([n.slice(0, -4), parseNpy(zip.read(n), `${file}:${n}`)]);
      } catch (e) {
        if (e instanceof ZipError) throw new FdkError(`not a readable .npz (${e.message})`, { file });
        throw e;
      }
    } else throw new FdkError('--inputs takes .npy/.npz arrays, or images (.jpg/.png) with --spec or a model id', { file });
    const feeds: TensorMap = {};
    const only = inputNames.length === 1 && entries.length === 1;
    for (const [name, arr] of entries) {
      const target = inputNames.includes(name) ? name : only ? inputNames[0] : undefined;
      if (!target) throw new FdkError(`array '${name}' matches no model input (inputs: ${inputNames.join(', ')}); name the arrays after the inputs`, { file });
      feeds[target] = { data: toFloat32(arr), dims: arr.shape };
    }
    const missing = inputNames.filter((n) => !feeds[n]);
    if (missing.length) throw new FdkError(`no array for input(s) ${missing.join(', ')}`, { file });
    return { label: basename(file), feeds };
  });
}
