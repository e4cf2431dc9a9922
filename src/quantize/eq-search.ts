/**
 * The `eq` calibration method, after ncnn2table's `method=eq`: start from the KL scales, then for
 * every quantizable layer on its own search the bottom-blob scale (KL scale × 0.5 … 2) whose int8
 * output is closest to the fp32 output (mean cosine similarity over the calibration images). The
 * layer's input is the fp32 model's input to that layer, so every layer is tuned independently.
 * Unlike ncnn2table, the weight scales are not searched: per-channel max-abs scales are kept
 * (searching them is a per-channel loop of the same cost per channel).
 *
 * Each layer runs alone in real ncnn as a one-layer int8 model (Input -> layer) written by fdk's
 * int8 writer; the helper patches the scale, which is the last float of that model's .bin.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NcnnLayer } from '../convert/ncnn/format/index.js';
import { writeFilesAtomic } from '../util/fs.js';
import type { CalibTensor } from './calib-images.js';
import { writeInt8Model } from './int8-writer.js';
import { eqSearch, type NcnnFiles } from './ncnn-calib.js';
import type { Int8Table } from './table.js';

/**
 * ncnn2table's range 0.5–2 (it tries 100 steps); steps of 0.1 keep 1.0 (the KL scale) among the
 * candidates and keep the search affordable: every candidate of every layer is a real ncnn run.
 */
export const EQ_FACTORS = Array.from({ length: 16 }, (_, i) => Math.round((0.5 + 0.1 * i) * 10) / 10);
/** ncnn2table uses at most 50 images for eq; 8 keep a 640 search within minutes on 2 cores. */
const EQ_IMAGES = 8;

interface EqResult {
  /** layer name -> chosen factor of the KL scale, the cosine it reaches, and the KL scale's cosine. */
  layers: Map<string, { factor: number; cosine: number; base: number }>;
}

/** Returns the table with every blob scale replaced by the searched one (weights unchanged). */
export async function eqRefine(src: NcnnFiles, layers: NcnnLayer[], table: Int8Table, input: string, tensors: CalibTensor[]): Promise<{ table: Int8Table; eq: EqResult }> {
  const dir = mkdtempSync(join(tmpdir(), 'fdk-eq-'));
  try {
    const jobs = layers.map((l, i) => {
      const scale = table.blobs.get(l.name)![0];
      const inputLayer: NcnnLayer = { type: 'Input', name: 'in', inputs: [], outputs: [l.inputs[0]], params: new Map(), weights: [] };
      const one = writeInt8Model({ layers: [inputLayer, l] }, { weights: new Map([[l.name, table.weights.get(l.name)!]]), blobs: new Map([[l.name, [scale]]]) });
      const param = join(dir, `layer-${i}.param`);
      const bin = join(dir, `layer-${i}.bin`);
      writeFilesAtomic([{ path: param, data: one.param }, { path: bin, data: Buffer.concat(one.bin) }]);
      return { name: l.name, bottom: l.inputs[0], top: l.outputs[0], param, bin, scale };
    });
    const r = await eqSearch(src, input, tensors.slice(0, EQ_IMAGES), jobs, EQ_FACTORS, dir);
    const blobs = new Map(table.blobs);
    for (const j of jobs) blobs.set(j.name, [j.scale * r.get(j.name)!.factor]);
    return { table: { weights: table.weights, blobs }, eq: { layers: r } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
