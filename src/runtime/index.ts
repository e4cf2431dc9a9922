/** The runtimes fdk knows (registry.ts), behind the one interface of types.ts. */
import { FdkError } from '../util/errors.js';
import { BROWSER_RUNTIME_NAMES, canonicalRuntimeName, RUNTIME_NAMES, RUNTIMES, splitLane, type BrowserRuntimeName, type RuntimeName } from './registry.js';
import type { Runtime } from './types.js';

export {
  BROWSER_RUNTIME_NAMES, RUNTIME_NAMES, RUNTIMES, canonicalRuntimeName, runtimeEntry, splitLane, type RuntimeEntry, type RuntimeName,
} from './registry.js';

const unknown = (n: string) => new FdkError(`unknown runtime '${n}' (known runtimes: ${RUNTIME_NAMES.join(', ')})`);

/** The adapter for a runtime name (or alias), imported on first use. */
export async function getRuntime(name: string): Promise<Runtime> {
  const canonical = canonicalRuntimeName(name);
  if (!canonical) throw unknown(name);
  const { runtime, browser } = splitLane(canonical);
  if (browser) {
    const { browserRuntime } = await import('../browser/runtime.js');
    const { checkBrowser } = await import('../browser/chromium.js');
    return browserRuntime(runtime as BrowserRuntimeName, checkBrowser(browser));
  }
  return RUNTIMES.find((r) => r.name === runtime)!.load();
}

/**
 * `--browser chromium`: the runtimes as given, then each of them that runs in a browser again in
 * that browser's lane (`ncnn-wasm` -> also `ncnn-wasm@chromium`), so one table shows both lanes.
 */
export async function withBrowserLanes(runtimes: RuntimeName[], browser: string | undefined): Promise<RuntimeName[]> {
  if (!browser) return runtimes;
  const { checkBrowser } = await import('../browser/chromium.js');
  const b = checkBrowser(browser);
  const lanes = runtimes.filter((r) => (BROWSER_RUNTIME_NAMES as string[]).includes(r)).map((r) => `${r}@${b}` as RuntimeName);
  if (!lanes.length)
    throw new FdkError(`--browser ${b}: none of the runtimes ${runtimes.join(', ')} runs in a browser (browser runtimes: ${BROWSER_RUNTIME_NAMES.join(', ')})`);
  return [...runtimes, ...lanes.filter((l) => !runtimes.includes(l))];
}

/** Parses `ort,ncnn,ort-wasm` into runtime names (aliases mapped), rejecting unknown ones up front. */
export function parseRuntimeList(spec: string | undefined, def: readonly RuntimeName[] = RUNTIME_NAMES): RuntimeName[] {
  if (!spec) return [...def];
  const names = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new FdkError(`--runtimes is empty (known runtimes: ${RUNTIME_NAMES.join(', ')})`);
  const out: RuntimeName[] = [];
  for (const n of names) {
    const c = canonicalRuntimeName(n);
    if (!c) throw unknown(n);
    if (!out.includes(c)) out.push(c);
  }
  return out;
}
