/**
 * ncnn adapter: the real ncnn (PyPI `ncnn`) in a Python worker process (one per loaded model),
 * in fdk's own venv `.fdk/ncnn-venv` (created on first use or by `fdk setup ncnn`).
 *
 * Shape rule (ncnn Mats have no batch axis): an input [1,C,H,W] is sent as Mat(w=W,h=H,c=C);
 * every output gets a leading 1 in front of the ncnn shape, so ncnn (c,h,w) -> [1,C,H,W] and
 * ncnn (h,w) = [N,4] -> [1,N,4], which matches the ONNX dims of batch-1 exports.
 *
 * Given an .onnx, the model is first converted with fdk's own converter (cached in
 * `.fdk/ncnn-cache/`), and the loaded model says so in `converted`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { FdkError } from '../util/errors.js';
import { ensureNcnnVenv } from './ncnn-venv.js';
import { defaultTransport, NcnnWorker, type NcnnTransport } from './ncnn-client.js';
import { convertOnnxForNcnn, type NcnnConversion } from './ncnn-convert.js';
import type { LoadedModel, LoadOptions, NamedTensor, Runtime, RuntimeInfo, TensorMap } from './types.js';

export interface NcnnLayerInfo {
  name: string;
  type: string;
  bottoms: string[];
  tops: string[];
}

export interface NcnnExtracted {
  tensor: NamedTensor;
  /** Shape of the ncnn Mat (no batch axis). */
  ncnnDims: number[];
}

/** Input shapes declared by an ncnn Input layer (0=w 1=h 2=c), when the .param has them. */
export function paramInputShapes(paramText: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const line of paramText.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== 'Input' || f.length < 5) continue;
    const nIn = Number(f[2]);
    const nOut = Number(f[3]);
    const top = f[4 + nIn];
    const kv = new Map<string, number>();
    for (const p of f.slice(4 + nIn + nOut)) {
      const [k, v] = p.split('=');
      kv.set(k, Number(v));
    }
    const w = kv.get('0') ?? 0;
    const h = kv.get('1') ?? 0;
    const c = kv.get('2') ?? 0;
    if (w > 0 && h > 0 && c > 0) out[top] = [1, c, h, w];
  }
  return out;
}

export class NcnnModel implements LoadedModel {
  constructor(
    private worker: NcnnWorker,
    readonly inputNames: string[],
    readonly outputNames: string[],
    readonly blobs: string[],
    readonly layers: NcnnLayerInfo[],
    readonly param: string,
    readonly bin: string,
    /** Set when the model was converted from ONNX before loading. */
    readonly converted: NcnnConversion | undefined,
    private declaredInputs: Record<string, (number | string)[]>,
  ) {}

  /** Worker process id (tests kill it to check crash handling). */
  get pid(): number | undefined {
    return this.worker.pid;
  }

  /** How tensors travel to and from the worker. */
  get transport(): NcnnTransport {
    return this.worker.transport;
  }

  private checkInputs(inputs: TensorMap): void {
    for (const [name, t] of Object.entries(inputs)) {
      if (!this.inputNames.includes(name))
        throw new FdkError(`ncnn model has no input '${name}' (inputs: ${this.inputNames.join(', ')})`, { file: this.param });
      if (t.data.length !== t.dims.reduce((a, b) => a * b, 1))
        throw new FdkError(`input '${name}': ${t.data.length} values do not fill dims [${t.dims.join(',')}]`);
      const want = this.declaredInputs[name];
      if (!want) continue;
      const ok = want.length === t.dims.length && want.every((d, i) => typeof d !== 'number' || d <= 0 || d === t.dims[i]);
      if (!ok)
        throw new FdkError(`wrong input shape for '${name}': got [${t.dims.join(',')}], the model expects [${want.join(',')}]`, {
          file: this.converted?.onnx ?? this.param,
        });
    }
  }

  async run(inputs: TensorMap, outputNames?: string[]) {
    this.checkInputs(inputs);
    const f = await this.worker.request({ op: 'run', outputs: outputNames ?? this.outputNames }, inputs);
    const outputs: TensorMap = {};
    for (const t of f.tensors) outputs[t.name] = t.tensor;
    // `steps`: the request's profiling marks (ns), with FDK_NCNN_PROFILE=1 only (ncnn-client.ts)
    // `cpuMs`: the worker's CPU time over the same span (scripts/corpus/speed.ts compares on it)
    const cpuMs = typeof f.header.cpu_ms === 'number' ? f.header.cpu_ms : undefined;
    return { outputs, ms: Number(f.header.ms), cpuMs, steps: f.header.prof as Record<string, number> | undefined };
  }

