/**
 * Automatic mixed precision: which layers to keep in fp32, chosen by what keeping each one does to
 * the model's outputs, not by the drift the layer adds to its own output blob.
 *
 * Why end to end: on mnet0.25 at 640 the layers that add the most drift to their own output (the
 * 3x3 FPN/SSH convolutions) hardly matter: keeping five of them fp32 moved val-mini AP by < 0.001,
 * while the box and landmark outputs (cosine 0.95 against fp32) are damaged by the early,
 * high-resolution layers of the backbone, each adding little drift of its own. So every candidate
 * layer is measured by real ncnn running the all-int8 model with only that layer in fp32: the
 * mean cosine of all outputs against fp32 on calibration images; the N layers whose fp32 copy
 * raises it the most are kept (one pass: the gains are measured one layer at a time).
 */
import { join } from 'node:path';
import type { NcnnLayer, NcnnNet } from '../convert/ncnn/format/index.js';
import { writeFilesAtomic } from '../util/fs.js';
import type { CalibTensor } from './calib-images.js';
import { writeInt8Model } from './int8-writer.js';
import { outputCosine, type NcnnFiles } from './ncnn-calib.js';
import type { Int8Table } from './table.js';

/** Calibration images the gains are measured on (each candidate layer is one model run per image). */
const GAIN_IMAGES = 10;

interface KeepChoice {
  /** Mean output cosine against fp32 of the model with every candidate int8. */
  allInt8: number;
  /** layer -> mean output cosine with that layer alone kept fp32 (minus allInt8 = its gain). */
  withFp32: Map<string, number>;
  /** The `n` layers with the largest gain, best first. */
  chosen: string[];
}

function without(table: Int8Table, names: Iterable<string>): Int8Table {
  const t = { weights: new Map(table.weights), blobs: new Map(table.blobs) };
  for (const n of names) {
    t.weights.delete(n);
    t.blobs.delete(n);
  }
  return t;
}

/** Ranks the candidate layers (quantizable, not already kept) by end-to-end gain; `dir` holds the probe models. */
export async function chooseFp32Layers(src: NcnnFiles, net: NcnnNet, candidates: NcnnLayer[], table: Int8Table, keep: Set<string>, n: number, input: string, tensors: CalibTensor[], dir: string): Promise<KeepChoice> {
  const variants: NcnnFiles[] = [];
  const write = (name: string, t: Int8Table) => {
    const m = writeInt8Model(net, t);
    const f = { param: join(dir, `${name}.param`), bin: join(dir, `${name}.bin`) };
    writeFilesAtomic([{ path: f.param, data: m.param }, { path: f.bin, data: m.bin }]);
    variants.push(f);
  };
  const base = without(table, keep);
  write('all-int8', base);
  candidates.forEach((l, i) => write(`keep-${i}`, without(base, [l.name])));
  const cos = await outputCosine(src, variants, input, tensors.slice(0, GAIN_IMAGES));
  const withFp32 = new Map(candidates.map((l, i) => [l.name, cos[i + 1]]));
  const chosen = [...candidates].sort((a, b) => withFp32.get(b.name)! - withFp32.get(a.name)!).slice(0, n).map((l) => l.name);
  return { allInt8: cos[0], withFp32, chosen };
}
