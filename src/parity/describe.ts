/**
 * The description parity uses for real images: `--spec` (a manifest id, or a description file
 * once src/models has them), the model id, or the description of the model file itself. A
 * third-party file with no description gets none (parity then feeds synthetic tensors).
 *
 * This is the one place that asks src/models. When the description API of src/models
 * (`descriptionForModelFile(path, { spec })` in models/description.ts: --spec FILE, embedded ONNX
 * metadata, NAME.fdk.json beside the file, manifest) is present it is used; until then the manifest
 * alone answers. It is imported at run time so that this module builds either way.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { allFileRefs, getModel, loadManifest, type ModelEntry } from '../models/manifest.js';
import type { ModelSource } from '../runtime/model-source.js';
import { isFixedShape } from '../runtime/model-source.js';
import { resolveDataDir } from '../util/data.js';
import { FdkError } from '../util/errors.js';

/** The part of models/description.ts parity relies on. */
interface DescriptionApi {
  descriptionForModelFile(path: string, opts: { spec?: string }): Promise<{ description: object; manifestId?: string } | undefined>;
}
interface ManifestRegistry {
  registerDescribedModel?: (id: string, description: object, path: string) => ModelEntry;
}

async function descriptionApi(): Promise<DescriptionApi | undefined> {
  const spec = '../models/description.js';
  try {
    const mod = (await import(spec)) as Partial<DescriptionApi>;
    return typeof mod.descriptionForModelFile === 'function' ? (mod as DescriptionApi) : undefined;
  } catch {
    return undefined; // not in this build: the manifest alone describes models
  }
}

const described = new Map<string, ModelEntry>();

export async function describeModel(src: ModelSource, explicit?: string): Promise<ModelEntry | undefined> {
  const specFile = explicit !== undefined && (existsSync(explicit) || /\.json$/i.test(explicit));
  if (explicit && !specFile) return getModel(explicit); // a manifest id
  if (!explicit && src.entry) return src.entry; // MODEL was a manifest id
  const api = await descriptionApi();
  if (api) {
    const d = await api.descriptionForModelFile(src.path, { spec: explicit });
    if (!d) return src.entry;
    if (d.manifestId) return getModel(d.manifestId);
    // a description of its own (--spec FILE, embedded, sidecar): known under a per-file id
    const id = `file:${basename(src.path)}:${explicit ?? ''}`;
    if (!described.has(id)) {
      const reg = (await import('../models/manifest.js')) as ManifestRegistry;
      if (!reg.registerDescribedModel) return undefined;
      described.set(id, reg.registerDescribedModel(id, d.description, src.path));
    }
    return described.get(id);
  }
  if (specFile) throw new FdkError('--spec: description files are not supported by this build; pass a model id (fdk models list)', { file: explicit });
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
  // priors sized from the description's image size, where a description carries one
  const anchors = (entry as { anchors?: object }).anchors;
  const fitted = anchors && 'imageSize' in anchors ? { anchors: { ...anchors, imageSize: [W, H] } } : {};
  return { ...entry, ...fitted, input: { ...entry.input, shape: declared, resize: { ...rs, width: W, height: H } } } as ModelEntry;
}
