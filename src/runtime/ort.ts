/** onnxruntime-node (native CPU) adapter. */
import * as ort from 'onnxruntime-node';
import type { LoadOptions, Runtime, RuntimeInfo } from './types.js';
import { OnnxSessionModel, type CommonSession, type TensorCtor } from './ort-session.js';
import { FdkError } from '../util/errors.js';
import { existsSync } from 'node:fs';
import { removeOrtDebugLogAtExit } from './ort-debug-log.js';

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

/** onnxruntime-node session as a LoadedModel. */
export class OrtModel extends OnnxSessionModel {
  constructor(session: ort.InferenceSession) {
    super(session as unknown as CommonSession, ort.Tensor as unknown as TensorCtor, 'onnxruntime');
  }
}

export const ortRuntime: Runtime = {
  async info(): Promise<RuntimeInfo> {
    return { name: 'ort', version: ort.env.versions?.node ?? 'unknown', detail: 'onnxruntime-node CPU' };
  },
  async load(model: string, opts: LoadOptions = {}) {
    if (!existsSync(model)) throw new FdkError('no such file', { file: model });
    removeOrtDebugLogAtExit();
    try {
      return new OrtModel(await ort.InferenceSession.create(model, sessionOptions(opts)));
    } catch (e) {
      throw new FdkError(`onnxruntime cannot load the model: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}`, { file: model });
    }
  },
};
