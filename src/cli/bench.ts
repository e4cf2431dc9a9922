/** `fdk bench MODEL`: latency, load time and peak memory per runtime x threads x input shape. */
import { withLimitOptions } from './limit-options.js';
import { checkModelInference, checkThreads } from '../util/limits.js';
import type { Command } from 'commander';
import { FdkError, escapeName } from '../util/errors.js';
import { parseRuntimeList, RUNTIME_NAMES, withBrowserLanes } from '../runtime/index.js';
import { resolveModelSource } from '../runtime/model-source.js';
import { runBench } from '../bench/run-bench.js';
import { benchHeader, benchSideBySide, benchTable } from '../bench/format.js';
import { compareWithBaseline, readBaseline } from '../bench/baseline.js';
import { parseDims, printJson } from './output.js';
import { progressBar } from './progress.js';
import { printFitted } from './table.js';

interface BenchCliOptions {
  runtimes?: string;
  threads: string;
  input?: string;
  warmup: string;
  runs: string;
  json?: boolean;
  baseline?: string;
  threshold: string;
  failOnRegression?: boolean;
  spinning?: boolean;
  ncnnFp16?: boolean;
  browser?: string;
}

function positiveInt(v: string, what: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new FdkError(`bad ${what} '${v}': expected an integer >= ${min}`);
  return n;
}

/**
 * `--input 1x3x240x320,1x3x480x640,other:1x4`: unnamed entries are sizes of the first input (one
 * case each, order kept); named ones fix that input in every case.
 */
export function parseBenchInputs(spec: string | undefined): { shapes: number[][]; named: Record<string, number[]> } {
  const shapes: number[][] = [];
  const named: Record<string, number[]> = {};
  for (const part of (spec ?? '').split(',').filter(Boolean)) {
    const i = part.lastIndexOf(':');
    const dims = parseDims(i >= 0 ? part.slice(i + 1) : part);
    if (!dims || (i < 0 && dims.length < 2)) throw new FdkError(`bad --input '${part}': expected [name:]1x3xHxW, comma-separated`);
    if (i >= 0) named[part.slice(0, i)] = dims;
    else shapes.push(dims);
  }
  return { shapes, named };
}

export function register(program: Command): void {
  withLimitOptions(program.command('bench <model>')) // --max-pixels, --max-memory
    .description('benchmark a model (.onnx, ncnn .param, or model id) on the runtimes of src/runtime/registry.ts')
    .option('--runtimes <list>', `comma-separated runtimes (${RUNTIME_NAMES.join(', ')})`, 'ort,ort-wasm,ncnn')
    .option('--threads <list>', 'comma-separated thread counts', '1')
    .option('--input <shapes>', 'input shapes, comma-separated: sizes of the first input (one case each), name:dims for any input, e.g. 1x3x240x320,1x3x480x640 (default: the model\'s, or 1x3x240x320 if dynamic)')
    .option('--warmup <n>', 'warm-up runs after the first run', '5')
    .option('--runs <n>', 'timed runs', '30')
    .option('--baseline <file>', 'compare medians with an earlier `fdk bench --json` output')
    .option('--threshold <pct>', 'baseline change (percent) that gets flagged', '10')
    .option('--fail-on-regression', 'exit 1 when a case is slower than the baseline beyond the threshold')
    .option('--spinning', 'ort: let intra-op threads spin (off by default)')
    .option('--ncnn-fp16', 'ncnn: fp16 storage and arithmetic (default fp32)')
    .option('--browser <name>', 'also run ort-wasm / ncnn-wasm in headless chromium (rows ort-wasm@chromium, ncnn-wasm@chromium)')
    .option('--json', 'machine-readable output')
    .action(async (model: string, o: BenchCliOptions) => {
      const runtimes = await withBrowserLanes(parseRuntimeList(o.runtimes), o.browser);
      const threads = o.threads.split(',').map((t) => checkThreads(t));
      const warmup = positiveInt(o.warmup, '--warmup', 0);
      const runs = positiveInt(o.runs, '--runs');
      const threshold = Number(o.threshold);
      if (!(threshold >= 0)) throw new FdkError(`bad --threshold '${o.threshold}'`);
      const base = o.baseline ? readBaseline(o.baseline) : undefined;
      const inputs = parseBenchInputs(o.input);
      const src = await resolveModelSource(model);
      await checkModelInference(src.path, [...inputs.shapes, ...Object.values(inputs.named)]); // pixels and memory before any runtime starts (util/limits.ts)
      const bar = progressBar({ json: o.json, unit: 'cases' });
      const report = await runBench(src, {
        runtimes, threads, shapes: inputs.shapes, namedShapes: inputs.named, warmup, runs,
        allowSpinning: o.spinning, fp16: o.ncnnFp16,
        onProgress: (m, step) => bar.update(step.done, step.total, m),
      });
      bar.stop();
      const deltas = base ? compareWithBaseline(report.cases, base, threshold) : undefined;
      if (o.json) printJson(deltas ? { ...report, baseline: { file: o.baseline, thresholdPct: threshold, deltas } } : report);
      else {
        printFitted(benchHeader(report));
        printFitted(benchTable(report, deltas));
        const side = benchSideBySide(report);
        if (side) printFitted(side);
        for (const n of new Set(report.cases.flatMap((c) => c.notes))) printFitted(escapeName(n)); // notes quote runtime messages and names from the model
        if (deltas) {
          const flagged = deltas.filter((d) => d.flag);
          printFitted(flagged.length ? `${flagged.length} case(s) changed beyond ${threshold}% vs ${o.baseline}` : `no change beyond ${threshold}% vs ${o.baseline}`);
        }
      }
      const failed = report.cases.filter((c) => c.error);
      if (failed.length)
        throw new FdkError(`${failed.length} of ${report.cases.length} bench case(s) failed; first: ${failed[0].runtime} threads=${failed[0].threads} ${failed[0].input}: ${failed[0].error}`);
      if (o.failOnRegression && deltas?.some((d) => d.flag === 'slower')) process.exitCode = 1;
    });
}
