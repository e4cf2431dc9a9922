/**
 * Instantiates the emscripten module of an ncnn-wasm build inside Node, once per variant and
 * process. The loader is required as CommonJS (the build folder says so in its package.json) and
 * given the wasm bytes directly: Debian's emscripten 3.1.6 loader would otherwise `fetch` a file
 * path, which Node 20's fetch refuses.
 */
import { memoPromise } from '../../util/memo.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FdkError } from '../../util/errors.js';
import { requireNcnnWasm, type NcnnWasmBuild, type NcnnWasmVariant } from './locate.js';
import type { NcnnWasmModule } from './net.js';

export interface LoadedNcnnWasm {
  module: NcnnWasmModule;
  build: NcnnWasmBuild;
  /** stderr lines ncnn printed since the last call (why a load failed), then cleared. */
  takeErrors(): string;
}

type Factory = (overrides: Record<string, unknown>) => Promise<NcnnWasmModule>;

/** The part of emscripten's pthread pool (exported as Module.PThread by the pthreads build) fdk touches. */
interface PThreadPool {
  unusedWorkers?: { unref?: () => void }[];
  runningWorkers?: { unref?: () => void }[];
}

/**
 * The pthreads build starts its pool of worker_threads at start-up, and Node waits for live
 * workers before it exits: a CLI command that ran ncnn-wasm would then never end. Unreferenced,
 * the workers still run ncnn's threads but no longer keep the process alive. (The pool is fixed:
 * -sPTHREAD_POOL_SIZE covers every thread ncnn-wasm allows, so no worker is created later.)
 */
function unrefPool(module: NcnnWasmModule): void {
  const pool = (module as unknown as { PThread?: PThreadPool }).PThread;
  for (const w of [...(pool?.unusedWorkers ?? []), ...(pool?.runningWorkers ?? [])]) w.unref?.();
}

async function instantiate(build: NcnnWasmBuild): Promise<LoadedNcnnWasm> {
  const errors: string[] = [];
  const factory = createRequire(import.meta.url)(build.js) as Factory;
  let module: NcnnWasmModule;
  try {
    module = await factory({
      wasmBinary: readFileSync(build.wasm),
      print: () => {},
      printErr: (s: string) => errors.push(s),
      // the pthreads build starts its workers from this script
      mainScriptUrlOrBlob: build.js,
      locateFile: (f: string) => `${build.dir}/${f}`,
    });
    unrefPool(module);
  } catch (e) {
    throw new FdkError(`the ncnn-wasm module does not start: ${String((e as Error)?.message ?? e).split('\n')[0]}`, { file: build.wasm });
  }
  return {
    module,
    build,
    takeErrors: () => errors.splice(0).join('; '),
  };
}

/** One instance per variant per process; a failed load is retried on the next call. */
export const loadNcnnWasm: (variant: NcnnWasmVariant) => Promise<LoadedNcnnWasm> = memoPromise((variant) => instantiate(requireNcnnWasm(variant)));
