/**
 * `fdk bench` engine: expands runtimes x threads x input shapes into cases and runs each in its own
 * child process (see case-process.ts), one after the other so cases never compete for the 2 cores.
 */
import { onInterrupt } from '../util/signals.js';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FdkError } from '../util/errors.js';
import { getRuntime, runtimeEntry } from '../runtime/index.js';
import type { RuntimeInfo, RuntimeName } from '../runtime/types.js';
import { concreteInputShapes, type ModelSource } from '../runtime/model-source.js';
import { hostInfo, type HostInfo } from './host.js';
import { shapeLabel, type CaseResult, type CaseSpec } from './case.js';

export interface BenchOptions {
  runtimes: RuntimeName[];
  threads: number[];
  /** Each entry: dims of the (first) input, one case each. Empty = the model's declared shape, or 1x3x240x320 if dynamic. */
  shapes: number[][];
  /** Shapes of named inputs, the same in every case (`--input name:dims`). */
  namedShapes?: Record<string, number[]>;
  warmup: number;
  runs: number;
  allowSpinning?: boolean;
  fp16?: boolean;
  /** Per-case limit; a case over it is killed and reported as an error. */
  caseTimeoutMs?: number;
  /** Called before each case: what runs now, and how many cases came before it of how many. */
  onProgress?: (msg: string, step: { done: number; total: number }) => void;
}

export interface BenchReport {
  tool: 'fdk bench';
  date: string;
  model: { arg: string; path: string; origin: string; id?: string };
  host: HostInfo;
  settings: { warmup: number; runs: number; allowSpinning: boolean; fp16: boolean };
  cases: CaseResult[];
}

export { DEFAULT_DYNAMIC_SHAPE } from '../runtime/model-source.js';

/** Input shapes of every case: `shapes` = sizes of the first input, one case each (see concreteInputShapes). */
export function caseInputs(src: ModelSource, shapes: number[][], named: Record<string, number[]> = {}): Record<string, number[]>[] {
  return concreteInputShapes(src, named, shapes);
}

/** The child entry next to this module: .ts under tsx (sources), .js in dist. */
function caseProcessPath(): { path: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  const ts = self.endsWith('.ts');
  const path = self.replace(/run-bench\.(ts|js)$/, `case-process.${ts ? 'ts' : 'js'}`);
  const hasTsx = process.execArgv.some((a) => a.includes('tsx'));
  return { path, execArgv: ts && !hasTsx ? [...process.execArgv, '--import', 'tsx'] : process.execArgv };
}

function runCaseInChild(spec: CaseSpec, timeoutMs: number): Promise<CaseResult> {
  const { path, execArgv } = caseProcessPath();
  return new Promise((resolve) => {
    const child = fork(path, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    const release = onInterrupt(() => child.kill('SIGKILL')); // SIGINT/SIGTERM stop the case process (util/signals.ts)
    let stderr = '';
    let settled = false;
    const failed = (error: string): CaseResult => ({
      runtime: spec.runtime, runtimeVersion: '', threads: spec.threads, input: shapeLabel(spec.inputs), loadMs: NaN, firstRunMs: NaN,
      latency: { n: 0, min: NaN, p10: NaN, median: NaN, p90: NaN, p99: NaN, mean: NaN, stddev: NaN, max: NaN },
      wallMedianMs: NaN, peakRssMb: NaN, notes: [], error,
    });
    const done = (r: CaseResult) => {
      if (settled) return;
      settled = true;
      release();
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(failed(`case did not finish within ${Math.round(timeoutMs / 1000)} s; killed it`));
    }, timeoutMs);
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    child.on('message', (m: { result?: CaseResult; error?: string }) => done(m.result ?? failed(m.error ?? 'unknown error')));
    child.on('exit', (code, signal) => {
      const last = stderr.trim().split('\n').at(-1) ?? '';
      done(failed(`benchmark process ${signal ? `killed by ${signal}` : `exited with code ${code}`}${last ? `: ${last}` : ''}`));
    });
    child.send(spec);
  });
}

export async function runBench(src: ModelSource, opts: BenchOptions): Promise<BenchReport> {
  const notNcnn = opts.runtimes.filter((r) => runtimeEntry(r).engine !== 'ncnn');
  if (src.kind === 'ncnn' && notNcnn.length)
    throw new FdkError(`an ncnn .param runs only on the ncnn engines (ncnn, ncnn-wasm); pass the .onnx for ${notNcnn.join(', ')}`, { file: src.path });
  const inputs = caseInputs(src, opts.shapes, opts.namedShapes);
  // resolve the runtimes up front: an unknown or broken runtime fails before any case runs
  const infos: Partial<Record<RuntimeName, RuntimeInfo>> = {};
  for (const r of opts.runtimes) infos[r] = await (await getRuntime(r)).info();
  const cases: CaseResult[] = [];
  for (const runtime of opts.runtimes)
    for (const threads of opts.threads)
      for (const inp of inputs) {
        opts.onProgress?.(`${runtime} threads=${threads} ${shapeLabel(inp)}`, { done: cases.length, total: opts.runtimes.length * opts.threads.length * inputs.length });
        const spec: CaseSpec = {
          model: src.path, runtime, threads, inputs: inp, warmup: opts.warmup, runs: opts.runs,
          allowSpinning: opts.allowSpinning, fp16: opts.fp16,
        };
        cases.push(await runCaseInChild(spec, opts.caseTimeoutMs ?? 15 * 60_000));
      }
  return {
    tool: 'fdk bench',
    date: new Date().toISOString(),
    model: { arg: src.arg, path: src.path, origin: src.origin, id: src.entry?.id },
    host: hostInfo(),
    settings: { warmup: opts.warmup, runs: opts.runs, allowSpinning: Boolean(opts.allowSpinning), fp16: Boolean(opts.fp16) },
    cases,
  };
}
