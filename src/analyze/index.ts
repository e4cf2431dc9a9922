/**
 * `analyzeFile(path)`: dispatches on the file type and returns the AnalysisReport.
 *   .onnx  -> onnx.ts (this module's own)
 *   .param -> analyzeNcnn in src/convert/ncnn/analyze.ts (owned by the ncnn converter), which
 *             returns a LayerGraph built with the same types, summarized here the same way.
 */
import { extname } from 'node:path';
import { loadOnnx } from '../onnx/io.js';
import { validateOnnx } from '../onnx/validate.js';
import { FdkError, namingFile } from '../util/errors.js';
import { onnxLayerGraph } from './onnx.js';
import { summarize } from './summarize.js';
import type { AnalysisReport, Convention, LayerGraph } from './types.js';

export * from './types.js';
export { summarize, peakActivationBytes } from './summarize.js';
export { onnxLayerGraph } from './onnx.js';
/**
 * Per-op counting rules, for other formats: the ncnn reader can cost a layer by describing it as
 * the equivalent ONNX node (e.g. Convolution -> { opType: 'Conv', inputs: [x, w, b], attrs }).
 */
export { nodeCost, paramCount, type CostContext, type Cost } from './conventions.js';

export interface AnalyzeOptions {
  convention?: Convention;
  /** '' = the first runtime input. */
  inputShapes?: Record<string, number[]>;
  foldBn?: boolean;
}

/** Signature the ncnn side implements (src/convert/ncnn/analyze.ts). */
export type AnalyzeNcnn = (paramPath: string, opts: AnalyzeOptions) => LayerGraph | Promise<LayerGraph>;

export async function analyzeFile(path: string, opts: AnalyzeOptions = {}): Promise<AnalysisReport> {
  const ext = extname(path).toLowerCase();
  if (ext === '.param') {
    const spec = '../convert/ncnn/analyze.js'; // provided by the ncnn converter, resolved at run time
    let mod: { analyzeNcnn?: AnalyzeNcnn };
    try {
      mod = (await import(spec)) as { analyzeNcnn?: AnalyzeNcnn };
    } catch (e) {
      const why = (e as Error).message.split('\n')[0];
      throw new FdkError(`ncnn .param analysis is not available (src/convert/ncnn/analyze.ts: ${why})`, { file: path });
    }
    if (typeof mod.analyzeNcnn !== 'function') throw new FdkError('ncnn .param analysis is not available (no analyzeNcnn export)', { file: path });
    return summarize(await mod.analyzeNcnn(path, opts));
  }
  const model = loadOnnx(path);
  validateOnnx(model, { inputShapes: opts.inputShapes }); // structure checked before any pass (onnx/validate.ts)
  return namingFile(path, () => summarize(onnxLayerGraph(model, opts))); // every error line names the model
}
