/**
 * `fdk quantize`: an fp32 model (ONNX, converted by fdk's own converter, or an fdk ncnn .param)
 * to an ncnn int8 model plus its calibration table.
 *
 *   calibration images --preprocess (manifest)--> tensors --real ncnn--> blob statistics
 *   statistics --method--> blob scales; weights --per channel--> weight scales   => .table
 *   .table (written, then parsed back: the file is the truth) --> int8 .param/.bin
 *
 * Mixed precision: layers named by the user, and the `autoKeep` layers whose fp32 copy brings the
 * model's outputs closest to fp32 on calibration images (mixed-precision.ts, measured with real
 * ncnn), are left out of the table and stay fp32.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { parseParam, readNcnnModel } from '../convert/ncnn/format/index.js';
import type { ModelEntry } from '../models/manifest.js';
import { FdkError } from '../util/errors.js';
import { outputDir, readFileOrThrow, writeOutputData, type OutputOutcome } from '../util/fs.js';
import { prepareCalibSet, type CalibSet } from './calib-images.js';
import { eqRefine } from './eq-search.js';
import { checkTableMatches, writeInt8Model } from './int8-writer.js';
import { isInt8Layer, isQuantizable, weightScales } from './layers.js';
import { blobStats, type NcnnFiles } from './ncnn-calib.js';
import { chooseFp32Layers } from './mixed-precision.js';
import { parseTable, writeTable, type Int8Table } from './table.js';
import { activationScale, DEFAULT_METHOD, HISTOGRAM_BINS, type CalibMethod } from './thresholds.js';

export interface QuantizeOptions {
  /** .onnx or fp32 ncnn .param (with its .bin beside it). */
  model: string;
  /** Manifest entry whose preprocessing the calibration images get. */
  entry: ModelEntry;
  /** Calibration images: a folder or a list file. */
  calib?: string;
  /** Use this ncnn2table-format table instead of calibrating. */
  table?: string;
  method?: CalibMethod;
  /** Weight scales per output channel (default) or one per tensor. */
  perChannel?: boolean;
  /** Long side of the calibration inputs (seed models; fixed-size models ignore it). */
  longSide?: number;
  /** Use only the first N calibration images. */
  limit?: number;
  /** Layers to keep in fp32. */
  keepFp32?: string[];
  /** Also keep in fp32 the N layers whose fp32 copy raises the output cosine against fp32 the most. */
  autoKeep?: number;
  /** Output prefix: PREFIX.param, PREFIX.bin, PREFIX.table. */
  out: string;
  /** Replace an existing output that holds a different model (otherwise refused; the same bytes are re-used). */
  force?: boolean;
  log?: (s: string) => void;
}

export interface LayerReport {
  name: string;
  type: string;
  bottom: string;
  precision: 'int8' | 'fp32';
  absmax?: number;
  threshold?: number;
  scale?: number;
  /** Automatic mixed precision: how much keeping this layer alone in fp32 raises the mean output cosine against fp32. */
  outputGain?: number;
  /** Method eq: the factor of the kl scale the search chose, and the layer's int8-vs-fp32 output cosine with it. */
  eqFactor?: number;
  eqCosine?: number;
}

export interface QuantizeResult {
  param: string;
  bin: string;
  table: string;
  /** written, replaced (--force), or unchanged (the same bytes were already there) */
  outcome: OutputOutcome;
  source: { model: string; param: string; bin: string };
  method: CalibMethod | 'table';
  perChannel: boolean;
  calibImages: number;
  skippedImages: number;
  layers: LayerReport[];
  keptFp32: string[];
  bytes: { fp32Bin: number; int8Bin: number; ratio: number };
}

/** The fixed input shape of a fixed-size model (Ultra-Light), for the ONNX -> ncnn conversion. */
function inputShapesFor(entry: ModelEntry): Record<string, number[]> {
  const r = entry.input.resize;
  return r.mode === 'fixed' ? { [entry.input.name]: [1, 3, r.height!, r.width!] } : {};
}

const QDQ_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'QLinearConv', 'ConvInteger', 'MatMulInteger', 'QLinearMatMul']);

/** The fp32 ncnn files of the model: an .onnx is converted (cached), a .param is used as is. */
async function fp32Files(model: string, entry: ModelEntry): Promise<NcnnFiles> {
  const ext = extname(model).toLowerCase();
  if (ext === '.onnx') {
    const { loadOnnx } = await import('../onnx/io.js');
    const q = loadOnnx(model).graph.nodes.find((n) => QDQ_OPS.has(n.opType));
    if (q) throw new FdkError(`model is already quantized (it has ${q.opType} nodes); give the fp32 model`, { file: model });
    const { convertOnnxForNcnn } = await import('../runtime/ncnn-convert.js');
    const c = await convertOnnxForNcnn(model, inputShapesFor(entry));
    return { param: c.param, bin: c.bin };
  }
  if (ext === '.param') return { param: model, bin: model.replace(/\.param$/i, '.bin') };
  throw new FdkError('expected an .onnx model or an fp32 ncnn .param', { file: model });
}