  /**
   * Several inputs in one request, one forward pass each (ncnn has no batch axis): the worker
   * round trip is paid once for all of them. Results in the order of `inputs`; each `ms` is that
   * pass's own time in the worker.
   */
  async runMany(inputs: TensorMap[], outputNames?: string[]): Promise<{ outputs: TensorMap; ms: number }[]> {
    if (!inputs.length) return [];
    const keys = Object.keys(inputs[0]).sort();
    for (const feeds of inputs) {
      this.checkInputs(feeds);
      const k = Object.keys(feeds).sort();
      if (k.join('\0') !== keys.join('\0')) throw new FdkError(`runMany: every item needs the same inputs (${keys.join(', ')}), got ${k.join(', ')}`);
    }
    const names = outputNames ?? this.outputNames;
    const f = await this.worker.request({ op: 'run_many', items: inputs.length, outputs: names }, inputs.flatMap((feeds) => keys.map((k) => [k, feeds[k]] as [string, NamedTensor])));
    const ms = f.header.ms as number[];
    return inputs.map((_, i) => {
      const outputs: TensorMap = {};
      for (const t of f.tensors.slice(i * names.length, (i + 1) * names.length)) outputs[t.name] = t.tensor;
      return { outputs, ms: ms[i] };
    });
  }

  /** Extracts arbitrary blobs (intermediates included) for per-layer parity: one request, one forward pass. */
  async extract(inputs: TensorMap, names: string[]): Promise<{ blobs: Record<string, NcnnExtracted>; ms: number }> {
    this.checkInputs(inputs);
    const f = await this.worker.request({ op: 'extract', names }, inputs);
    const blobs: Record<string, NcnnExtracted> = {};
    for (const t of f.tensors) blobs[t.name] = { tensor: t.tensor, ncnnDims: t.ncnnDims ?? t.tensor.dims.slice(1) };
    return { blobs, ms: Number(f.header.ms) };
  }

  /**
   * Extracts the blobs in parts of `chunk` names, from one forward pass (the worker keeps its
   * extractor between parts). Each part's request goes out before `onBlobs` gets the previous
   * part, so fdk works on one part (e.g. compares it) while the worker computes the next.
   * `transient`: the blobs handed to onBlobs are valid only until it returns (their memory is
   * reused for a later part); copy what must be kept.
   */
  async extractEach(
    inputs: TensorMap,
    names: string[],
    onBlobs: (blobs: Record<string, NcnnExtracted>) => void | Promise<void>,
    opts: { chunk?: number; transient?: boolean } = {},
  ): Promise<{ ms: number }> {
    const chunk = opts.chunk ?? 48;
    const ro = { transient: opts.transient };
    this.checkInputs(inputs);
    const parts: string[][] = [];
    for (let i = 0; i < names.length; i += chunk) parts.push(names.slice(i, i + chunk));
    const ask = (i: number) =>
      i === 0
        ? this.worker.request({ op: 'extract', names: parts[0], keep: parts.length > 1 }, inputs, undefined, ro)
        : this.worker.request({ op: 'extract', names: parts[i], keep: i + 1 < parts.length, resume: true }, undefined, undefined, ro);
    let ms = 0;
    let next = parts.length ? ask(0) : undefined;
    for (let i = 0; next; i++) {
      const f = await next;
      next = i + 1 < parts.length ? ask(i + 1) : undefined;
      // a rejected request still waiting must not go unhandled if onBlobs throws first
      next?.catch(() => undefined);
      ms += Number(f.header.ms);
      const blobs: Record<string, NcnnExtracted> = {};
      for (const t of f.tensors) blobs[t.name] = { tensor: t.tensor, ncnnDims: t.ncnnDims ?? t.tensor.dims.slice(1) };
      await onBlobs(blobs);
    }
    return { ms };
  }

  /** Current and peak resident memory of the worker process (kB). */
  async stats(): Promise<{ rssKb: number; peakRssKb: number }> {
    const f = await this.worker.request({ op: 'stats' }, undefined, 10_000);
    return { rssKb: Number(f.header.rss_kb), peakRssKb: Number(f.header.peak_rss_kb) };
  }

