/**
 * `ncnn-wasm`: real ncnn (the PyPI source distribution) compiled to WebAssembly by
 * scripts/build-ncnn-wasm.sh, run inside Node through fdk's own binding. Same shape rule as the
 * native `ncnn` runtime (no batch axis; outputs get a leading 1), and the same conversion of an
 * .onnx with fdk's converter first (src/runtime/ncnn-convert.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { FdkError } from '../../util/errors.js';
import { readFileOrThrow } from '../../util/fs.js';
import { convertOnnxForNcnn, type NcnnConversion } from '../ncnn-convert.js';
import type { LoadedModel, LoadOptions, Runtime, RuntimeInfo, TensorMap } from '../types.js';
import { findNcnnWasm, nodeVariantFor, type NcnnWasmVariant } from './locate.js';
import { NcnnWasmNet } from './net.js';
import { loadNcnnWasm } from './node-module.js';

export class NcnnWasmModel implements LoadedModel {
  constructor(
    private net: NcnnWasmNet,
    readonly param: string,
    readonly variant: NcnnWasmVariant,
    /** "ncnn 1.0.20261020 simd single": the pinned source version and what the module was compiled as. */
    readonly buildInfo: string,
    /** Set when the model was converted from ONNX before loading. */
    readonly converted: NcnnConversion | undefined,
  ) {}
  get notes() {
    return [`ncnn-wasm: ${this.buildInfo} in Node (${this.variant} build)`];
  }
  get inputNames() {
    return this.net.inputNames;
  }
  get outputNames() {
    return this.net.outputNames;
  }
  async run(inputs: TensorMap, outputNames?: string[]) {
    try {
      return this.net.run(inputs, outputNames);
    } catch (e) {
      throw new FdkError(String((e as Error).message ?? e), { file: this.param });
    }
  }
  async release() {
    this.net.release();
  }
}

export const ncnnWasmRuntime: Runtime = {
  async info(): Promise<RuntimeInfo> {
    const b = findNcnnWasm('simd');
    const threads = findNcnnWasm('simd-threads') ? ' and simd-threads' : '';
    return {
      name: 'ncnn-wasm',
      version: b?.meta.ncnn ?? 'not built',
      detail: b ? `ncnn compiled to WebAssembly (${b.meta.emscripten.replace(/^emcc \(.*?\) /, 'emscripten ')}; simd${threads}) in Node` : 'not built: run npm run setup',
    };
  },

  async load(model: string, opts: LoadOptions = {}): Promise<NcnnWasmModel> {
    if (!existsSync(model)) throw new FdkError('no such file', { file: model });
    let param = model;
    let bin = model.replace(/\.param$/, '.bin');
    let converted: NcnnConversion | undefined;
    const ext = extname(model).toLowerCase();
    if (ext === '.onnx') {
      converted = await convertOnnxForNcnn(model, opts.inputShapes ?? {}, { optimize: opts.ncnn?.optimize });
      param = converted.param;
      bin = converted.bin;
    } else if (ext !== '.param') {
      throw new FdkError('ncnn-wasm loads .param (with its .bin) or .onnx (converted first)', { file: model });
    } else if (!existsSync(bin)) {
      throw new FdkError(`the weights file ${basename(bin)} is missing next to the .param`, { file: bin });
    }
    const threads = opts.threads ?? 1;
    const variant = nodeVariantFor(threads, opts.ncnn?.wasmBuild);
    const { module, build, takeErrors } = await loadNcnnWasm(variant);
    takeErrors();
    try {
      const net = new NcnnWasmNet(module, readFileSync(param, 'utf8'), readFileOrThrow(bin), { threads, fp16: opts.ncnn?.fp16, packing: opts.ncnn?.packing }, takeErrors);
      return new NcnnWasmModel(net, param, variant, `ncnn ${build.meta.ncnn} ${NcnnWasmNet.buildFlavor(module)}`, converted);
    } catch (e) {
      throw new FdkError(String((e as Error).message ?? e), { file: converted?.onnx ?? model });
    }
  },
};
