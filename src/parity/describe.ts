/**
 * The description parity uses for real images: the model id, `--spec ID`, or the manifest entry that
 * owns the file. A third-party file with no description gets none (parity then feeds synthetic
 * tensors). This is the one place that asks the model descriptions (src/models), so switching to
 * the description API of src/models touches only this file.
 */
import { resolve } from 'node:path';
import { allFileRefs, getModel, loadManifest, type ModelEntry } from '../models/manifest.js';
import type { ModelSource } from '../runtime/model-source.js';
import { isFixedShape } from '../runtime/model-source.js';
import { resolveDataDir } from '../util/data.js';

export function describeModel(src: ModelSource, explicit?: string): ModelEntry | undefined {
  if (explicit) return getModel(explicit);
  if (src.entry) return src.entry;
  const data = resolveDataDir(undefined, { required: false });
  if (!data) return undefined;
  const abs = resolve(src.path);
  return loadManifest().find((m) => allFileRefs(m).some(([, ref]) => resolve(data, ref.path) === abs));
}

/**
 * A fixed-size description applied to a model file of another fixed size (`--spec ulfd-slim-320`
 * on the 640 file): resize to the file's size, and build the priors for it, instead of feeding a
 * tensor onnxruntime refuses.
 */
export function fitDescriptionToModel(entry: ModelEntry, declared: (number | string)[] | undefined): ModelEntry {
  const rs = entry.input.resize;
  if (rs.mode !== 'fixed' || !declared || !isFixedShape(declared) || declared.length !== 4) return entry;
  const [, , H, W] = declared;
  if (rs.width === W && rs.height === H) return entry;
  const anchors = 'imageSize' in entry.anchors ? { ...entry.anchors, imageSize: [W, H] as [number, number] } : entry.anchors;
  return { ...entry, input: { ...entry.input, shape: declared, resize: { ...rs, width: W, height: H } }, anchors };
}
