/**
 * One LoadedModel over an onnxruntime InferenceSession, shared by onnxruntime-node (`ort`) and
 * onnxruntime-web (`wasm`): both packages expose the onnxruntime-common session and tensor API, so
 * only the Tensor class and the label in error messages differ.
 */
import { FdkError } from '../util/errors.js';
import type { LoadedModel, TensorMap } from './types.js';

export interface CommonSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, never>, fetches?: string[]): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}
export type TensorCtor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;

export class OnnxSessionModel implements LoadedModel {
  constructor(private session: CommonSession, private Tensor: TensorCtor, private label: string) {}
  get inputNames() {
    return [...this.session.inputNames];
  }
  get outputNames() {
    return [...this.session.outputNames];
  }
  async run(inputs: TensorMap, outputNames?: string[]) {
    const feeds: Record<string, never> = {};
    for (const [k, v] of Object.entries(inputs)) feeds[k] = new this.Tensor('float32', v.data, v.dims) as never;
    const t0 = performance.now();
    let r: Awaited<ReturnType<CommonSession['run']>>;
    try {
      r = outputNames ? await this.session.run(feeds, outputNames) : await this.session.run(feeds);
    } catch (e) {
      throw new FdkError(`${this.label} run failed: ${String((e as Error)?.message ?? e).replace(/\s*\n\s*/g, ' ')}`);
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
