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
import type { LoadOptions, Runtime, RuntimeInfo } from './types.js';
import { OnnxSessionModel, type CommonSession, type TensorCtor } from './ort-session.js';

let initialisedThreads: number | undefined;

/** onnxruntime-web (wasm) session as a LoadedModel; remembers the thread count it runs with. */
export class WasmModel extends OnnxSessionModel {
  constructor(session: ortWeb.InferenceSession, readonly threads: number) {
    super(session as unknown as CommonSession, ortWeb.Tensor as unknown as TensorCtor, 'onnxruntime-web (wasm)');
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
    return { name: 'ort-wasm', version: ortWeb.env.versions.web ?? 'unknown', detail: `onnxruntime-web WebAssembly backend in Node${threads}` };
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
