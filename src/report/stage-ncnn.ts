/**
 * Report stage "ncnn": converts the model's ONNX to ncnn with fdk's converter (src/convert/ncnn),
 * fp32 and fp16, then checks that the real ncnn (PyPI, in the runtime worker) loads each result.
 * Files go to .fdk/report/<id>/ and are reused by the parity/bench/accuracy stages.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../onnx/io.js';
import type { Model } from '../onnx/model.js';
import { FdkError } from '../util/errors.js';
import { getRuntime } from '../runtime/index.js';
import type { NcnnConversion } from './schema.js';
import type { ModelContext, NcnnFiles } from './context.js';

/** Fixed input shapes of the ONNX (for fixed-size models); {} keeps a dynamic model dynamic. */
export function fixedInputShapes(model: Model): Record<string, number[]> {
  const g = model.graph;
  const out: Record<string, number[]> = {};
  for (const v of g.inputs) {
    if (g.initializers.has(v.name)) continue;
    const s = v.shape ?? [];
    if (s.length && s.every((d) => typeof d === 'number' && d > 0)) out[v.name] = s as number[];
  }
  return out;
}

/** Runs fdk's converter; it writes the .param/.bin at the given paths atomically (or throws). */
async function convert(onnxPath: string, files: NcnnFiles, fp16: boolean, inputShapes: Record<string, number[]>): Promise<void> {
  const { convertOnnxFileToNcnn } = await import('../convert/ncnn/index.js');
  convertOnnxFileToNcnn(onnxPath, { inputShapes, fp16, param: files.param, bin: files.bin });
}

/** Layer and blob counts from the .param header (magic, then "layers blobs"). */
export function paramCounts(paramPath: string): { layers: number; blobs: number } {
  const lines = readFileSync(paramPath, 'utf8').split('\n');
  const [layers, blobs] = (lines[1] ?? '').trim().split(/\s+/).map(Number);
  if (lines[0].trim() !== '7767517' || !Number.isInteger(layers)) throw new FdkError('not an ncnn .param (bad header)', { file: paramPath });
  return { layers, blobs };
}

async function loadsInNcnn(files: NcnnFiles, fp16: boolean): Promise<string | undefined> {
  const rt = await getRuntime('ncnn');
  try {
    const m = await rt.load(files.param, { threads: 1, ncnn: { fp16 } });
    await m.release();
    return undefined;
  } catch (e) {
    return String((e as Error).message).split('\n')[0];
  }
}

export async function ncnnStage(ctx: ModelContext): Promise<{ fp32?: NcnnConversion; fp16?: NcnnConversion }> {
  const model = loadOnnx(ctx.onnxPath!);
  const shapes = ctx.onnxDynamic ? {} : fixedInputShapes(model);
  const out: { fp32?: NcnnConversion; fp16?: NcnnConversion } = {};
  for (const precision of ['fp32', 'fp16'] as const) {
    const fp16 = precision === 'fp16';
    const files = { param: join(ctx.dir, `${ctx.entry.id}-${precision}.param`), bin: join(ctx.dir, `${ctx.entry.id}-${precision}.bin`) };
    const t0 = performance.now();
    await convert(ctx.onnxPath!, files, fp16, shapes);
    const ms = Math.round(performance.now() - t0);
    const loadError = await loadsInNcnn(files, fp16);
    const { layers, blobs } = paramCounts(files.param);
    out[precision] = { precision, loads: !loadError, ...(loadError ? { loadError } : {}), layers, blobs, weightBytes: statSync(files.bin).size, ms };
    if (!loadError) ctx.ncnn[precision] = files;
  }
  return out;
}
