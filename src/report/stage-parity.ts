/**
 * Report stage "parity": the same preprocessed real images (<data>/images) on every runtime, each
 * pair compared per output with fdk parity's engine (src/parity/run-parity.ts) at atol 1e-4.
 * ncnn runs the fp32 conversion made by the ncnn stage, so parity covers that very file.
 */
import { join } from 'node:path';
import type { ModelEntry } from '../models/manifest.js';
import { resolveDataDir } from '../util/data.js';
import { requireExports } from './optional.js';
import type { ParityInfo } from './schema.js';
import { longSidesFor, type ModelContext } from './context.js';

export const PARITY_ATOL = 1e-4;
/** Same default as `fdk parity`: no relative term, every element within 1e-4. */
export const PARITY_RTOL = 0;

interface PairLike {
  a: string;
  b: string;
  outputs: Record<string, { maxAbs: number; ok: boolean; outside?: number }>;
  detections?: { ok?: boolean; unmatchedSignificant?: number; maxScoreDelta?: number; maxBoxDelta?: number };
  ok: boolean;
}

/** One line on why a pair failed: the outputs outside tolerance and/or the detection mismatch. */
function failureDetail(p: PairLike): string | undefined {
  if (p.ok) return undefined;
  const parts = Object.entries(p.outputs).filter(([, d]) => !d.ok).map(([n, d]) => `${n}: max abs ${d.maxAbs.toExponential(2)}${d.outside ? `, ${d.outside} element(s) outside` : ''}`);
  const d = p.detections;
  if (d && d.ok === false)
    parts.push(`detections: ${d.unmatchedSignificant ?? '?'} confident unmatched, max score Δ ${d.maxScoreDelta?.toExponential(2)}, max box Δ ${d.maxBoxDelta?.toFixed(2)} px`);
  return parts.join('; ') || 'failed';
}
type ParityModule = {
  runParity: (src: unknown, entry: ModelEntry, inputs: unknown[], opts: { runtimes: string[]; tol: { atol: number; rtol: number }; threads?: number; ncnnParam?: string }) => Promise<{ pairs: PairLike[] }>;
};
type ImagesModule = {
  listImages: (dir: string, limit?: number) => string[];
  parityInputs: (entry: ModelEntry, images: string[], longSides: number[]) => Promise<unknown[]>;
};
type SourceModule = { resolveModelSource: (arg: string) => Promise<unknown> };

export async function parityStage(ctx: ModelContext): Promise<ParityInfo> {
  const { runParity } = await requireExports<ParityModule>('../parity/run-parity.js', ['runParity']);
  const { listImages, parityInputs } = await requireExports<ImagesModule>('../parity/images.js', ['listImages', 'parityInputs']);
  const { resolveModelSource } = await requireExports<SourceModule>('../runtime/model-source.js', ['resolveModelSource']);
  const runtimes = ctx.opts.runtimes;
  if (runtimes.length < 2) throw new Error('parity needs at least two runtimes (--runtimes)');
  const images = listImages(join(resolveDataDir()!, 'images'));
  const longSides = longSidesFor(ctx.entry, ctx.opts.longSides);
  const inputs = await parityInputs(ctx.entry, images, longSides.length ? longSides : [320]);
  const src = await resolveModelSource(ctx.onnxPath!);
  // Without a loadable conversion from the ncnn stage, parity converts the ONNX itself.
  const r = await runParity(src, ctx.entry, inputs, { runtimes, tol: { atol: PARITY_ATOL, rtol: PARITY_RTOL }, threads: 1, ncnnParam: ctx.ncnn.fp32?.param });
  return {
    images: images.length,
    pairs: r.pairs.map((p) => ({
      a: p.a,
      b: p.b,
      maxAbsDiff: Math.max(...Object.values(p.outputs).map((d) => d.maxAbs)),
      atol: PARITY_ATOL,
      rtol: PARITY_RTOL,
      pass: p.ok,
      outputs: Object.entries(p.outputs).map(([name, d]) => ({ name, maxAbsDiff: d.maxAbs })),
      ...(p.ok ? {} : { detail: failureDetail(p) }),
    })),
  };
}
