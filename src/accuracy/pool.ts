/**
 * Runs the detector over many images, in parallel over images: `jobs` worker threads, each with its
 * own single-threaded model session (decoding, resizing and NMS are JavaScript, so threads beat one
 * multi-threaded session on 2 cores). `jobs` = 1 runs in-process.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { extname } from 'node:path';
import type { ModelDescription } from '../models/description.js';
import type { ModelEntry } from '../models/manifest.js';
import { FdkError } from '../util/errors.js';
import { Detector, formatWider, modelFileFor, type Detection, type ModelFileChoice, type StageTimings } from './pipeline.js';
import type { WorkerInit, WorkerReply } from './detect-worker.js';
import { removeOrtDebugLogAtExit } from '../runtime/ort-debug-log.js';

export interface PoolOptions {
  runtime?: string;
  longSide?: number;
  jobs?: number;
  /** Threads per session (default 1). */
  threads?: number;
  /**
   * Deliver each image's WIDER prediction text (`formatWider`) in `ImageResult.text` instead of the
   * detections (then empty): workers format it, which is cheaper than posting detection objects.
   */
  widerText?: boolean;
  /** Run this model file (e.g. an fp16 ncnn conversion) instead of the entry's default one; required for a bare description. */
  file?: ModelFileChoice;
}

/** Images queued per worker: the next image decodes while the current one runs (see detect-worker.ts). */
const QUEUE_DEPTH = 2;

/**
 * Built code runs the .js worker directly. From TypeScript sources (tsx, vitest) the worker first
 * registers tsx's loader, since module hooks of the parent thread do not reach worker threads.
 */
function startWorker(file: URL, workerData: WorkerInit): Worker {
  removeOrtDebugLogAtExit(); // the workers' onnxruntime sessions are the process's
  if (file.pathname.endsWith('.js')) return new Worker(file, { workerData });
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(file.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

export interface ImageResult {
  i: number;
  path: string;
  detections: Detection[];
  /** The WIDER prediction text, with `widerText`. */
  text?: string;
  ms: number;
  inferenceMs: number;
  /** Where this image's time went, in the worker that ran it. */
  timings: StageTimings;
}

/**
 * Runs every image through the model of a description (a manifest entry, or any description with
 * `opts.file`); calls `onResult` as images finish; stops at the first error.
 */
export async function detectAll(entry: ModelDescription, paths: string[], opts: PoolOptions, onResult: (r: ImageResult) => void): Promise<void> {
  const runtime = opts.runtime ?? 'ort';
  const rs = entry.input.resize;
  const longSide = rs.mode === 'fixed' ? rs.width! : opts.longSide ?? rs.size ?? 320;
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, paths.length || 1));
  if (!opts.file && !('files' in entry)) throw new FdkError('no model file given for this description');
  const file = opts.file ?? (await modelFileFor(entry as ModelEntry));
  if (jobs === 1) {
    const det = await Detector.create(entry, { runtime, longSide, threads: opts.threads ?? 1, file });
    try {
      for (let i = 0; i < paths.length; i++) {
        const t0 = performance.now();
        const r = await det.detectFile(paths[i]);
        const t1 = performance.now();
        const text = opts.widerText ? formatWider(entry, paths[i], r.detections) : undefined;
        const timings = { ...r.timings, formatMs: performance.now() - t1 };
        onResult({ i, path: paths[i], detections: text === undefined ? r.detections : [], text, ms: performance.now() - t0, inferenceMs: r.timings.inferenceMs, timings });
      }
    } finally {
      await det.release();
    }
    return;
  }
  const init: WorkerInit = { desc: plainDescription(entry), runtime, longSide, threads: opts.threads ?? 1, file, widerText: !!opts.widerText };
  const here = fileURLToPath(import.meta.url);
  const workerFile = new URL(`./detect-worker${extname(here)}`, import.meta.url);
  const workers: Worker[] = [];
  let next = 0;
  let done = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (e: Error) => {
        if (!failed) {
          failed = true;
          reject(e);
        }
      };
      const feed = (w: Worker) => {
        if (failed) return;
        if (next < paths.length) {
          const i = next++;
          w.postMessage({ type: 'image', i, path: paths[i] });
        }
      };
      for (let k = 0; k < jobs; k++) {
        const w = startWorker(workerFile, init);
        workers.push(w);
        w.on('message', (m: WorkerReply) => {
          if (m.type === 'ready') {
            for (let q = 0; q < QUEUE_DEPTH; q++) feed(w);
            return;
          }
          if (m.type === 'error') return fail(m.fdk ? new FdkError(m.message) : new Error(m.message));
          onResult({ i: m.i, path: paths[m.i], detections: m.detections, text: m.text, ms: m.ms, inferenceMs: m.inferenceMs, timings: m.timings });
          if (++done === paths.length) resolve();
          else feed(w);
        });
        w.on('error', (e) => fail(e));
        w.on('exit', (code) => {
          if (code !== 0 && done < paths.length) fail(new FdkError(`detector worker exited with code ${code}`));
        });
      }
      if (paths.length === 0) resolve();
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The description alone (a manifest entry carries its files too): what a worker thread needs. */
function plainDescription(d: ModelDescription): ModelDescription {
  return 'description' in d ? (d as ModelEntry).description : d;
}