  async release(): Promise<void> {
    await this.worker.close();
  }
}

let infoCache: RuntimeInfo | undefined;
const infoFrom = (ncnn: string, python: string): RuntimeInfo => ({ name: 'ncnn', version: ncnn, detail: `ncnn (PyPI) in a Python ${python} worker, CPU` });

let spare: { worker: Promise<NcnnWorker>; transport: NcnnTransport } | undefined;

/**
 * Starts a worker now for the next load() to take: Python and ncnn take a few hundred ms to
 * import, which can then overlap with other work (per-layer parity converts and runs ort meanwhile).
 */
export function prestartNcnnWorker(): void {
  if (spare) return;
  const transport = defaultTransport();
  spare = { worker: newWorker('(starting)', transport), transport };
  spare.worker.catch(() => undefined); // reported by the load() that takes it
}

async function startWorker(label: string, transport: NcnnTransport = defaultTransport()): Promise<NcnnWorker> {
  if (spare?.transport === transport) {
    const w = spare.worker;
    spare = undefined;
    const worker = await w;
    worker.label = label;
    return worker;
  }
  return newWorker(label, transport);
}

async function newWorker(label: string, transport: NcnnTransport): Promise<NcnnWorker> {
  const venv = await ensureNcnnVenv({ log: (s) => process.stderr.isTTY && !process.env.CI && process.stderr.write(`fdk setup ncnn: ${s}\n`) });
  return new NcnnWorker(venv.python, label, transport);
}

export interface NcnnRuntime extends Runtime {
  load(model: string, opts?: LoadOptions): Promise<NcnnModel>;
}

export const ncnnRuntime: NcnnRuntime = {
  async info(): Promise<RuntimeInfo> {
    if (infoCache) return infoCache;
    const w = await startWorker('info');
    try {
      const f = await w.request({ op: 'info' }, undefined, 60_000);
      infoCache = infoFrom(String(f.header.ncnn), String(f.header.python));
      return infoCache;
    } finally {
      await w.close();
    }
  },

  async load(model: string, opts: LoadOptions = {}): Promise<NcnnModel> {
    if (!existsSync(model)) throw new FdkError('no such file', { file: model });
    let param = model;
    let bin = model.replace(/\.param$/, '.bin');
    let converted: NcnnConversion | undefined;
    let declared: Record<string, (number | string)[]>;
    const ext = extname(model).toLowerCase();
    if (ext === '.onnx') {
      converted = await convertOnnxForNcnn(model, opts.inputShapes ?? {}, { optimize: opts.ncnn?.optimize });
      param = converted.param;
      bin = converted.bin;
      declared = { ...converted.inputShapes };
      // converted for a given size (e.g. Ultra-Light priors baked from H/W): only that size is valid
      for (const [name, dims] of Object.entries(opts.inputShapes ?? {})) declared[name || Object.keys(declared)[0]] = dims;
    } else if (ext === '.param') {
      if (!existsSync(bin)) throw new FdkError(`the weights file ${basename(bin)} is missing next to the .param`, { file: bin });
      declared = paramInputShapes(readFileSync(param, 'utf8'));
    } else {
      throw new FdkError('ncnn loads .param (with its .bin) or .onnx (converted first)', { file: model });
    }
    // an empty .bin is valid for a model without weights; for one with weights ncnn's load fails and says so
    const worker = await startWorker(basename(param), opts.ncnn?.transport);
    try {
      const f = await worker.request({ op: 'load', param, bin, threads: opts.threads ?? 1, fp16: opts.ncnn?.fp16 ?? false });
      const h = f.header as { inputs: string[]; outputs: string[]; blobs: string[]; layers: NcnnLayerInfo[]; ncnn: string; python: string };
      infoCache ??= infoFrom(h.ncnn, h.python);
      return new NcnnModel(worker, h.inputs, h.outputs, h.blobs, h.layers, param, bin, converted, declared);
    } catch (e) {
      await worker.close();
      if (e instanceof FdkError && !e.message.includes(basename(param)) && !e.message.includes(basename(bin)))
        throw new FdkError(`ncnn cannot load the model: ${e.message}`, { file: model });
      throw e;
    }
  },
};
