/**
 * What `fdk serve` serves besides the engines: the demo page, the manifest, and each model's file
 * in the form each engine loads, made on first request exactly as `fdk detect` makes it:
 *   /api/models.json                         ids and families
 *   /api/model/<id>/entry.json               the manifest entry + which file and whether it decodes boxes
 *   /api/model/<id>/model.onnx               the file `fdk detect` runs (modelFileFor)
 *   /api/model/<id>/model.param, model.bin   that file converted with fdk's converter (ncnn-wasm)
 */
import { memoPromise } from '../util/memo.js';
import { join } from 'node:path';
import { getModel, loadManifest } from '../models/manifest.js';
import { modelFileFor, type ModelFileChoice } from '../accuracy/pipeline.js';
import { convertOnnxForNcnn } from '../runtime/ncnn-convert.js';
import { PROJECT_ROOT } from '../util/data.js';
import { pageRoutes } from '../browser/routes.js';
import type { Routes } from '../browser/server.js';

/** The model file per id, resolved (exported or converted) once per server. */
const fileFor = memoPromise((id: string): Promise<ModelFileChoice> => modelFileFor(getModel(id)));

/** The input shapes `fdk detect` converts with: fixed for fixed-size models, none (dynamic) otherwise. */
function fixedShapes(id: string): Record<string, number[]> {
  const e = getModel(id);
  return e.input.resize.mode === 'fixed' ? { [e.input.name]: [1, 3, e.input.resize.height!, e.input.resize.width!] } : {};
}

async function apiFile(path: string): Promise<string | Uint8Array | undefined> {
  if (path === '/api/models.json')
    return new TextEncoder().encode(JSON.stringify(loadManifest().map((m) => ({ id: m.id, family: m.family, fixed: m.input.resize.mode === 'fixed' }))));
  const m = path.match(/^\/api\/model\/([\w.-]+)\/(entry\.json|model\.onnx|model\.param|model\.bin)$/);
  if (!m) return undefined;
  const [, id, what] = m;
  const entry = getModel(id);
  const file = await fileFor(id);
  if (what === 'entry.json') return new TextEncoder().encode(JSON.stringify({ entry, boxesDecoded: file.boxesDecoded, origin: file.origin }));
  if (what === 'model.onnx') return file.path;
  const c = await convertOnnxForNcnn(file.path, fixedShapes(entry.id));
  return what === 'model.param' ? c.param : c.bin;
}

export function demoRoutes(): Routes {
  const r = pageRoutes();
  r.dirs['/demo/'] = join(PROJECT_ROOT, 'dist', 'demo', 'page');
  r.files['/'] = join(PROJECT_ROOT, 'dist', 'demo', 'page', 'index.html');
  r.resolve = apiFile;
  return r;
}
