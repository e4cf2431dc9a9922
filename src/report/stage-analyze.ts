/**
 * Report stage "analyze": params, MACs and MACs per op type of the model's ONNX, from fdk's
 * analyzer (src/analyze/onnx.ts + summarize.ts). Counted with the thop convention at the manifest's counting input
 * (published table: 1×3×240×320), or the model's own fixed input size.
 */
import { loadOnnx } from '../onnx/io.js';
import type { Model } from '../onnx/model.js';
import { requireExports } from './optional.js';
import type { AnalyzeInfo, OpTypeMacs } from './schema.js';
import type { ModelContext } from './context.js';

interface LayerLike {
  op?: string;
  opType?: string;
  params?: number;
  macs?: number | bigint;
}
interface AnalysisLike {
  totals: { params: number; macs: number; flops?: number; weightBytes?: number; peakActivationBytes?: number };
  layers?: LayerLike[];
  byOp?: unknown;
  perOpType?: unknown;
}
type GraphModule = { onnxLayerGraph: (model: Model, opts: { convention?: 'thop'; inputShapes?: Record<string, number[]> }) => unknown };
type SummaryModule = { summarize: (g: unknown) => AnalysisLike };

const num = (v: number | undefined) => (v === undefined ? undefined : Number(v));

export const ANALYZE_CONVENTION = 'thop';

export function countingInput(ctx: ModelContext): number[] {
  const r = ctx.entry.input.resize;
  if (r.mode === 'fixed') return [1, 3, r.height!, r.width!];
  return ctx.entry.published?.countInput ?? [1, 3, 240, 320];
}

/** Per-op-type rows from whatever summary form the analyzer returns (array or record), else from layers. */
export function opTypeRows(a: AnalysisLike): OpTypeMacs[] {
  const src = a.byOp ?? a.perOpType;
  const rows: OpTypeMacs[] = [];
  if (Array.isArray(src)) {
    for (const o of src as Record<string, unknown>[])
      rows.push({ opType: String(o.opType ?? o.op ?? o.type), count: Number(o.count ?? o.layers ?? 0), params: Number(o.params ?? 0), macs: Number(o.macs ?? 0) });
  } else if (src && typeof src === 'object') {
    for (const [k, o] of Object.entries(src as Record<string, Record<string, unknown>>))
      rows.push({ opType: k, count: Number(o.count ?? o.layers ?? 0), params: Number(o.params ?? 0), macs: Number(o.macs ?? 0) });
  } else {
    const m = new Map<string, OpTypeMacs>();
    for (const l of a.layers ?? []) {
      const op = String(l.opType ?? l.op);
      const r = m.get(op) ?? { opType: op, count: 0, params: 0, macs: 0 };
      r.count++;
      r.params += Number(l.params ?? 0);
      r.macs += Number(l.macs ?? 0);
      m.set(op, r);
    }
    rows.push(...m.values());
  }
  return rows.sort((x, y) => y.macs - x.macs || x.opType.localeCompare(y.opType));
}

export async function analyzeStage(ctx: ModelContext): Promise<AnalyzeInfo> {
  const { onnxLayerGraph } = await requireExports<GraphModule>('../analyze/onnx.js', ['onnxLayerGraph']);
  const { summarize } = await requireExports<SummaryModule>('../analyze/summarize.js', ['summarize']);
  const model = loadOnnx(ctx.onnxPath!);
  const g = model.graph;
  const inputName = g.inputs.find((v) => !g.initializers.has(v.name))!.name;
  const input = countingInput(ctx);
  const a = summarize(onnxLayerGraph(model, { convention: ANALYZE_CONVENTION, inputShapes: { [inputName]: input } }));
  const params = num(a.totals.params)!;
  const macs = num(a.totals.macs)!;
  return {
    convention: ANALYZE_CONVENTION,
    input,
    params,
    macs,
    flops: num(a.totals.flops) ?? 2 * macs,
    weightBytes: num(a.totals.weightBytes),
    peakActivationBytes: num(a.totals.peakActivationBytes),
    perOpType: opTypeRows(a),
    published: ctx.entry.published ? { params: ctx.entry.published.params, macs: ctx.entry.published.macs } : undefined,
  };
}
