/** onnxruntime-node (native CPU) adapter. */
import * as ort from 'onnxruntime-node';
import type { LoadedModel, LoadOptions, Runtime, RuntimeInfo, TensorMap } from './types.js';
import { FdkError } from '../util/errors.js';
import { existsSync } from 'node:fs';

export function sessionOptions(opts: LoadOptions): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3, // the Ultra-Light exports list weights as inputs: ort warns per tensor
    intraOpNumThreads: opts.threads ?? 1,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: opts.allowSpinning ? '1' : '0' } } },
  };
  return o;
}

export class OrtModel implements LoadedModel {
  constructor(private session: ort.InferenceSession) {}
  get inputNames() {
    return [...this.session.inputNames];
  }
  get outputNames() {
    return [...this.session.outputNames];
  }
  async run(inputs: TensorMap, outputNames?: string[]) {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) feeds[k] = new ort.Tensor('float32', v.data, v.dims);
    const t0 = performance.now();
    let r: ort.InferenceSession.ReturnType;
    try {
      r = outputNames ? await this.session.run(feeds, outputNames) : await this.session.run(feeds);
    } catch (e) {
      throw new FdkError(`onnxruntime run failed: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}`);
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

export const ortRuntime: Runtime = {
  async info(): Promise<RuntimeInfo> {
    return { name: 'ort', version: ort.env.versions?.node ?? 'unknown', detail: 'onnxruntime-node CPU' };
  },
  async load(model: string, opts: LoadOptions = {}) {
    if (!existsSync(model)) throw new FdkError('no such file', { file: model });
    try {
      return new OrtModel(await ort.InferenceSession.create(model, sessionOptions(opts)));
    } catch (e) {
      throw new FdkError(`onnxruntime cannot load the model: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}`, { file: model });
    }
  },
};
