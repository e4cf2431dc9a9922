/**
 * Turns an .onnx into .param/.bin for the ncnn runtime with fdk's own converter (src/convert/ncnn),
 * writing into `.fdk/ncnn-cache/<hash>/`. The ncnn runtime never uses another converter.
 *
 * The cache holds across processes: the key covers the ONNX bytes, the options and the converter
 * code itself (size and mtime of every source file of the running fdk), and a conversion counts only once its
 * `conversion.json` is there (written last). Each `fdk parity --per-layer` or `fdk bench` run of
 * the same model thus converts once, not every time.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workDir } from '../util/data.js';
import { FdkError } from '../util/errors.js';
import { readFileOrThrow, writeFileAtomic } from '../util/fs.js';
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

let stamp: string | undefined;
/** Identity of the converter code this process runs (src/ under tsx, dist/ when built). */
function converterStamp(): string {
  if (stamp) return stamp;
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js)$/.test(e.name)) {
        const st = statSync(p);
        h.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  // the whole tree, not just convert/: the converter reads onnx/, families/, accuracy/ and util/
  walk(root);
  stamp = h.digest('hex');
  return stamp;
}

/** A finished conversion in the on-disk cache, written by an earlier process. */
function cached(dir: string, onnx: string): NcnnConversion | undefined {
  const meta = join(dir, 'conversion.json');
  if (!existsSync(meta)) return undefined;
  try {
    const c = JSON.parse(readFileSync(meta, 'utf8')) as Omit<NcnnConversion, 'onnx' | 'ms'>;
    if (existsSync(c.param) && existsSync(c.bin)) return { ...c, onnx, ms: 0 };
  } catch {
    /* unreadable: convert again */
  }
  return undefined;
}

export async function convertOnnxForNcnn(
  onnxPath: string,
  inputShapes: Record<string, number[]>,
  opts: { optimize?: boolean } = {},
): Promise<NcnnConversion> {
  const bytes = readFileOrThrow(onnxPath);
  const optimize = opts.optimize ?? true;
  const key = createHash('sha256').update(bytes).update(JSON.stringify({ inputShapes, optimize, converter: converterStamp() })).digest('hex').slice(0, 16);
  const hit = done.get(key);
  if (hit && existsSync(hit.param) && existsSync(hit.bin)) return { ...hit, ms: 0 };
  const stem = basename(onnxPath).replace(/\.onnx$/i, '');
  const dir = workDir('ncnn-cache', key);
  const disk = cached(dir, onnxPath);
  if (disk) {
    done.set(key, disk);
    return disk;
  }
  const t0 = performance.now();
  // the converter is imported only when there is something to convert: a cache hit (every
  // per-layer or bench run after the first) does not pay for loading it
  const [{ convertOnnxFileToNcnn }, { checkInputSizeFits }] = await Promise.all([import('../convert/ncnn/index.js'), import('../convert/size-check.js')]);
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
  const { onnx: _onnx, ms: _ms, ...meta } = out;
  writeFileAtomic(join(dir, 'conversion.json'), JSON.stringify(meta, null, 1));
  done.set(key, out);
  return out;
}
