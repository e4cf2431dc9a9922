/** Totals, per-op summary, MAC shares and peak activation memory of a LayerGraph. */
import type { AnalysisReport, LayerGraph, OpSummary } from './types.js';

/**
 * Peak activation memory of executing the layers in order, allocating each layer's outputs
 * while its inputs are still alive and freeing every tensor right after its last use
 * (graph outputs stay alive to the end; weights are not activations).
 */
export function peakActivationBytes(g: LayerGraph): number {
  const lastUse = new Map<string, number>();
  g.layers.forEach((l, i) => l.inputs.forEach((t) => lastUse.set(t.name, i)));
  const keep = new Set(g.outputs);
  const live = new Map<string, number>();
  let cur = 0;
  for (const t of g.inputs) {
    live.set(t.name, t.bytes);
    cur += t.bytes;
  }
  let peak = cur;
  // Inputs nobody reads are freed at once (still counted in the initial peak).
  g.layers.forEach((l, i) => {
    for (const o of l.outputs) {
      if (live.has(o.name)) continue;
      live.set(o.name, o.bytes);
      cur += o.bytes;
    }
    peak = Math.max(peak, cur);
    const freeIfDone = (name: string) => {
      if (keep.has(name) || !live.has(name)) return;
      const lu = lastUse.get(name);
      if (lu === undefined || lu <= i) {
        cur -= live.get(name)!;
        live.delete(name);
      }
    };
    for (const t of l.inputs) freeIfDone(t.name);
    for (const o of l.outputs) freeIfDone(o.name); // dead outputs (e.g. unused second outputs)
  });
  return peak;
}

export function summarize(g: LayerGraph): AnalysisReport {
  let params = 0;
  let macs = 0;
  for (const l of g.layers) {
    params += l.params;
    macs += l.macs;
  }
  const share = (m: number) => (macs > 0 ? m / macs : 0);
  const byOpMap = new Map<string, OpSummary>();
  for (const l of g.layers) {
    const s = byOpMap.get(l.op) ?? { op: l.op, count: 0, params: 0, macs: 0, share: 0 };
    s.count++;
    s.params += l.params;
    s.macs += l.macs;
    byOpMap.set(l.op, s);
  }
  const byOp = [...byOpMap.values()].map((s) => ({ ...s, share: share(s.macs) })).sort((a, b) => b.macs - a.macs || b.params - a.params || a.op.localeCompare(b.op));
  return {
    file: g.file,
    format: g.format,
    convention: g.convention,
    inputShapes: g.inputShapes,
    totals: {
      params,
      macs,
      flops: 2 * macs,
      weightBytes: g.weightBytes,
      peakActivationBytes: peakActivationBytes(g),
      layers: g.layers.length,
      constantNodes: g.constantNodes ?? 0,
    },
    byOp,
    layers: g.layers.map((l) => ({
      name: l.name,
      op: l.op,
      inputShapes: l.inputs.map((t) => t.shape),
      outputShapes: l.outputs.map((t) => t.shape),
      params: l.params,
      macs: l.macs,
      share: share(l.macs),
    })),
  };
}
