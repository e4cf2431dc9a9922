/**
 * ncnn in-process: fdk's N-API binding (ncnn-native/addon.cc) over ncnn built natively from the
 * same PyPI source distribution as the wheel (scripts/build-ncnn-native.sh). A forward pass runs
 * on the calling thread: no worker process, no transfer. It is the measuring stick for the
 * worker's process boundary (`npm run bench:overhead`, lane "ncnn in-process"); the `ncnn`
 * runtime keeps the PyPI wheel in its worker.
 *
 * Same options, shape rule and timing as the worker (worker.py): fp32 unless fp16, no Vulkan; an
 * input [1,C,H,W] is Mat(w=W, h=H, c=C); outputs get a leading 1 in front of ncnn's shape; `ms`
 * spans extractor creation, inputs and extraction. run() is synchronous underneath: it blocks the
 * event loop for the forward pass, which is what a benchmark lane wants and a server would not.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../util/data.js';
import { FdkError } from '../util/errors.js';
import type { LoadedModel, RunResult, TensorMap } from './types.js';

interface Addon {
  build: string;
  load(param: string, bin: string, threads: number, fp16: boolean): object;
  names(h: object): [string[], string[]];
  run(h: object, inNames: string[], inData: Float32Array[], inShapes: number[][], outNames: string[]): [number, Float32Array[], number[][]];
  free(h: object): void;
}

/** The built addon (.fdk/ncnn-native/current.json names its folder), or undefined when not built. */
export function findNcnnNative(): { path: string; build: string } | undefined {
  const root = process.env.FDK_NCNN_NATIVE ?? join(PROJECT_ROOT, '.fdk', 'ncnn-native');
  const pointer = join(root, 'current.json');
  if (!existsSync(pointer)) return undefined;
  const path = join(root, (JSON.parse(readFileSync(pointer, 'utf8')) as { dir: string }).dir, 'ncnn-native.node');
  return existsSync(path) ? { path, build: addon(path).build } : undefined;
}

const loaded = new Map<string, Addon>();
function addon(path: string): Addon {
  let a = loaded.get(path);
  if (!a) loaded.set(path, (a = createRequire(import.meta.url)(path) as Addon));
  return a;
}

export class NcnnNativeModel implements LoadedModel {
  private constructor(
    private a: Addon,
    private h: object | undefined,
    readonly inputNames: string[],
    readonly outputNames: string[],
    readonly build: string,
  ) {}

  /** Loads a .param/.bin pair in this process; throws FdkError naming the file that fails. */
  static load(param: string, opts: { threads?: number; fp16?: boolean } = {}): NcnnNativeModel {
    const found = findNcnnNative();
    if (!found) throw new FdkError('ncnn in-process is not built: run `bash scripts/build-ncnn-native.sh`');
    const bin = param.replace(/\.param$/, '.bin');
    for (const f of [param, bin]) if (!existsSync(f)) throw new FdkError('no such file', { file: f });
    const a = addon(found.path);
    let h: object;
    try {
      h = a.load(param, bin, opts.threads ?? 1, opts.fp16 ?? false);
    } catch (e) {
      const msg = (e as Error).message;
      throw new FdkError(msg.replace(/^(param|bin): /, ''), { file: msg.startsWith('bin:') ? bin : param });
    }
    const [inputs, outputs] = a.names(h);
    return new NcnnNativeModel(a, h, inputs, outputs, found.build);
  }

  /** Same result as NcnnModel.run (the worker), computed on this thread. */
  async run(inputs: TensorMap, outputNames: string[] = this.outputNames): Promise<RunResult> {
    if (!this.h) throw new FdkError('ncnn in-process: the model was released');
    const names = Object.keys(inputs);
    // ncnn order (w, h, d, c) of the dims after the batch axis, which must be 1
    const shapes = names.map((n) => {
      const d = inputs[n].dims;
      if (d.length >= 2 && d[0] !== 1) throw new FdkError(`input '${n}': ncnn has no batch axis, batch must be 1 (got [${d.join(',')}])`);
      return (d.length >= 2 ? d.slice(1) : d).slice().reverse();
    });
    let r: ReturnType<Addon['run']>;
    try {
      r = this.a.run(this.h, names, names.map((n) => inputs[n].data), shapes, outputNames);
    } catch (e) {
      throw new FdkError(`ncnn: ${(e as Error).message.replace(/^ncnn-native: /, '')}`);
    }
    const [ms, datas, dims] = r;
    const outputs: TensorMap = {};
    outputNames.forEach((n, i) => (outputs[n] = { data: datas[i], dims: [1, ...dims[i]] }));
    return { outputs, ms };
  }

  async release(): Promise<void> {
    if (this.h) this.a.free(this.h);
    this.h = undefined;
  }
}
