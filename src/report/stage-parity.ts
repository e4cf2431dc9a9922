/**
 * Report stage "parity": the same preprocessed real images (<data>/images) on every runtime, each
 * pair compared per output with fdk parity's engine (src/parity/run-parity.ts) at atol 1e-4.
 * ncnn runs the fp32 conversion made by the ncnn stage, so parity covers that very file.
 */
import { join } from 'node:path';
import { resolveDataDir } from '../util/data.js';
import type { PairResult } from '../parity/run-parity.js';
import type { ParityInfo } from './schema.js';
import { longSidesFor, type ModelContext } from './context.js';

export const PARITY_ATOL = 1e-4;
/** Same default as `fdk parity`: no relative term, every element within 1e-4. */
export const PARITY_RTOL = 0;

/** One line on why a pair failed: the outputs outside tolerance and/or the detection mismatch. */
function failureDetail(p: PairResult): string | undefined {
  if (p.ok) return undefined;
  const parts = Object.entries(p.outputs).filter(([, d]) => !d.ok).map(([n, d]) => `${n}: max abs ${d.maxAbs.toExponential(2)}${d.outside ? `, ${d.outside} element(s) outside` : ''}`);
  const d = p.detections;
  if (d && !d.ok)
    parts.push(`detections: ${d.unmatchedSignificant} confident unmatched, max score Δ ${d.maxScoreDelta.toExponential(2)}, max box Δ ${d.maxBoxDelta.toFixed(2)} px`);
  return parts.join('; ') || 'failed';
}

export async function parityStage(ctx: ModelContext): Promise<ParityInfo> {
  // Imported on demand: parity loads the runtimes and the image decoder (sharp).
  const { runParity } = await import('../parity/run-parity.js');
  const { listImages, parityInputs } = await import('../parity/images.js');
  const { resolveModelSource } = await import('../runtime/model-source.js');
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
