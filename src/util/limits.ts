/**
 * Resource limits checked before work starts, so a hostile or mistyped size is one clear error
 * instead of an OOM kill or a native crash (issue #15, items 10, 11, 12):
 *   - thread counts (ncnn segfaults on 0 threads);
 *   - input pixels (`bench --input 1x3x20000x20000`, `detect --long-side 20000`);
 *   - the memory one inference needs, estimated from `fdk analyze`'s figures before any runtime
 *     is started;
 *   - a resized image with a zero side (a 1x5000 image at a small long side).
 * Every limit can be raised: the options --max-pixels and --max-memory MB (src/cli/limit-options.ts,
 * on bench, detect, parity and accuracy), else the variables FDK_MAX_PIXELS and FDK_MAX_MEMORY_MB.
 */
import { totalmem } from 'node:os';
import { FdkError } from './errors.js';

export const MAX_THREADS = 256;
/** 8192 x 8192: four times the largest WIDER image side, far above any face detector input. */
export const DEFAULT_MAX_PIXELS = 8192 * 8192;

const envNumber = (name: string): number | undefined => {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new FdkError(`bad ${name}='${v}': expected a positive number`);
  return n;
};

/** Limits given as options for this run; they win over the environment. */
const given: { pixels?: number; memoryMb?: number } = {};

const positive = (v: string | number, option: string): number => {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new FdkError(`bad ${option} '${v}': expected a positive number`);
  return n;
};

/** Applies --max-pixels / --max-memory (undefined = keep the environment's or the default). */
export function setLimits(o: { maxPixels?: string | number; maxMemory?: string | number }): void {
  given.pixels = o.maxPixels === undefined ? undefined : positive(o.maxPixels, '--max-pixels');
  given.memoryMb = o.maxMemory === undefined ? undefined : positive(o.maxMemory, '--max-memory');
}

export function maxPixels(): number {
  return given.pixels ?? envNumber('FDK_MAX_PIXELS') ?? DEFAULT_MAX_PIXELS;
}

/** Half the machine's memory by default: the runtime needs headroom beyond the estimate. */
export function maxInferenceBytes(): number {
  const mb = given.memoryMb ?? envNumber('FDK_MAX_MEMORY_MB');
  return mb !== undefined ? mb * 1024 * 1024 : Math.floor(totalmem() / 2);
}

/** A thread-count option: an integer 1..MAX_THREADS, else an FdkError naming the option. */
export function checkThreads(value: string | number, option = '--threads'): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new FdkError(`bad ${option} '${value}': expected an integer from 1 to ${MAX_THREADS}`);
  return n;
}

/** Refuses an input of more than maxPixels() pixels; `what` names the option or image. */
export function checkPixels(width: number, height: number, what: string): void {
  const limit = maxPixels();
  if (width * height > limit)
    throw new FdkError(`${what}: ${width}x${height} = ${width * height} pixels is over the limit of ${limit} (raise it with --max-pixels or FDK_MAX_PIXELS)`);
}

/** An NCHW (or any ...xHxW) input shape against the pixel limit. */
export function checkInputDims(dims: number[], what: string): void {
  if (dims.length >= 2) checkPixels(dims[dims.length - 1], dims[dims.length - 2], what);
}

/**
 * Bytes one inference is expected to need: the weights once plus the peak of live activations
 * (analyze's peakActivationBytes), doubled for the runtime's own buffers and workspace. A rough
 * upper estimate, used only to refuse sizes that cannot fit, never to predict.
 */
export function estimateInferenceBytes(t: { weightBytes: number; peakActivationBytes: number }): number {
  return t.weightBytes + 2 * t.peakActivationBytes;
}

/** Refuses an inference whose estimate exceeds maxInferenceBytes(); `what` names model and shape. */
export function checkInferenceBytes(bytes: number, what: string): void {
  const limit = maxInferenceBytes();
  if (bytes > limit) {
    const mib = (b: number) => `${Math.ceil(b / 2 ** 20)} MiB`;
    throw new FdkError(`${what}: one inference needs about ${mib(bytes)} (weights + 2 x peak activations), over the limit of ${mib(limit)} (raise it with --max-memory MB or FDK_MAX_MEMORY_MB)`);
  }
}

/**
 * Before running a model at the given input shapes: pixels first (cheap), then the memory estimate
 * from the analysis of the model file at each shape. Analysis errors are left to the runtime,
 * which reports them in its own words.
 */
export async function checkModelInference(modelPath: string, shapes: number[][]): Promise<void> {
  for (const dims of shapes) checkInputDims(dims, `${modelPath} input ${dims.join('x')}`);
  if (shapes.length === 0) return;
  const { analyzeFile } = await import('../analyze/index.js');
  for (const dims of shapes) {
    let t;
    try {
      t = (await analyzeFile(modelPath, { inputShapes: { '': dims } })).totals;
    } catch {
      continue;
    }
    checkInferenceBytes(estimateInferenceBytes(t), `${modelPath} input ${dims.join('x')}`);
  }
}

