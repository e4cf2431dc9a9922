/**
 * The model's own postprocessing (decode + threshold + NMS of fdk's detector pipeline,
 * src/accuracy/pipeline.ts), as plain detections for detection-level parity.
 */
import { boxesDecodedFor, postprocess } from '../accuracy/pipeline.js';
import type { ModelEntry } from '../models/manifest.js';
import type { Preprocessed } from '../accuracy/preprocess.js';
import type { TensorMap } from '../runtime/types.js';
import type { Det } from './detections.js';

export type PostprocessFn = (entry: ModelEntry, outputs: TensorMap, pre: Preprocessed) => Det[];

/**
 * Ultra-Light files come with the prior-decoding tail (boxes are corners, graph has Exp) or without
 * it (raw offsets): the pipeline must know which. Every runtime runs the same graph, so one answer.
 */
export function postprocessFor(onnxPath: string, entry: ModelEntry): { fn: PostprocessFn; note?: string } {
  const boxesDecoded = boxesDecodedFor(entry, onnxPath);
  return {
    fn: (e, outputs, pre) => postprocess(e, outputs, pre, { boxesDecoded, file: onnxPath }).map((d) => ({ box: d.box, score: d.score })),
  };
}
