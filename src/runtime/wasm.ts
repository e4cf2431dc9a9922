/**
 * onnxruntime-web adapter running its WebAssembly backend inside Node (`executionProviders: ['wasm']`).
 * The package is imported bare: under Node its export map gives the wasm-only node build, not the
 * native binding of onnxruntime-node. `env.wasm.numThreads` is read once, when the wasm module is
 * initialised by the first session; a later load asking for another thread count gets an FdkError
 * (fdk bench runs every runtime x threads case in its own process for this reason).
 */
import * as ortWeb from 'onnxruntime-web';
import { FdkError } from '../util/errors.js';
import { readFileOrThrow } from '../util/fs.js';
import type { LoadedModel, LoadOptions, Runtime, RuntimeInfo, TensorMap } from './types.js';

let initialisedThreads: number | undefined;

export class WasmModel implements LoadedModel {
  constructor(private session: ortWeb.InferenceSession, readonly threads: number) {}
  get inputNames() {
    return [...this.session.inputNames];
  }
  get outputNames() {
    return [...this.session.outputNames];
  }
  async run(inputs: TensorMap, outputNames?: string[]) {
    const feeds: Record<string, ortWeb.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) feeds[k] = new ortWeb.Tensor('float32', v.data, v.dims);
    const t0 = performance.now();
    let r: ortWeb.InferenceSession.ReturnType;
    try {
      r = outputNames ? await this.session.run(feeds, outputNames) : await this.session.run(feeds);
    } catch (e) {
      throw new FdkError(`onnxruntime-web (wasm) run failed: ${String((e as Error).message ?? e).replace(/\s*\n\s*/g, ' ')}`);
    }
    const ms = performance.now() - t0;
    const outputs: TensorMap = {};
    for (const [k, v] of Object.entries(r)) outputs[k] = { data: v.data as Float32Array, dims: [...v.dims] };
    return { outputs, ms };
  }
  async release() {
    await this.session.release();
  }
}

/** True when the imported module is onnxruntime-web (has a `web` version and no native binding). */
export function isWasmBuild(): boolean {
  const v = ortWeb.env.versions as Record<string, string | undefined>;
  return Boolean(v.web) && !v.node;
}

export interface WasmRuntime extends Runtime {
  load(model: string, opts?: LoadOptions): Promise<WasmModel>;
}

export const wasmRuntime: WasmRuntime = {
  async info(): Promise<RuntimeInfo> {
    const threads = initialisedThreads ? `, ${initialisedThreads} thread(s)` : '';
    return { name: 'wasm', version: ortWeb.env.versions.web ?? 'unknown', detail: `onnxruntime-web WebAssembly backend in Node${threads}` };
  },
  async load(model: string, opts: LoadOptions = {}) {
    const bytes = readFileOrThrow(model);
    const threads = opts.threads ?? 1;
    if (!isWasmBuild()) throw new FdkError('onnxruntime-web resolved to a non-wasm build; the wasm runtime cannot run');
    if (initialisedThreads !== undefined && initialisedThreads !== threads)
      throw new FdkError(
        `the wasm runtime was initialised with ${initialisedThreads} thread(s) in this process and cannot switch to ${threads}`,
      );
    ortWeb.env.wasm.numThreads = threads;
    ortWeb.env.wasm.proxy = false;
    ortWeb.env.logLevel = 'error';
    let session: ortWeb.InferenceSession;
    try {
      session = await ortWeb.InferenceSession.create(bytes, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
    } catch (e) {
      throw new FdkError(`onnxruntime-web (wasm) cannot load the model: ${String((e as Error).message ?? e).replace(/\s*\n\s*/g, ' ')}`, { file: model });
    }
    initialisedThreads = threads;
    return new WasmModel(session, threads);
  },
};
