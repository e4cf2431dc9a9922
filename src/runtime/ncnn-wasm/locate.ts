/**
 * Finds a built ncnn-wasm module: scripts/build-ncnn-wasm.sh writes `.fdk/ncnn-wasm/<variant>.json`
 * naming the folder of the current build of that variant. FDK_NCNN_WASM overrides the folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../util/data.js';
import { FdkError } from '../../util/errors.js';

/** simd: one thread; simd-threads: pthreads (Web Workers over a SharedArrayBuffer). */
export type NcnnWasmVariant = 'simd' | 'simd-threads';
export const NCNN_WASM_VARIANTS: NcnnWasmVariant[] = ['simd', 'simd-threads'];

export interface NcnnWasmBuild {
  variant: NcnnWasmVariant;
  dir: string;
  js: string;
  wasm: string;
  /** build.json as the build script wrote it (ncnn version, flags key, sizes, build time). */
  meta: { ncnn: string; key: string; emscripten: string; wasmBytes: number; buildSeconds: number; threads: boolean };
}

export function ncnnWasmRoot(): string {
  return process.env.FDK_NCNN_WASM ?? join(PROJECT_ROOT, '.fdk', 'ncnn-wasm');
}

/**
 * Most threads the pthreads build can run: its workers are created at start-up
 * (-sPTHREAD_POOL_SIZE=4 in build-ncnn-wasm.sh), since a main thread blocked in ncnn cannot wait
 * for a new worker to start; ncnn uses the calling thread plus threads-1 workers.
 */
export const NCNN_WASM_MAX_THREADS = 5;

/** The variant to use for a thread count: the pthreads build only when more than one thread is asked. */
export function variantFor(threads: number): NcnnWasmVariant {
  if (threads > NCNN_WASM_MAX_THREADS)
    throw new FdkError(`ncnn-wasm runs at most ${NCNN_WASM_MAX_THREADS} threads (its pthreads build starts 4 workers), not ${threads}`);
  return threads > 1 ? 'simd-threads' : 'simd';
}

/**
 * The build the Node runtime loads for a thread count: the pthreads build whenever it is built,
 * also for 1 thread. At 1 thread it ran 1.7-2.5x faster than the single-thread build in Node
 * (docs/wasm.md, "What was found, and what was fixed"): the two differ in compiler features, not in ncnn's kernels
 * (-pthread brings bulk memory, so memcpy/memset become memory.copy/fill, and OpenMP outlines the
 * parallel loops). The browser pages keep variantFor: there the pthreads build needs a
 * cross-origin isolated page.
 */
export function nodeVariantFor(threads: number, forced?: NcnnWasmVariant): NcnnWasmVariant {
  const v = variantFor(threads);
  if (forced) {
    if (forced === 'simd' && v !== 'simd') throw new FdkError(`the ncnn-wasm simd build runs 1 thread, not ${threads}`);
    return forced;
  }
  return v === 'simd' && findNcnnWasm('simd-threads') ? 'simd-threads' : v;
}

export function findNcnnWasm(variant: NcnnWasmVariant): NcnnWasmBuild | undefined {
  const root = ncnnWasmRoot();
  const pointer = join(root, `${variant}.json`);
  if (!existsSync(pointer)) return undefined;
  const dir = join(root, (JSON.parse(readFileSync(pointer, 'utf8')) as { dir: string }).dir);
  const js = join(dir, 'ncnn-wasm.js');
  const wasm = join(dir, 'ncnn-wasm.wasm');
  if (!existsSync(js) || !existsSync(wasm) || !existsSync(join(dir, 'build.json'))) return undefined;
  return { variant, dir, js, wasm, meta: JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) };
}

export function requireNcnnWasm(variant: NcnnWasmVariant): NcnnWasmBuild {
  const b = findNcnnWasm(variant);
  if (!b)
    throw new FdkError(
      `the ncnn-wasm module (${variant}) is not built in ${ncnnWasmRoot()}: run \`npm run setup\` or \`bash scripts/build-ncnn-wasm.sh ${variant}\``,
    );
  return b;
}