export async function quantizeModel(o: QuantizeOptions): Promise<QuantizeResult> {
  const log = o.log ?? (() => {});
  const method = o.method ?? DEFAULT_METHOD;
  const perChannel = o.perChannel ?? true;
  const src = await fp32Files(o.model, o.entry);
  const parsed = parseParam(readFileOrThrow(src.param).toString('utf8'), src.param);
  const already = parsed.layers.find((l) => isInt8Layer({ ...l, weights: [] }));
  if (already) throw new FdkError(`model is already quantized: layer '${already.name}' has int8 weights (8=${already.params.get(8)?.value})`, { file: o.model });
  const net = readNcnnModel(src.param, { bin: src.bin });
  const qlayers = net.layers.filter(isQuantizable);
  if (!qlayers.length) throw new FdkError('no quantizable layers (Convolution, ConvolutionDepthWise, InnerProduct): nothing to quantize', { file: o.model });
  const inputName = net.layers.find((l) => l.type === 'Input')?.outputs[0];
  if (!inputName) throw new FdkError('the ncnn model has no Input layer', { file: src.param });
  for (const n of o.keepFp32 ?? [])
    if (!qlayers.some((l) => l.name === n))
      throw new FdkError(`--keep-fp32: '${n}' is not a quantizable layer of the model (quantizable: ${qlayers.slice(0, 6).map((l) => l.name).join(', ')}${qlayers.length > 6 ? ', ...' : ''})`, { file: o.model });
  if (!o.table && !o.calib) throw new FdkError('give --calib DIR|LIST (calibration images) or --table FILE');
  if (o.autoKeep && !o.calib) throw new FdkError('automatic mixed precision measures drift on calibration images: give --calib');

  const layers = new Map<string, LayerReport>(qlayers.map((l) => [l.name, { name: l.name, type: l.type, bottom: l.inputs[0], precision: 'int8' }]));
  let calib: CalibSet | undefined;
  const work = mkdtempSync(join(tmpdir(), 'fdk-quantize-'));
  try {
    if (o.calib) {
      calib = await prepareCalibSet(o.calib, o.entry, o.longSide ?? 320, o.limit);
      log(`calibration: ${calib.tensors.length} images${calib.skipped.length ? ` (${calib.skipped.length} unreadable, skipped)` : ''}`);
    }
    let table: Int8Table;
    if (o.table) {
      table = parseTable(readFileOrThrow(o.table).toString('utf8'), o.table);
      checkTableMatches(net, table, o.table);
    } else {
      const bottoms = [...new Set(qlayers.map((l) => l.inputs[0]))];
      const stats = await blobStats(src, inputName, calib!.tensors, bottoms, HISTOGRAM_BINS);
      const t: Int8Table = { weights: new Map(), blobs: new Map() };
      for (const l of qlayers) t.weights.set(l.name, weightScales(l, method, perChannel));
      for (const l of qlayers) {
        const s = stats.get(l.inputs[0])!;
        const a = activationScale(s, method);
        t.blobs.set(l.name, [a.scale]);
        Object.assign(layers.get(l.name)!, { absmax: s.absmax, threshold: a.threshold });
      }
      if (method === 'eq') {
        const r = await eqRefine(src, qlayers, parseTable(writeTable(t), 'table'), inputName, calib!.tensors);
        t.blobs = r.table.blobs;
        for (const l of qlayers) {
          const e = r.eq.layers.get(l.name)!;
          Object.assign(layers.get(l.name)!, { threshold: 127 / t.blobs.get(l.name)![0], eqFactor: e.factor, eqCosine: e.cosine });
        }
        log(`eq: ${qlayers.filter((l) => r.eq.layers.get(l.name)!.factor !== 1).length} of ${qlayers.length} layer scales moved from kl`);
      }
      // the table as written is what gets quantized (ncnn2int8 would read the same numbers)
      table = parseTable(writeTable(t), 'table');
    }
    const keep = new Set(o.keepFp32 ?? []);
    if (o.autoKeep && o.autoKeep > 0) {
      const candidates = qlayers.filter((l) => !keep.has(l.name) && table.blobs.has(l.name));
      const c = await chooseFp32Layers(src, net, candidates, table, keep, o.autoKeep, inputName, calib!.tensors, work);
      for (const l of candidates) layers.get(l.name)!.outputGain = c.withFp32.get(l.name)! - c.allInt8;
      for (const n of c.chosen) keep.add(n);
      log(`mixed precision: output cosine ${c.allInt8.toFixed(5)} all int8; keeping ${[...keep].join(', ')} in fp32`);
    }
    for (const n of keep) {
      table.blobs.delete(n);
      table.weights.delete(n);
    }
    if (!table.blobs.size) throw new FdkError('every quantizable layer is kept in fp32: nothing left to quantize', { file: o.model });
    for (const l of qlayers) {
      const r = layers.get(l.name)!;
      r.scale = table.blobs.get(l.name)?.[0];
      if (!table.blobs.has(l.name)) r.precision = 'fp32';
    }
    const model = writeInt8Model(net, table);
    const out = { param: `${o.out}.param`, bin: `${o.out}.bin`, table: `${o.out}.table` };
    const data = [model.param, model.bin, writeTable(table)];
    const { outcome } = await writeOutputData([out.param, out.bin, out.table], () => ({ result: undefined, data }), { force: o.force, option: '-o' });
    const fp32Bin = statSync(src.bin).size;
    const int8Bin = model.bin.reduce((s, c) => s + c.byteLength, 0);
    return {
      ...out,
      outcome,
      source: { model: o.model, ...src },
      method: o.table ? 'table' : method,
      perChannel,
      calibImages: calib?.tensors.length ?? 0,
      skippedImages: calib?.skipped.length ?? 0,
      layers: [...layers.values()],
      keptFp32: qlayers.filter((l) => keep.has(l.name)).map((l) => l.name),
      bytes: { fp32Bin, int8Bin, ratio: int8Bin / fp32Bin },
    };
  } finally {
    calib?.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Where the CLI writes by default: the user's output folder (`--out`, default ./fdk-out), never the checkout. */
export function defaultPrefix(model: string, method: string, out?: string): string {
  return join(outputDir(out), `${basename(model).replace(/\.(onnx|param)$/i, '')}-int8-${method}`);
}
