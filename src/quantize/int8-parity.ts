/**
 * `fdk parity MODEL --int8 INT8.param`: int8 against its fp32 model where parity makes sense —
 * at detection level (agreement.ts) on real images, plus per-layer drift on the same images (real
 * ncnn, both models, every quantized layer's output) naming the layer that loses the most.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import type { ModelEntry } from '../models/manifest.js';
import type { ModelFileChoice } from '../accuracy/pipeline.js';
import { parseParam } from '../convert/ncnn/format/index.js';
import { FdkError, escapeName } from '../util/errors.js';
import { readFileOrThrow } from '../util/fs.js';
import { detectionAgreement, AGREE_IOU, AGREE_SCORE, type Agreement } from './agreement.js';
import { prepareCalibSet } from './calib-images.js';
import { blobDrift, type NcnnFiles } from './ncnn-calib.js';

/** Share of confident fp32 faces the int8 model must keep for `ok` (the test's bound, docs/int8.md). */
export const AGREEMENT_OK = 0.95;

export interface LayerDrift {
  layer: string;
  type: string;
  int8: boolean;
  /** Mean cosine similarity of the layer's output, int8 vs fp32. */
  cosine: number;
  relL2: number;
  /** Cosine lost in this layer: cosine of its input minus cosine of its output. */
  added: number;
}

export interface Int8ParityReport {
  model: string;
  int8: string;
  images: number;
  criteria: { minScore: number; minIoU: number; okShare: number };
  agreement: (Agreement & { longSide: number })[];
  layers: LayerDrift[];
  worstLayer?: LayerDrift;
  ok: boolean;
}

export async function int8Parity(entry: ModelEntry, model: ModelFileChoice, int8Param: string, images: string[], longSides: number[]): Promise<Int8ParityReport> {
  if (extname(int8Param).toLowerCase() !== '.param') throw new FdkError('--int8 expects an ncnn int8 .param (with its .bin beside it)', { file: int8Param });
  const q = parseParam(readFileOrThrow(int8Param).toString('utf8'), int8Param);
  if (!q.layers.some((l) => (l.params.get(8)?.value ?? 0) !== 0)) throw new FdkError('not an int8 model: no layer has int8_scale_term (make one with fdk quantize)', { file: int8Param });
  // the fp32 side as ncnn files (same converter => same blob names as the int8 model made from it)
  let fp32: NcnnFiles;
  if (extname(model.path).toLowerCase() === '.onnx') {
    const { convertOnnxForNcnn } = await import('../runtime/ncnn-convert.js');
    const r = entry.input.resize;
    const c = await convertOnnxForNcnn(model.path, r.mode === 'fixed' ? { [entry.input.name]: [1, 3, r.height!, r.width!] } : {});
    fp32 = { param: c.param, bin: c.bin };
  } else fp32 = { param: model.path, bin: model.path.replace(/\.param$/i, '.bin') };
  const f = parseParam(readFileOrThrow(fp32.param).toString('utf8'), fp32.param);
  const fpNames = new Set(f.layers.map((l) => `${l.type} ${l.name}`));
  const stranger = q.layers.find((l) => !fpNames.has(`${l.type} ${l.name}`));
  if (stranger) throw new FdkError(`the int8 model does not come from this model: layer '${stranger.name}' (${stranger.type}) is not in its ncnn conversion`, { file: int8Param });
  // quantizing keeps every layer: an fp32 layer missing from the int8 model (say a decoding tail) means another source
  const qNames = new Set(q.layers.map((l) => `${l.type} ${l.name}`));
  const missing = f.layers.find((l) => !qNames.has(`${l.type} ${l.name}`));
  if (missing) throw new FdkError(`the int8 model does not come from this model: its ncnn conversion has layer '${escapeName(missing.name)}' (${missing.type}), the int8 model does not`, { file: int8Param });

  const int8File: ModelFileChoice = { path: int8Param, boxesDecoded: model.boxesDecoded, origin: 'int8' };
  const fp32File: ModelFileChoice = { path: fp32.param, boxesDecoded: model.boxesDecoded, origin: 'fp32' };
  const agreement: Int8ParityReport['agreement'] = [];
  for (const ls of longSides) agreement.push({ longSide: ls, ...(await detectionAgreement(entry, fp32File, int8File, images, ls)) });

  // per-layer drift on the same images at the first long side
  const set = await withList(images, (list) => prepareCalibSet(list, entry, longSides[0]));
  let layers: LayerDrift[];
  try {
    const input = q.layers.find((l) => l.type === 'Input')!.outputs[0];
    const convs = q.layers.filter((l) => ['Convolution', 'ConvolutionDepthWise', 'InnerProduct'].includes(l.type));
    const blobs = [...new Set(convs.flatMap((l) => [l.inputs[0], l.outputs[0]]))].filter((b) => b !== input);
    const d = await blobDrift(fp32, { param: int8Param, bin: int8Param.replace(/\.param$/i, '.bin') }, input, set.tensors, blobs);
    layers = convs.map((l) => {
      const o = d.get(l.outputs[0])!;
      const i = d.get(l.inputs[0])?.cosine ?? 1;
      return { layer: l.name, type: l.type, int8: (l.params.get(8)?.value ?? 0) !== 0, cosine: o.cosine, relL2: o.relL2, added: i - o.cosine };
    });
  } finally {
    set.dispose();
  }
  const worstLayer = layers.reduce<LayerDrift | undefined>((w, l) => (!w || l.added > w.added ? l : w), undefined);
  return {
    model: model.path,
    int8: int8Param,
    images: images.length,
    criteria: { minScore: AGREE_SCORE, minIoU: AGREE_IOU, okShare: AGREEMENT_OK },
    agreement,
    layers,
    worstLayer,
    ok: agreement.every((a) => a.share >= AGREEMENT_OK),
  };
}

/** A temp list file for prepareCalibSet (it takes a folder or a list); removed after use. */
function withList<T>(images: string[], fn: (list: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'fdk-int8-parity-'));
  const list = join(dir, 'list.txt');
  writeFileSync(list, images.join('\n') + '\n');
  return fn(list).finally(() => rmSync(dir, { recursive: true, force: true }));
}

export function int8ParityText(r: Int8ParityReport): string {
  const lines = [`int8 parity: ${basename(r.int8)} vs ${basename(r.model)} on ${r.images} image(s)`];
  for (const a of r.agreement)
    lines.push(
      `  long side ${a.longSide}: ${a.matched}/${a.reference} fp32 faces with score >= ${AGREE_SCORE} found by int8 at IoU >= ${AGREE_IOU} (${(100 * a.share).toFixed(1)}%, need ${100 * AGREEMENT_OK}%); score delta mean ${a.meanAbsScoreDelta.toFixed(4)}, max ${a.maxAbsScoreDelta.toFixed(4)}`,
    );
  const worst = [...r.layers].sort((a, b) => b.added - a.added).slice(0, 5);
  lines.push('  layers losing the most (cosine of output vs fp32; cosine lost in the layer):');
  for (const l of worst) lines.push(`    ${l.layer.padEnd(16)} ${l.type.padEnd(22)} ${l.int8 ? 'int8' : 'fp32'}  cos ${l.cosine.toFixed(5)}  lost ${l.added.toFixed(5)}`);
  lines.push(r.ok ? 'OK' : 'FAIL: int8 loses confident detections');
  return lines.join('\n');
}
