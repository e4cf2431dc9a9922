/**
 * A decode family: how a detector's raw outputs become face boxes. One module per family
 * (prior.ts, grid.ts); a model description names its family and gives its parameters, which the
 * family validates itself. Adding a family = one module + one line in index.ts.
 */
import type { FieldChecker, Json } from '../models/check.js';
import type { ModelDescription } from '../models/description.js';
import type { Preprocessed } from '../accuracy/preprocess.js';

export interface Detection {
  /** x1 y1 x2 y2 in original image pixels. */
  box: [number, number, number, number];
  score: number;
  /** Landmark points [x, y] in original image pixels, when the model has them. */
  landmarks?: [number, number][];
}

/** Every family's parameters carry the family id; the rest is the family's own. */
export interface DecodeParams {
  family: string;
  [k: string]: unknown;
}

export interface OutputRole {
  /** Key in the description's `outputs` (role -> tensor name). */
  role: string;
  /** Size of the last axis of the [1, N, last] output (how an output is found when ncnn renamed it). */
  last: number;
}

export interface DecodeFamily<P extends DecodeParams = DecodeParams> {
  id: string;
  /** One line for docs and error messages. */
  summary: string;
  /** Checks `decode` field by field (errors name `decode.<field>`) and returns it with defaults filled in. */
  validate(raw: Json, c: FieldChecker, path: string): P;
  /** The outputs the family reads. */
  outputRoles(p: P): OutputRole[];
  /** Rows N of the [1, N, k] outputs for a network input of height x width. */
  count(p: P, height: number, width: number): number;
  /**
   * Raw outputs (by role) -> detections in original image pixels, after score threshold, NMS and
   * top-k of `desc.postprocess`. `boxesDecoded`: the graph already decoded its boxes (prior family).
   */
  detect(desc: ModelDescription, p: P, out: Record<string, Float32Array>, pre: Preprocessed, opts: { boxesDecoded?: boolean; file: string }): Detection[];
}
