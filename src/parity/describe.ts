/**
 * The description parity uses for real images: `--spec` (a manifest id, or a description file
 * once src/models has them), the model id, or the description of the model file itself. A
 * third-party file with no description gets none (parity then feeds synthetic tensors).
 *
 * This is the one place parity asks src/models: `descriptionForModelFile(path, { spec })` finds
 * --spec FILE, the embedded ONNX metadata, NAME.fdk.json beside the file, or the manifest entry.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { getModel, registerDescribedModel, type ModelEntry } from '../models/manifest.js';
import { descriptionForModelFile } from '../models/description.js';
import type { ModelSource } from '../runtime/model-source.js';
import { isFixedShape } from '../runtime/model-source.js';

const described = new Map<string, ModelEntry>();

export async function describeModel(src: ModelSource, explicit?: string): Promise<ModelEntry | undefined> {
  const specFile = explicit !== undefined && (existsSync(explicit) || /\.json$/i.test(explicit));
  if (explicit && !specFile) return getModel(explicit); // a manifest id
  if (!explicit && src.entry) return src.entry; // MODEL was a manifest id
  const d = await descriptionForModelFile(src.path, { spec: explicit });
  if (!d) return src.entry;
  if (d.manifestId) return getModel(d.manifestId);
  // a description of its own (--spec FILE, embedded, sidecar): known under a per-file id
  const id = `file:${basename(src.path)}:${explicit ?? ''}`;
  if (!described.has(id)) described.set(id, registerDescribedModel(id, d.description, src.path));
  return described.get(id);
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
  // priors are generated from the description's input size, so resizing the rule resizes them too
  return { ...entry, input: { ...entry.input, resize: { ...rs, width: W, height: H } } };
}
