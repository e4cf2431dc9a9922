/** fdk's ONNX -> ncnn converter: public entry points. */
import { basename, resolve } from 'node:path';
import { namingFile } from '../../util/errors.js';
import { loadOnnx } from '../../onnx/io.js';
import { validateOnnx } from '../../onnx/validate.js';
import { verifyNcnnOutput } from './verify-output.js';
import { workDir } from '../../util/data.js';
import { writeFilesAtomic } from '../../util/fs.js';
import { convertOnnxToNcnn, type ConvertOptions, type ConvertResult, type ConvertSummary } from './convert.js';
import type { Model } from '../../onnx/model.js';

export { convertOnnxToNcnn } from './convert.js';
export type { ConvertOptions, ConvertSummary, ConvertResult } from './convert.js';
export { readNcnnModel, parseParam, writeParam, writeBin, readBin } from './format/index.js';
export { OP_TABLE } from './op-table.js';
export { LAYERS, layerRecord } from './layers/index.js';
export { PASSES } from './passes/index.js';

export interface FileConvertOptions extends ConvertOptions {
  /** Output prefix (PREFIX.param / PREFIX.bin); default `.fdk/ncnn/<basename>`. */
  prefix?: string;
  /** Explicit paths (take precedence over prefix). */
  param?: string;
  bin?: string;
}

export function defaultPrefix(onnxPath: string): string {
  return workDir('ncnn', basename(onnxPath).replace(/\.onnx$/i, ''));
}

/**
 * The checked conversion every entry point uses: the model's structure is validated before any pass
 * (onnx/validate.ts), every error line names the file, and the result is re-read with fdk's own
 * .param/.bin reader (verify-output.ts) before the caller writes anything.
 */
export function convertCheckedModel(model: Model, path: string, opts: ConvertOptions = {}): ConvertResult {
  validateOnnx(model, { inputShapes: opts.inputShapes });
  return convertVerified(model, path, opts);
}

/** convertCheckedModel for a caller that has already run validateOnnx on this model (no second pass). */
export function convertVerified(model: Model, path: string, opts: ConvertOptions = {}): ConvertResult {
  const r = namingFile(path, () => convertOnnxToNcnn(model, opts));
  verifyNcnnOutput(r, path);
  return r;
}

/** Converts an .onnx file and writes .param/.bin atomically (only when everything succeeded). */
export function convertOnnxFileToNcnn(path: string, opts: FileConvertOptions = {}): { paramPath: string; binPath: string; summary: ConvertSummary } {
  const r = convertCheckedModel(loadOnnx(path), path, opts);
  const prefix = resolve(opts.prefix ?? defaultPrefix(path));
  const paramPath = opts.param ?? `${prefix}.param`;
  const binPath = opts.bin ?? `${prefix}.bin`;
  writeFilesAtomic([
    { path: paramPath, data: r.param },
    { path: binPath, data: r.bin },
  ]);
  return { paramPath, binPath, summary: r.summary };
}
