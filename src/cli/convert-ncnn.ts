/**
 * `fdk convert MODEL.onnx --to ncnn [-o PREFIX] [--fp16] [--input name:shape] [--no-optimize] [--json]`:
 * ONNX -> ncnn .param/.bin with fdk's own converter (src/convert/ncnn). Both files are written
 * atomically, and only when the whole conversion succeeded.
 */
import { extname } from 'node:path';
import { existsSync } from 'node:fs';
import { convertOnnxFileToNcnn, defaultPrefix, type FileConvertOptions } from '../convert/ncnn/index.js';
import type { ConvertSummary } from '../convert/ncnn/convert.js';
import { FdkError, escapeName } from '../util/errors.js';
import type { ConvertCliOptions } from './convert.js';
import { parseInputShapes, printJson } from './output.js';

export { convertOnnxFileToNcnn } from '../convert/ncnn/index.js';

export async function convertToNcnnCommand(input: string, opts: ConvertCliOptions): Promise<void> {
  if (extname(input).toLowerCase() !== '.onnx') throw new FdkError('--to ncnn converts ONNX models (.onnx); convert a checkpoint with --to onnx first', { file: input });
  if (!existsSync(input)) throw new FdkError('no such file', { file: input });
  if (opts.arch) throw new FdkError('--arch applies to --to onnx only', { file: input });
  const prefix = (opts.output ?? defaultPrefix(input)).replace(/\.(param|bin)$/i, '');
  const o: FileConvertOptions = { prefix, fp16: !!opts.fp16, optimize: opts.optimize !== false, inputShapes: opts.input?.length ? parseInputShapes(opts.input) : undefined };
  const t0 = performance.now();
  const r = convertOnnxFileToNcnn(input, o);
  const ms = performance.now() - t0;
  if (opts.json) return printJson({ input, param: r.paramPath, bin: r.binPath, ms: Math.round(ms), ...r.summary });
  printSummary(input, r.paramPath, r.binPath, r.summary, ms);
}

function printSummary(input: string, param: string, bin: string, s: ConvertSummary, ms: number): void {
  const p = s.passes;
  const lines = [
    `converted ${input} -> ${param} + ${bin} (${Math.round(ms)} ms)`,
    `  ONNX nodes ${s.onnxNodes} -> ncnn layers ${s.ncnnLayers} (${s.blobs} blobs)${s.optimize ? '' : ', --no-optimize'}`,
    `  constant folding: ${p.constantFolding.removed} nodes removed${p.constantFolding.note ? ` (${p.constantFolding.note})` : ''}`,
    `  shape glue evaluated: ${p.shapeGlue.removed} nodes removed; identity/dropout removed: ${p.identities.removed}`,
    `  BatchNorm folded: ${p.batchNorm.fused}; activations fused: ${p.activation.fused}; dead layers removed: ${p.deadLayers.removed}; Split inserted: ${p.split.inserted}`,
    `  layers: ${Object.entries(s.layerTypes).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  inputs: ${s.inputs.map(escapeName).join(', ')}; outputs: ${s.outputs.map(escapeName).join(', ')}`, // names from the file
    `  weights: ${s.weightBytes.toLocaleString('en-US')} bytes (${s.fp16 ? 'fp16' : 'fp32'})`,
  ];
  console.log(lines.join('\n'));
}
