/**
 * `fdk convert MODEL.onnx --to ncnn [-o PREFIX | --out DIR] [--fp16] [--input name:shape] [--no-optimize] [--json]`:
 * ONNX -> ncnn .param/.bin with fdk's own converter (src/convert/ncnn). Default prefix
 * `./fdk-out/<name>[-fp16][-noopt]`. Both files are written atomically, only when the whole
 * conversion succeeded; identical files are left alone, a different model needs --force.
 */
import { basename, extname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { convertOnnxFileToNcnn, type FileConvertOptions } from '../convert/ncnn/index.js';
import { outputDir, taggedName, writeOutputs } from '../util/fs.js';
import type { ConvertSummary } from '../convert/ncnn/convert.js';
import { FdkError } from '../util/errors.js';
import type { ConvertCliOptions } from './convert.js';
import { outcomeNote, parseInputShapes, printJson } from './output.js';

export { convertOnnxFileToNcnn } from '../convert/ncnn/index.js';

export async function convertToNcnnCommand(input: string, opts: ConvertCliOptions): Promise<void> {
  if (extname(input).toLowerCase() !== '.onnx') throw new FdkError('--to ncnn converts ONNX models (.onnx); convert a checkpoint with --to onnx first', { file: input });
  if (!existsSync(input)) throw new FdkError('no such file', { file: input });
  if (opts.arch) throw new FdkError('--arch applies to --to onnx only', { file: input });
  const stem = taggedName(basename(input).replace(/\.onnx$/i, ''), [opts.fp16 && 'fp16', opts.optimize === false && 'noopt']);
  const prefix = (opts.output ?? join(outputDir(opts.out), stem)).replace(/\.(param|bin)$/i, '');
  const o: FileConvertOptions = { fp16: !!opts.fp16, optimize: opts.optimize !== false, inputShapes: opts.input?.length ? parseInputShapes(opts.input) : undefined };
  const t0 = performance.now();
  const paths = [`${prefix}.param`, `${prefix}.bin`];
  const { result: r, outcome } = await writeOutputs(paths, ([param, bin]) => convertOnnxFileToNcnn(input, { ...o, param, bin }), { force: opts.force });
  const ms = performance.now() - t0;
  if (opts.json) return printJson({ input, param: paths[0], bin: paths[1], outcome, ms: Math.round(ms), ...r.summary });
  printSummary(input, paths[0], paths[1], r.summary, ms, outcome);
}

function printSummary(input: string, param: string, bin: string, s: ConvertSummary, ms: number, outcome: string): void {
  const p = s.passes;
  const lines = [
    `converted ${input} -> ${param} + ${bin} (${Math.round(ms)} ms)${outcomeNote(outcome)}`,
    `  ONNX nodes ${s.onnxNodes} -> ncnn layers ${s.ncnnLayers} (${s.blobs} blobs)${s.optimize ? '' : ', --no-optimize'}`,
    `  constant folding: ${p.constantFolding.removed} nodes removed${p.constantFolding.note ? ` (${p.constantFolding.note})` : ''}`,
    `  shape glue evaluated: ${p.shapeGlue.removed} nodes removed; identity/dropout removed: ${p.identities.removed}`,
    `  BatchNorm folded: ${p.batchNorm.fused}; activations fused: ${p.activation.fused}; dead layers removed: ${p.deadLayers.removed}; Split inserted: ${p.split.inserted}`,
    `  layers: ${Object.entries(s.layerTypes).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  inputs: ${s.inputs.join(', ')}; outputs: ${s.outputs.join(', ')}`,
    `  weights: ${s.weightBytes.toLocaleString('en-US')} bytes (${s.fp16 ? 'fp16' : 'fp32'})`,
  ];
  console.log(lines.join('\n'));
}
