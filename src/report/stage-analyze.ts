/**
 * Report stage "analyze": params, MACs and MACs per op type of the model's ONNX, from fdk's
 * analyzer (src/analyze/onnx.ts + summarize.ts). Counted with the thop convention at the manifest's counting input
 * (published table: 1×3×240×320), or the model's own fixed input size.
 */
import { runtimeInputs } from '../onnx/model.js';
import { loadOnnx } from '../onnx/io.js';
import type { AnalysisReport } from '../analyze/types.js';
import type { AnalyzeInfo, OpTypeMacs } from './schema.js';
import type { ModelContext } from './context.js';

export const ANALYZE_CONVENTION = 'thop';

export function countingInput(ctx: ModelContext): number[] {
  const r = ctx.entry.input.resize;
  if (r.mode === 'fixed') return [1, 3, r.height!, r.width!];
  return ctx.entry.published?.countInput ?? [1, 3, 240, 320];
}

/** Per-op-type rows of the analyzer's summary, by MACs (then name: a stable order for the report). */
export function opTypeRows(a: Pick<AnalysisReport, 'byOp'>): OpTypeMacs[] {
  return a.byOp
    .map((o) => ({ opType: o.op, count: o.count, params: o.params, macs: o.macs }))
    .sort((x, y) => y.macs - x.macs || x.opType.localeCompare(y.opType));
}

export async function analyzeStage(ctx: ModelContext): Promise<AnalyzeInfo> {
  const { onnxLayerGraph } = await import('../analyze/onnx.js');
  const { summarize } = await import('../analyze/summarize.js');
  const model = loadOnnx(ctx.onnxPath!);
  const g = model.graph;
  const inputName = runtimeInputs(g)[0].name;
  const input = countingInput(ctx);
  const a = summarize(onnxLayerGraph(model, { convention: ANALYZE_CONVENTION, inputShapes: { [inputName]: input } }));
  return {
    convention: ANALYZE_CONVENTION,
    input,
    params: a.totals.params,
    macs: a.totals.macs,
    flops: a.totals.flops,
    weightBytes: a.totals.weightBytes,
    peakActivationBytes: a.totals.peakActivationBytes,
    perOpType: opTypeRows(a),
    published: ctx.entry.published ? { params: ctx.entry.published.params, macs: ctx.entry.published.macs } : undefined,
  };
}
