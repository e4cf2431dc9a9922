/**
 * The calibration table in ncnn2table's `.table` text format, so tables move freely between fdk and
 * ncnn's own tools (`ncnn2table` writes them, `ncnn2int8` reads them):
 *
 *   conv1_param_0 41.871826 96.360184 ...     weight scales of layer conv1 (one per output
 *   ...                                        channel; per group for ConvolutionDepthWise)
 *   conv1 113.384277                           scale of the blob entering layer conv1
 *
 * Keys are layer names: `NAME_param_N` lines are weight scales, the others blob scales. Values are
 * written with `%f` (6 decimals) as ncnn2table does; fdk quantizes from the table as parsed back,
 * so `fdk quantize` and `ncnn2int8` given the same table produce the same weights.
 */
import { FdkError } from '../util/errors.js';

export interface Int8Table {
  /** layer name -> weight scales (key `NAME_param_0` in the file). */
  weights: Map<string, number[]>;
  /** layer name -> bottom-blob scale(s). */
  blobs: Map<string, number[]>;
}

const PARAM_SUFFIX = /_param_(\d+)$/;

/** C's printf("%f"). */
const cf = (v: number) => (Number.isFinite(v) ? v.toFixed(6) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan');

export function writeTable(t: Int8Table): string {
  const lines: string[] = [];
  for (const [name, s] of t.weights) lines.push(`${name}_param_0 ${s.map(cf).join(' ')} `);
  for (const [name, s] of t.blobs) lines.push(`${name} ${s.map(cf).join(' ')} `);
  return lines.join('\n') + '\n';
}

export function parseTable(text: string, file = '.table'): Int8Table {
  const t: Int8Table = { weights: new Map(), blobs: new Map() };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const tok = lines[i].trim().split(/\s+/).filter(Boolean);
    if (!tok.length) continue;
    const [key, ...vals] = tok;
    const nums = vals.map(Number);
    if (!vals.length || nums.some((v) => !Number.isFinite(v) || v <= 0))
      throw new FdkError(`line ${i + 1}: '${key}' needs positive scale values (got '${vals.join(' ').slice(0, 40)}')`, { file });
    const m = PARAM_SUFFIX.exec(key);
    if (m) {
      // only the first weight of a layer (_param_0) is quantized for conv / inner product layers
      if (m[1] === '0') t.weights.set(key.slice(0, -m[0].length), nums);
    } else t.blobs.set(key, nums);
  }
  if (!t.blobs.size && !t.weights.size) throw new FdkError('empty calibration table (expected ncnn2table lines "NAME scale" and "NAME_param_0 scales...")', { file });
  return t;
}
