/**
 * Report stage "ncnn": converts the model's ONNX to ncnn with fdk's converter (src/convert/ncnn),
 * fp32 and fp16, then checks that the real ncnn (PyPI, in the runtime worker) loads each result.
 * Files go to .fdk/report/<id>/ and are reused by the parity/bench/accuracy stages.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../onnx/io.js';
import type { Model } from '../onnx/model.js';
import { FdkError } from '../util/errors.js';
import { writeFilesAtomic } from '../util/fs.js';
import { requireExports } from './optional.js';
import { runtimeIndex } from './stage-runtimes.js';
import type { NcnnConversion } from './schema.js';
import type { ModelContext, NcnnFiles } from './context.js';

type ConvertOpts = { inputShapes?: Record<string, number[]>; fp16?: boolean; outDir?: string; param?: string; bin?: string };
type ConverterModule = { convertOnnxFileToNcnn: (path: string, opts: ConvertOpts) => unknown };

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

const concat = (parts: Uint8Array | Uint8Array[]) =>
  parts instanceof Uint8Array ? parts : Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));

/** Runs fdk's converter and returns the written .param/.bin, whatever form the converter returns. */
async function convert(onnxPath: string, files: NcnnFiles, fp16: boolean, inputShapes: Record<string, number[]>): Promise<void> {
  const { convertOnnxFileToNcnn } = await requireExports<ConverterModule>('../convert/ncnn/index.js', ['convertOnnxFileToNcnn']);
  const r = (await convertOnnxFileToNcnn(onnxPath, { inputShapes, fp16, param: files.param, bin: files.bin })) as
    | { param?: unknown; bin?: unknown; paramPath?: unknown; binPath?: unknown }
    | undefined;
  if (r && typeof r.param === 'string' && r.param.startsWith('7767517') && r.bin)
    writeFilesAtomic([{ path: files.param, data: r.param }, { path: files.bin, data: concat(r.bin as Uint8Array[]) }]);
  else if (r && typeof r.paramPath === 'string' && typeof r.binPath === 'string' && r.paramPath !== files.param) {
    writeFilesAtomic([{ path: files.param, data: readFileSync(r.paramPath) }, { path: files.bin, data: readFileSync(r.binPath as string) }]);
  }
  if (!existsSync(files.param) || !existsSync(files.bin)) throw new FdkError('the ONNX->ncnn converter wrote no .param/.bin', { file: onnxPath });
}

/** Layer and blob counts from the .param header (magic, then "layers blobs"). */
export function paramCounts(paramPath: string): { layers: number; blobs: number } {
  const lines = readFileSync(paramPath, 'utf8').split('\n');
  const [layers, blobs] = (lines[1] ?? '').trim().split(/\s+/).map(Number);
  if (lines[0].trim() !== '7767517' || !Number.isInteger(layers)) throw new FdkError('not an ncnn .param (bad header)', { file: paramPath });
  return { layers, blobs };
}

async function loadsInNcnn(files: NcnnFiles, fp16: boolean): Promise<string | undefined> {
  const rt = await (await runtimeIndex()).getRuntime('ncnn');
  try {
    const m = await rt.load(files.param, { threads: 1, fp16 });
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
