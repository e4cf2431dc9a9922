/**
 * worker_threads entry of the detector pool: one Detector (one model session) per worker; the main
 * thread sends image paths, the worker answers with detections (or, with `widerText`, the finished
 * WIDER prediction text, which is much cheaper to post than hundreds of detection objects and
 * keeps that formatting work off the main thread). Errors travel back as messages (FdkError text),
 * never as uncaught exceptions.
 *
 * The pool keeps up to two images queued per worker. With the native JPEG decoder
 * (src/accuracy/jpeg-native.ts) each image is decoded on this thread right before its model run,
 * into one reused buffer: the pool's workers already keep every core busy, and the synchronous
 * decode costs half of sharp's CPU. Without it (or for images it declines), the decode of the next
 * image starts as soon as its path arrives and runs on libuv's thread pool (sharp) while this
 * thread resizes, runs the model and does NMS for the current one. Results go back in request order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelDescription } from '../models/description.js';
import { FdkError } from '../util/errors.js';
import { decodeImage, decodeImageNative, loadImage, type BgrImage } from './image.js';
import { nativeJpegAvailable } from './jpeg-native.js';
import { readFileOrThrow } from '../util/fs.js';
import { Detector, formatWider, type ModelFileChoice, type StageTimings } from './pipeline.js';

export interface WorkerInit {
  /** The model description (validated by the parent). */
  desc: ModelDescription;
  runtime: string;
  longSide: number;
  threads: number;
  file: ModelFileChoice;
  /** Reply with the WIDER prediction text instead of the detections. */
  widerText?: boolean;
}
export type WorkerRequest = { type: 'image'; i: number; path: string } | { type: 'close' };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; i: number; detections: import('./pipeline.js').Detection[]; text?: string; ms: number; inferenceMs: number; timings: StageTimings }
  | { type: 'error'; i: number; message: string; fdk: boolean };

interface Job {
  i: number;
  path: string;
  t0: number;
  /** sharp's decode, started on arrival (libuv's pool); undefined = decode natively when its turn comes. */
  image?: Promise<BgrImage>;
  /** Wall time of the JPEG decode (sharp's overlaps the model of the previous image; the native one does not). */
  decodeMs: number;
}

/** The image of a job: the native decoder into the worker's reused buffer, else sharp (which also reports errors). */
async function imageOf(job: Job, scratch: { data?: Uint8Array }): Promise<BgrImage> {
  if (job.image) return job.image;
  const t0 = performance.now();
  const bytes = readFileOrThrow(job.path);
  const image = decodeImageNative(bytes, { keepRgb: true, scratch }) ?? (await decodeImage(bytes, job.path, { keepRgb: true, decoder: 'sharp' }));
  job.decodeMs = performance.now() - t0;
  return image;
}

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as WorkerInit;
  let det: Detector;
  try {
    det = await Detector.create(init.desc, { runtime: init.runtime, longSide: init.longSide, threads: init.threads, file: init.file });
  } catch (e) {
    port.postMessage({ type: 'error', i: -1, message: (e as Error).message, fdk: e instanceof FdkError } satisfies WorkerReply);
    return;
  }
  const queue: Job[] = [];
  const native = nativeJpegAvailable();
  const scratch: { data?: Uint8Array } = {};
  let busy = false;
  // one image at a time through the model, in arrival order; decodes already run ahead
  const drain = async () => {
    if (busy) return;
    busy = true;
    while (queue.length) {
      const job = queue.shift()!;
      try {
        const image = await imageOf(job, scratch);
        const r = await det.detect(image);
        const t1 = performance.now();
        const text = init.widerText ? formatWider(det.desc, job.path, r.detections) : undefined;
        const formatMs = performance.now() - t1;
        port.postMessage({
          type: 'result',
          i: job.i,
          detections: text === undefined ? r.detections : [],
          text,
          ms: performance.now() - job.t0,
          inferenceMs: r.timings.inferenceMs,
          timings: { ...r.timings, decodeMs: job.decodeMs, formatMs },
        } satisfies WorkerReply);
      } catch (e) {
        port.postMessage({ type: 'error', i: job.i, message: (e as Error).message, fdk: e instanceof FdkError } satisfies WorkerReply);
      }
    }
    busy = false;
  };
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
  port.on('message', async (m: WorkerRequest) => {
    if (m.type === 'close') {
      await det.release();
      port.close();
      return;
    }
    const t0 = performance.now();
    const job: Job = { i: m.i, path: m.path, t0, decodeMs: 0 };
    if (!native) {
      job.image = loadImage(m.path, { keepRgb: true, decoder: 'sharp' });
      job.image.then(() => (job.decodeMs = performance.now() - t0)).catch(() => {}); // errors are awaited (and reported) in drain
    }
    queue.push(job);
    void drain();
  });
}

void main();
