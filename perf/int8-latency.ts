/**
 * Interleaved latency for bench:int8: every variant (ncnn fp32 / fp16 / int8, onnxruntime fp32 /
 * int8) is loaded at once and the runs go round-robin, one run of each per round, the starting
 * variant rotating. On a shared machine the load drifts over seconds; measured one after the
 * other, a variant that happened to run during a busy spell would look slower. Interleaved, every
 * variant sees the same spells, so the ratios within one call are comparable even when the
 * absolute milliseconds are not. The load average before and after is returned with the numbers.
 */
import { loadavg } from 'node:os';
import { latencyStats, type LatencyStats } from '../src/bench/stats.js';
import { getRuntime } from '../src/runtime/index.js';
import type { LoadedModel } from '../src/runtime/types.js';

export interface LatencyCase {
  name: string;
  runtime: 'ncnn' | 'ort';
  model: string;
  fp16?: boolean;
  inputShapes?: Record<string, number[]>;
}

export interface InterleavedResult {
  /** Per case name: statistics of its runs (ms, measured inside the runtime), or the load error. */
  stats: Record<string, LatencyStats | string>;
  /** 1-minute load average before and after the runs. */
  load: [number, number];
}

const WARMUP = 3;

export async function interleavedLatency(cases: LatencyCase[], threads: number, runs: number, input: { data: Float32Array; dims: number[] }): Promise<InterleavedResult> {
  const load0 = loadavg()[0];
  const stats: InterleavedResult['stats'] = {};
  const loaded: { c: LatencyCase; m: LoadedModel; ms: number[] }[] = [];
  try {
    for (const c of cases) {
      try {
        const rt = await getRuntime(c.runtime);
        const m = await rt.load(c.model, { threads, ncnn: { fp16: c.fp16 ?? false }, inputShapes: c.inputShapes });
        loaded.push({ c, m, ms: [] });
      } catch (e) {
        stats[c.name] = `error: ${String((e as Error).message).split('\n')[0]}`;
      }
    }
    const feed = (m: LoadedModel) => ({ [m.inputNames[0]]: input });
    for (const l of loaded) for (let i = 0; i < WARMUP; i++) await l.m.run(feed(l.m));
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < loaded.length; k++) {
        const l = loaded[(r + k) % loaded.length];
        l.ms.push((await l.m.run(feed(l.m))).ms);
      }
    }
    for (const l of loaded) stats[l.c.name] = latencyStats(l.ms);
  } finally {
    for (const l of loaded) await l.m.release();
  }
  return { stats, load: [load0, loadavg()[0]] };
}
