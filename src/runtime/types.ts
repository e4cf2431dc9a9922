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
  /** ncnn: use fp16 storage/arithmetic. */
  fp16?: boolean;
  /** ncnn given an .onnx: converter optimisations (default true; per-layer parity turns them off to keep every tensor). */
  ncnnOptimize?: boolean;
}

export interface RunResult {
  outputs: TensorMap;
  /** Time of the inference call alone, measured inside the runtime (ms). */
  ms: number;
}

export interface RuntimeInfo {
  name: RuntimeName;
  version: string;
  detail?: string;
}

export type RuntimeName = 'ort' | 'wasm' | 'ncnn';

export interface LoadedModel {
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** Runs once; `outputNames` defaults to all outputs. */
  run(inputs: TensorMap, outputNames?: string[]): Promise<RunResult>;
  release(): Promise<void>;
}

export interface Runtime {
  info(): Promise<RuntimeInfo>;
  /** `model` is a path (.onnx, or .param with its .bin for ncnn). */
  load(model: string, opts?: LoadOptions): Promise<LoadedModel>;
}
