/** `fdk bench MODEL`: latency, load time and peak memory per runtime x threads x input shape. */
import { checkModelInference, checkThreads } from '../util/limits.js';
import type { Command } from 'commander';
import { FdkError } from '../util/errors.js';
import { parseRuntimeList } from '../runtime/index.js';
import { resolveModelSource } from '../runtime/model-source.js';
import { runBench } from '../bench/run-bench.js';
import { benchHeader, benchTable } from '../bench/format.js';
import { compareWithBaseline, readBaseline } from '../bench/baseline.js';
import { interactive, parseDims, printJson } from './output.js';

interface BenchCliOptions {
  runtimes?: string;
  threads: string;
  input?: string[];
  warmup: string;
  runs: string;
  json?: boolean;
  baseline?: string;
  threshold: string;
  failOnRegression?: boolean;
  spinning?: boolean;
  ncnnFp16?: boolean;
}

function positiveInt(v: string, what: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new FdkError(`bad ${what} '${v}': expected an integer >= ${min}`);
  return n;
}

/** `1x3x240x320,1x3x480x640` (repeatable) -> list of dims, order kept. */
export function parseShapeList(specs: string[] | undefined): number[][] {
  const out: number[][] = [];
  for (const s of specs ?? [])
    for (const part of s.split(',').filter(Boolean)) {
      const dims = parseDims(part);
      if (!dims || dims.length < 2) throw new FdkError(`bad --input '${part}': expected 1x3xHxW`);
      out.push(dims);
    }
  return out;
}

export function register(program: Command): void {
  program
    .command('bench <model>')
    .description('benchmark a model (.onnx, ncnn .param, or model id) on ort, wasm and ncnn')
    .option('--runtimes <list>', 'comma-separated runtimes (ort, wasm, ncnn)', 'ort,wasm,ncnn')
    .option('--threads <list>', 'comma-separated thread counts', '1')
    .option('--input <shapes...>', 'input shapes, e.g. 1x3x240x320,1x3x480x640 (default: the model\'s, or 1x3x240x320 if dynamic)')
    .option('--warmup <n>', 'warm-up runs after the first run', '5')
    .option('--runs <n>', 'timed runs', '30')
    .option('--baseline <file>', 'compare medians with an earlier `fdk bench --json` output')
    .option('--threshold <pct>', 'baseline change (percent) that gets flagged', '10')
    .option('--fail-on-regression', 'exit 1 when a case is slower than the baseline beyond the threshold')
    .option('--spinning', 'ort: let intra-op threads spin (off by default)')
    .option('--ncnn-fp16', 'ncnn: fp16 storage and arithmetic (default fp32)')
    .option('--json', 'machine-readable output')
    .action(async (model: string, o: BenchCliOptions) => {
      const runtimes = parseRuntimeList(o.runtimes);
      const threads = o.threads.split(',').map((t) => checkThreads(t));
      const warmup = positiveInt(o.warmup, '--warmup', 0);
      const runs = positiveInt(o.runs, '--runs');
      const threshold = Number(o.threshold);
      if (!(threshold >= 0)) throw new FdkError(`bad --threshold '${o.threshold}'`);
      const base = o.baseline ? readBaseline(o.baseline) : undefined;
      const src = await resolveModelSource(model);
      await checkModelInference(src.path, parseShapeList(o.input)); // pixels and memory before any runtime starts (util/limits.ts)
      const report = await runBench(src, {
        runtimes, threads, shapes: parseShapeList(o.input), warmup, runs,
        allowSpinning: o.spinning, fp16: o.ncnnFp16,
        onProgress: interactive() ? (m) => process.stderr.write(`bench: ${m}\n`) : undefined,
      });
      const deltas = base ? compareWithBaseline(report.cases, base, threshold) : undefined;
      if (o.json) printJson(deltas ? { ...report, baseline: { file: o.baseline, thresholdPct: threshold, deltas } } : report);
      else {
        console.log(benchHeader(report));
        console.log(benchTable(report, deltas));
        for (const n of new Set(report.cases.flatMap((c) => c.notes))) console.log(n);
        if (deltas) {
          const flagged = deltas.filter((d) => d.flag);
          console.log(flagged.length ? `${flagged.length} case(s) changed beyond ${threshold}% vs ${o.baseline}` : `no change beyond ${threshold}% vs ${o.baseline}`);
        }
      }
      const failed = report.cases.filter((c) => c.error);
      if (failed.length)
        throw new FdkError(`${failed.length} of ${report.cases.length} bench case(s) failed; first: ${failed[0].runtime} threads=${failed[0].threads} ${failed[0].input}: ${failed[0].error}`);
      if (o.failOnRegression && deltas?.some((d) => d.flag === 'slower')) process.exitCode = 1;
    });
}
