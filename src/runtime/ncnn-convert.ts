/**
 * Turns an .onnx into .param/.bin for the ncnn runtime with fdk's own converter (src/convert/ncnn),
 * writing into `.fdk/ncnn-cache/<hash>/`. The ncnn runtime never uses another converter.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { workDir } from '../util/data.js';
import { FdkError } from '../util/errors.js';
import { readFileOrThrow } from '../util/fs.js';
import { convertOnnxFileToNcnn } from '../convert/ncnn/index.js';
import { checkInputSizeFits } from '../convert/size-check.js';
import { loadOnnx } from '../onnx/io.js';
import { runtimeInputs, type Model } from '../onnx/model.js';

export interface NcnnConversion {
  onnx: string;
  param: string;
  bin: string;
  /** Real-input shapes declared by the ONNX graph (strings = symbolic dims). */
  inputShapes: Record<string, (number | string)[]>;
  /** Converter optimisations (BatchNorm folding, activation fusion) were on. */
  optimize: boolean;
  /** Wall time of the conversion (0 when taken from the cache of this process). */
  ms: number;
}

/** The ONNX graph inputs that are real inputs (the Ultra-Light exports also list weights as inputs). */
export function declaredInputs(model: Model): Record<string, (number | string)[]> {
  const out: Record<string, (number | string)[]> = {};
  for (const v of runtimeInputs(model.graph)) {
    out[v.name] = (v.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : String(d)));
  }
  return out;
}

const done = new Map<string, NcnnConversion>();

export async function convertOnnxForNcnn(
  onnxPath: string,
  inputShapes: Record<string, number[]>,
  opts: { optimize?: boolean } = {},
): Promise<NcnnConversion> {
  const bytes = readFileOrThrow(onnxPath);
  const optimize = opts.optimize ?? true;
  const key = createHash('sha256').update(bytes).update(JSON.stringify({ inputShapes, optimize })).digest('hex').slice(0, 16);
  const hit = done.get(key);
  if (hit && existsSync(hit.param) && existsSync(hit.bin)) return { ...hit, ms: 0 };
  const stem = basename(onnxPath).replace(/\.onnx$/i, '');
  const dir = workDir('ncnn-cache', key);
  const t0 = performance.now();
  let r: { paramPath: string; binPath: string };
  // a size the model's baked constants do not fit would convert and run, giving garbage: refuse it
  if (Object.keys(inputShapes).length) checkInputSizeFits(loadOnnx(onnxPath), inputShapes, onnxPath);
  try {
    r = convertOnnxFileToNcnn(onnxPath, { inputShapes, optimize, param: join(dir, `${stem}.param`), bin: join(dir, `${stem}.bin`) });
  } catch (e) {
    if (e instanceof FdkError) throw e;
    throw new FdkError(`conversion to ncnn failed: ${String((e as Error).message ?? e).split('\n')[0]}`, { file: onnxPath });
  }
  const out: NcnnConversion = {
    onnx: onnxPath, param: r.paramPath, bin: r.binPath, inputShapes: declaredInputs(loadOnnx(onnxPath)), optimize, ms: performance.now() - t0,
  };
  done.set(key, out);
  return out;
}
