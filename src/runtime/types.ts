/**
 * The one small interface every runtime adapter implements (in the spirit of onnxruntime's
 * `onnxruntime-common`): load a model, run it on named float32 tensors, release it.
 */
export interface NamedTensor {
  data: Float32Array;
  dims: number[];
}
export type TensorMap = Record<string, NamedTensor>;

export interface LoadOptions {
  threads?: number;
  /** onnxruntime: intra-op thread spinning (off by default: it makes 2-core timings erratic). */
  allowSpinning?: boolean;
  /** Input shapes used when a runtime needs them at load time (e.g. conversion to ncnn). */
  inputShapes?: Record<string, number[]>;
  /** Options only the ncnn engines read (`ncnn`, `ncnn-wasm`); the others ignore them. */
  ncnn?: NcnnOptions;
}

/** ncnn's own options, shared by its native and WebAssembly builds. */
export interface NcnnOptions {
  /** fp16 storage and arithmetic. */
  fp16?: boolean;
  /** Given an .onnx: converter optimisations (default true; per-layer parity turns them off to keep every tensor). */
  optimize?: boolean;
  /** ncnn's packed layouts (default on); ncnn-wasm only, for finding where time goes. */
  packing?: boolean;
  /** Native ncnn only: how tensors reach the Python worker, shared memory (default) or the stdio pipe. */
  transport?: 'shm' | 'stdio';
  /**
   * ncnn-wasm in Node: which build to load. Default: the pthreads build whenever it is built, at
   * any thread count (faster at 1 thread too, docs/wasm.md); 'simd' forces the single-thread build.
   */
  wasmBuild?: 'simd' | 'simd-threads';
}

export interface RunResult {
  outputs: TensorMap;
  /** Time of the inference call alone, measured inside the runtime (ms). */
  ms: number;
  /** CPU time (all threads) of the same span, where the runtime measures it (ncnn's worker). */
  cpuMs?: number;
}

export interface RuntimeInfo {
  name: RuntimeName;
  version: string;
  detail?: string;
}

export type { RuntimeName } from './registry.js';
import type { RuntimeName } from './registry.js';

export interface LoadedModel {
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** What a reader of the results should know about how this model runs (build variant, lane), if anything. */
  readonly notes?: string[];
  /** Runs once; `outputNames` defaults to all outputs. */
  run(inputs: TensorMap, outputNames?: string[]): Promise<RunResult>;
  release(): Promise<void>;
}

export interface Runtime {
  info(): Promise<RuntimeInfo>;
  /** `model` is a path (.onnx, or .param with its .bin for ncnn). */
  load(model: string, opts?: LoadOptions): Promise<LoadedModel>;
}
