/**
 * worker_threads entry of the detector pool: one Detector (one model session) per worker; the main
 * thread sends image paths, the worker answers with detections. Errors travel back as messages
 * (FdkError text), never as uncaught exceptions.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { getModel } from '../models/manifest.js';
import { FdkError } from '../util/errors.js';
import { Detector, type ModelFileChoice } from './pipeline.js';

export interface WorkerInit {
  modelId: string;
  runtime: string;
  longSide: number;
  threads: number;
  file: ModelFileChoice;
}
export type WorkerRequest = { type: 'image'; i: number; path: string } | { type: 'close' };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; i: number; detections: import('./pipeline.js').Detection[]; ms: number; inferenceMs: number }
  | { type: 'error'; i: number; message: string; fdk: boolean };

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as WorkerInit;
  let det: Detector;
  try {
    det = await Detector.create(getModel(init.modelId), { runtime: init.runtime, longSide: init.longSide, threads: init.threads, file: init.file });
  } catch (e) {
    port.postMessage({ type: 'error', i: -1, message: (e as Error).message, fdk: e instanceof FdkError } satisfies WorkerReply);
    return;
  }
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
  port.on('message', async (m: WorkerRequest) => {
    if (m.type === 'close') {
      await det.release();
      port.close();
      return;
    }
    const t0 = performance.now();
    try {
      const r = await det.detectFile(m.path);
      port.postMessage({ type: 'result', i: m.i, detections: r.detections, ms: performance.now() - t0, inferenceMs: r.timings.inferenceMs } satisfies WorkerReply);
    } catch (e) {
      port.postMessage({ type: 'error', i: m.i, message: (e as Error).message, fdk: e instanceof FdkError } satisfies WorkerReply);
    }
  });
}

void main();
