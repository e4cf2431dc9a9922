/** What the browser pages need from disk, as routes for server.ts. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../util/data.js';
import { FdkError } from '../util/errors.js';
import { findNcnnWasm, NCNN_WASM_VARIANTS } from '../runtime/ncnn-wasm/locate.js';
import type { Routes } from './server.js';

/** onnxruntime-web's dist folder (its .mjs loaders and .wasm files). */
function ortWebDist(): string {
  // the package exports no ./package.json; its Node entry lives in dist/ next to the browser files
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
}

/** Routes for the pages in dist/browser/page: fdk's compiled JS, both engines, and the pages. */
export function pageRoutes(): Routes {
  const dist = join(PROJECT_ROOT, 'dist');
  if (!existsSync(join(dist, 'browser', 'page', 'lane.mjs')) || !existsSync(join(dist, 'runtime', 'ncnn-wasm', 'net.js')))
    throw new FdkError(`the browser pages are not built in ${dist}: run \`npm run build\``);
  const dirs: Record<string, string> = {
    '/page/': join(dist, 'browser', 'page'),
    '/dist/': dist,
    '/ort/': ortWebDist(),
  };
  for (const v of NCNN_WASM_VARIANTS) {
    const b = findNcnnWasm(v);
    if (b) dirs[`/ncnn-wasm/${v}/`] = b.dir;
  }
  return { dirs, files: {} };
}
