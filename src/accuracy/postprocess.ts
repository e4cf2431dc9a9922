/**
 * The detectors' postprocessing after the forward pass, by the description's decode family
 * (src/families: prior boxes, anchor-free grid): decoding, score filter, NMS. Kept free of Node
 * imports so the demo page (src/demo/) runs the very same code in the browser as `fdk detect` runs
 * in Node. Re-exported by pipeline.ts.
 */
import type { ModelDescription } from '../models/description.js';
import type { TensorMap } from '../runtime/types.js';
import { familyOf } from '../families/index.js';
import { outputsByRole } from '../families/common.js';
import type { Detection } from '../families/types.js';
import type { Preprocessed } from './preprocess.js';

export type { Detection } from '../families/types.js';

/** Raw model outputs -> detections in original image pixels, by the description's decode family. */
export function postprocess(desc: ModelDescription, outputs: TensorMap, pre: Preprocessed, opts: { boxesDecoded?: boolean; file?: string } = {}): Detection[] {
  const file = opts.file ?? desc.name ?? 'model';
  const family = familyOf(desc.decode);
  const out = outputsByRole(outputs, desc.outputs, family.outputRoles(desc.decode), file);
  return family.detect(desc, desc.decode, out, pre, { boxesDecoded: opts.boxesDecoded, file });
}
