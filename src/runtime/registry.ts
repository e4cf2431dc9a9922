/**
 * The one list of runtimes fdk knows. The CLI (--runtimes), bench, parity, accuracy, the report
 * and docs/wasm.md read it; adding a runtime is its adapter module plus one entry here.
 *
 * Adapters are imported lazily so that e.g. `fdk bench --runtimes ort` never starts Python or
 * instantiates a wasm module, and a broken optional runtime does not break the others.
 */
import type { Runtime } from './types.js';

/** Which per-runtime option groups of LoadOptions a runtime reads (see types.ts). */
export type RuntimeOptionGroup = 'threads' | 'spinning' | 'ncnn';

export interface RuntimeEntry {
  name: string;
  /** Old names still accepted; each warns once on stderr and maps to `name`. */
  aliases: string[];
  description: string;
  /** The engine family: outputs of runtimes of the same family should agree to float rounding. */
  engine: 'onnxruntime' | 'ncnn';
  options: RuntimeOptionGroup[];
  /** Can run inside a browser page (`--browser chromium`). */
  browser: boolean;
  load(): Promise<Runtime>;
}

export const RUNTIMES = [
  {
    name: 'ort',
    aliases: [],
    description: 'onnxruntime-node, native CPU',
    engine: 'onnxruntime',
    options: ['threads', 'spinning'],
    browser: false,
    load: async () => (await import('./ort.js')).ortRuntime,
  },
  {
    name: 'ort-wasm',
    aliases: ['wasm'],
    description: 'onnxruntime-web, its WebAssembly backend (SIMD, threads)',
    engine: 'onnxruntime',
    options: ['threads'],
    browser: true,
    load: async () => (await import('./wasm.js')).wasmRuntime,
  },
  {
    name: 'ncnn',
    aliases: [],
    description: 'ncnn from PyPI, native, in a Python worker',
    engine: 'ncnn',
    options: ['threads', 'ncnn'],
    browser: false,
    load: async () => (await import('./ncnn.js')).ncnnRuntime,
  },
  {
    name: 'ncnn-wasm',
    aliases: [],
    description: 'ncnn compiled to WebAssembly by scripts/build-ncnn-wasm.sh (SIMD; pthreads variant for threads > 1)',
    engine: 'ncnn',
    options: ['threads', 'ncnn'],
    browser: true,
    load: async () => (await import('./ncnn-wasm/runtime.js')).ncnnWasmRuntime,
  },
] as const satisfies readonly RuntimeEntry[];

type Entry = (typeof RUNTIMES)[number];
/** A runtime in Node. */
export type NodeRuntimeName = Entry['name'];
/** A runtime that also runs in a browser page. */
export type BrowserRuntimeName = Extract<Entry, { browser: true }>['name'];
/** The browsers of the browser lane (src/browser/chromium.ts checks they are installed). */
export const BROWSER_LANES = ['chromium'] as const;
/** A runtime name: a Node runtime, or a browser runtime in a browser lane (`ncnn-wasm@chromium`). */
export type RuntimeName = NodeRuntimeName | `${BrowserRuntimeName}@${(typeof BROWSER_LANES)[number]}`;

export const RUNTIME_NAMES: NodeRuntimeName[] = RUNTIMES.map((r) => r.name);
export const BROWSER_RUNTIME_NAMES = RUNTIMES.filter((r) => r.browser).map((r) => r.name) as BrowserRuntimeName[];

/** The registry entry of a runtime; a browser-lane name gives its engine's entry. */
export function runtimeEntry(name: RuntimeName): RuntimeEntry {
  const base = name.split('@')[0];
  return RUNTIMES.find((r) => r.name === base)!;
}

/** `ncnn-wasm@chromium` -> { runtime: 'ncnn-wasm', browser: 'chromium' }; a Node runtime has no browser. */
export function splitLane(name: RuntimeName): { runtime: NodeRuntimeName; browser?: (typeof BROWSER_LANES)[number] } {
  const [runtime, browser] = name.split('@');
  return { runtime: runtime as NodeRuntimeName, browser: browser as (typeof BROWSER_LANES)[number] | undefined };
}

const warned = new Set<string>();

/**
 * The canonical name for `name` (an alias warns once per process on stderr), or undefined when
 * no runtime has that name.
 */
export function canonicalRuntimeName(name: string, opts: { warn?: boolean } = {}): RuntimeName | undefined {
  const at = name.indexOf('@');
  if (at >= 0) {
    const base = canonicalRuntimeName(name.slice(0, at), opts);
    const lane = name.slice(at + 1);
    if (!base || !(BROWSER_RUNTIME_NAMES as string[]).includes(base) || !(BROWSER_LANES as readonly string[]).includes(lane)) return undefined;
    return `${base}@${lane}` as RuntimeName;
  }
  const direct = RUNTIMES.find((r) => r.name === name);
  if (direct) return direct.name;
  const aliased = RUNTIMES.find((r) => (r.aliases as readonly string[]).includes(name));
  if (!aliased) return undefined;
  if ((opts.warn ?? true) && !warned.has(name)) {
    warned.add(name);
    process.stderr.write(`fdk: warning: runtime '${name}' is now called '${aliased.name}'; '${name}' will be removed\n`);
  }
  return aliased.name;
}
