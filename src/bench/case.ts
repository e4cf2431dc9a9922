/**
 * One benchmark case: load a model on one runtime with one thread count, run it once (first-run
 * time), warm up, then time `runs` inferences. Latency is the time each runtime measures around its
 * own inference call (for ncnn inside the Python worker, so pipe transfer is not counted); the
 * wall time seen by fdk is kept too, to show the harness overhead.
 */
import { getRuntime } from '../runtime/index.js';
import { NcnnModel } from '../runtime/ncnn.js';
import { NcnnWasmModel } from '../runtime/ncnn-wasm/runtime.js';
import { conversionNote } from '../runtime/model-source.js';
import type { LoadedModel, RuntimeName, TensorMap } from '../runtime/types.js';
import { latencyStats, type LatencyStats } from './stats.js';

export interface CaseSpec {
  model: string;
  runtime: RuntimeName;
  threads: number;
  /** Input name -> dims. */
  inputs: Record<string, number[]>;
  warmup: number;
  runs: number;
  allowSpinning?: boolean;
  fp16?: boolean;
}

export interface CaseResult {
  runtime: RuntimeName;
  runtimeVersion: string;
  threads: number;
  input: string;
  loadMs: number;
  firstRunMs: number;
  latency: LatencyStats;
  /** Per-run wall time seen by fdk (includes the pipe transfer for ncnn). */
  wallMedianMs: number;
  /** Peak resident memory of the benchmark process plus, for ncnn, the worker process (MB). */
  peakRssMb: number;
  workerPeakRssMb?: number;
  notes: string[];
  error?: string;
}

/**
 * Deterministic input values in [-1, 1) from a seeded LCG (latency does not depend on the data;
 * parity feeds the same values to every runtime when the model has no description).
 */
export function syntheticInputs(inputs: Record<string, number[]>, seed = 12345): TensorMap {
  const out: TensorMap = {};
  let s = seed >>> 0;
  for (const [name, dims] of Object.entries(inputs)) {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      data[i] = s / 2 ** 31 - 1;
    }
    out[name] = { data, dims };
  }
  return out;
}

export const shapeLabel = (inputs: Record<string, number[]>) => Object.values(inputs).map((d) => d.join('x')).join(',');

export async function runCase(spec: CaseSpec): Promise<CaseResult> {
  const rt = await getRuntime(spec.runtime);
  const notes: string[] = [];
  const t0 = performance.now();
  const model = await rt.load(spec.model, {
    threads: spec.threads,
    allowSpinning: spec.allowSpinning,
    ncnn: { fp16: spec.fp16 },
    inputShapes: spec.inputs,
  });
  const loadMs = performance.now() - t0;
  const info = await rt.info(); // after load: ncnn knows its version from the load reply
  try {
    if (model instanceof NcnnModel || model instanceof NcnnWasmModel) {
      const note = conversionNote(model.converted);
      if (note) notes.push(note);
    }
    notes.push(...((model as LoadedModel).notes ?? []));
    const feeds = syntheticInputs(spec.inputs);
    const first = await model.run(feeds);
    for (let i = 0; i < spec.warmup; i++) await model.run(feeds);
    const ms: number[] = [];
    const wall: number[] = [];
    for (let i = 0; i < spec.runs; i++) {
      const w0 = performance.now();
      const r = await model.run(feeds);
      wall.push(performance.now() - w0);
      ms.push(r.ms);
    }
    let workerPeak: number | undefined;
    if (model instanceof NcnnModel) workerPeak = (await model.stats()).peakRssKb / 1024;
    const selfPeak = process.resourceUsage().maxRSS / 1024; // kB -> MB
    return {
      runtime: spec.runtime,
      runtimeVersion: info.version,
      threads: spec.threads,
      input: shapeLabel(spec.inputs),
      loadMs,
      firstRunMs: first.ms,
      latency: latencyStats(ms),
      wallMedianMs: latencyStats(wall).median,
      peakRssMb: selfPeak + (workerPeak ?? 0),
      workerPeakRssMb: workerPeak,
      notes,
    };
  } finally {
    await model.release();
  }
}
