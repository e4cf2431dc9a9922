/**
 * Report stage "bench": latency per runtime × threads × input shape, via fdk bench's engine
 * (src/bench/run-bench.ts; one child process per case). Few runs: the report shows where each
 * runtime stands, `fdk bench` with more runs is the benchmark.
 */
import { cpus, loadavg } from 'node:os';
import type { BenchInfo, BenchRow } from './schema.js';
import { benchShapesFor, type ModelContext } from './context.js';

const r3 = (v: number) => Math.round(v * 1000) / 1000;

export async function benchStage(ctx: ModelContext): Promise<BenchInfo> {
  const { runBench } = await import('../bench/run-bench.js');
  const { resolveModelSource } = await import('../runtime/model-source.js');
  const { withBrowserLanes } = await import('../runtime/index.js');
  const src = await resolveModelSource(ctx.onnxPath!);
  const shapes = benchShapesFor(ctx.entry, ctx.opts.longSides);
  const loadBefore = loadavg()[0];
  const rep = await runBench(src, {
    runtimes: await withBrowserLanes(ctx.opts.runtimes, ctx.opts.browser),
    threads: ctx.opts.threads,
    shapes,
    warmup: ctx.opts.benchWarmup,
    runs: ctx.opts.benchRuns,
    caseTimeoutMs: 5 * 60_000,
  });
  const rows: BenchRow[] = [];
  const errors: string[] = [];
  for (const c of rep.cases) {
    if (c.error) {
      errors.push(`${c.runtime} t${c.threads} ${c.input}: ${c.error}`);
      continue;
    }
    rows.push({
      runtime: c.runtime, threads: c.threads, shape: c.input.split(',')[0].split('x').map(Number), runs: c.latency.n,
      loadMs: r3(c.loadMs), firstRunMs: r3(c.firstRunMs), minMs: r3(c.latency.min), p10Ms: r3(c.latency.p10), medianMs: r3(c.latency.median),
      p90Ms: r3(c.latency.p90), p99Ms: r3(c.latency.p99), meanMs: r3(c.latency.mean), stddevMs: r3(c.latency.stddev),
      peakRssMB: Math.round(c.peakRssMb),
    });
  }
  if (!rows.length) throw new Error(`every bench case failed: ${errors.join('; ')}`);
  const load = { before: r3(loadBefore), after: r3(loadavg()[0]), cores: cpus().length };
  return errors.length ? { rows, load, errors } : { rows, load };
}
