/** The runtimes fdk knows, behind the one interface of types.ts. */
import { FdkError } from '../util/errors.js';
import type { Runtime, RuntimeName } from './types.js';

export const RUNTIME_NAMES: RuntimeName[] = ['ort', 'wasm', 'ncnn'];

/**
 * Adapters are imported lazily so that e.g. `fdk bench --runtimes ort` never starts Python and a
 * broken optional runtime does not break the others.
 */
export async function getRuntime(name: string): Promise<Runtime> {
  switch (name) {
    case 'ort':
      return (await import('./ort.js')).ortRuntime;
    case 'wasm':
      return (await import('./wasm.js')).wasmRuntime;
    case 'ncnn':
      return (await import('./ncnn.js')).ncnnRuntime;
    default:
      throw new FdkError(`unknown runtime '${name}' (known runtimes: ${RUNTIME_NAMES.join(', ')})`);
  }
}

/** Parses `ort,ncnn,wasm` into runtime names, rejecting unknown ones up front. */
export function parseRuntimeList(spec: string | undefined, def: RuntimeName[] = RUNTIME_NAMES): RuntimeName[] {
  if (!spec) return def;
  const names = spec.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names)
    if (!RUNTIME_NAMES.includes(n as RuntimeName))
      throw new FdkError(`unknown runtime '${n}' (known runtimes: ${RUNTIME_NAMES.join(', ')})`);
  if (names.length === 0) throw new FdkError(`--runtimes is empty (known runtimes: ${RUNTIME_NAMES.join(', ')})`);
  return [...new Set(names)] as RuntimeName[];
}
