/**
 * The JS side of fdk's ncnn binding (binding.cpp), over an instantiated emscripten module.
 * It imports nothing from Node, so the same compiled file drives ncnn-wasm in Node
 * (runtime.ts) and in the browser (the bench page and the demo page import it from dist/).
 *
 * Errors are thrown as plain Errors here (no FdkError: the browser has no CLI); callers wrap them.
 */

/** The part of an emscripten module (MODULARIZE build of binding.cpp) that fdk uses. */
export interface NcnnWasmModule {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPF32: Float32Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _fdk_net_create(): number;
  _fdk_net_set_options(h: number, threads: number, fp16Storage: number, fp16Arithmetic: number, packing: number): void;
  _fdk_net_load(h: number, param: number, bin: number, binLen: number): number;
  _fdk_ex_begin(h: number): void;
  _fdk_ex_input(h: number, name: number, data: number, dims: number, w: number, hh: number, d: number, c: number): number;
  _fdk_ex_extract(h: number, name: number): number;
  _fdk_out_data(h: number): number;
  _fdk_out_dims(h: number): number;
  _fdk_ex_end(h: number): void;
  _fdk_net_free(h: number): void;
  _fdk_build_info(): number;
  UTF8ToString(p: number): string;
}

export interface NcnnNetOptions {
  threads?: number;
  /** fp16 storage and arithmetic (ncnn's use_fp16_storage/packed/arithmetic). */
  fp16?: boolean;
  /** ncnn's packed layouts (elempack 4 on 128-bit SIMD); default on, as in ncnn. */
  packing?: boolean;
}

export interface NcnnTensor {
  data: Float32Array;
  /** ONNX-style dims: a leading batch 1 in front of ncnn's (c, d, h, w). */
  dims: number[];
}

/** Input layer tops and unconsumed blobs of a text .param: ncnn's input_names()/output_names(). */
export function paramIo(paramText: string): { inputs: string[]; outputs: string[] } {
  const lines = paramText.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const inputs: string[] = [];
  const produced: string[] = [];
  const consumed = new Set<string>();
  for (const line of lines.slice(2)) {
    const f = line.split(/\s+/);
    const nIn = Number(f[2]);
    const nOut = Number(f[3]);
    const bottoms = f.slice(4, 4 + nIn);
    const tops = f.slice(4 + nIn, 4 + nIn + nOut);
    bottoms.forEach((b) => consumed.add(b));
    produced.push(...tops);
    if (f[0] === 'Input') inputs.push(...tops);
  }
  return { inputs, outputs: produced.filter((b) => !consumed.has(b)) };
}

/** Copies a string into the module heap (NUL-terminated); the caller frees it. */
function cString(m: NcnnWasmModule, s: string): number {
  const bytes = new TextEncoder().encode(s);
  const p = m._malloc(bytes.length + 1);
  m.HEAPU8.set(bytes, p);
  m.HEAPU8[p + bytes.length] = 0;
  return p;
}

function withCString<T>(m: NcnnWasmModule, s: string, f: (p: number) => T): T {
  const p = cString(m, s);
  try {
    return f(p);
  } finally {
    m._free(p);
  }
}

/** One loaded ncnn Net inside the wasm module. */
export class NcnnWasmNet {
  readonly inputNames: string[];
  readonly outputNames: string[];
  private handle: number;

  /** Loads .param text and .bin bytes; throws with `lastError()` text when ncnn refuses them. */
  constructor(private m: NcnnWasmModule, paramText: string, bin: Uint8Array, opts: NcnnNetOptions = {}, lastError: () => string = () => '') {
    const io = paramIo(paramText);
    this.inputNames = io.inputs;
    this.outputNames = io.outputs;
    this.handle = m._fdk_net_create();
    const fp16 = opts.fp16 ? 1 : 0;
    m._fdk_net_set_options(this.handle, opts.threads ?? 1, fp16, fp16, opts.packing === false ? 0 : 1);
    const p = cString(m, paramText);
    const b = m._malloc(Math.max(bin.length, 1));
    m.HEAPU8.set(bin, b);
    const rc = m._fdk_net_load(this.handle, p, b, bin.length);
    m._free(p);
    m._free(b);
    if (rc !== 0) {
      m._fdk_net_free(this.handle);
      this.handle = 0;
      const why = lastError().trim();
      if (rc === -1) throw new Error(`ncnn-wasm cannot load the .param${why ? `: ${why}` : ''}`);
      throw new Error(`ncnn-wasm cannot load the .bin weights (truncated, or not matching the .param)${why ? `: ${why}` : ''}`);
    }
  }

  /**
   * "simd single" or "simd threads": what the module was compiled as. (The version ncnn compiles
   * in is the date of the build, stamped by its CMake; the real one is in the build's build.json.)
   */
  static buildFlavor(m: NcnnWasmModule): string {
    return m.UTF8ToString(m._fdk_build_info()).replace(/^ncnn \S+ /, '');
  }

  /**
   * Runs the net: inputs in ONNX layout with batch 1 ([1,C,H,W] -> Mat(w,h,c)); returns the asked
   * blobs with a leading 1 (the same shape rule as the native ncnn runtime) and the time from
   * ncnn's input to the last extract, copying the outputs out of the heap included.
   */
  run(inputs: Record<string, NcnnTensor>, outputNames: string[] = this.outputNames, now: () => number = () => performance.now()): { outputs: Record<string, NcnnTensor>; ms: number } {
    const outputs: Record<string, NcnnTensor> = {};
    const ms = this.withExtractor(inputs, now, () => {
      for (const name of outputNames) outputs[name] = this.extract(name);
    });
    return { outputs, ms };
  }

  /**
   * A per-blob time profile (perf/wasm-layers.ts): in one extractor, extracts each blob of `blobs`
   * (in the .param's layer order) twice. ncnn computes a blob on its first extract, running only the
   * layers not yet run, and only copies it out on the second, so first minus second is the time of
   * the layers that produced it, without the copy-out this profile adds.
   */
  profile(inputs: Record<string, NcnnTensor>, blobs: string[], now: () => number = () => performance.now()): { blob: string; ms: number }[] {
    const out: { blob: string; ms: number }[] = [];
    this.withExtractor(inputs, now, () => {
      for (const blob of blobs) {
        const t0 = now();
        this.extract(blob);
        const t1 = now();
        this.extract(blob);
        out.push({ blob, ms: Math.max(0, t1 - t0 - (now() - t1)) });
      }
    });
    return out;
  }

  /** Stages the inputs in the heap, then times `body` from the extractor's creation to its end. */
  private withExtractor(inputs: Record<string, NcnnTensor>, now: () => number, body: () => void): number {
    if (!this.handle) throw new Error('ncnn-wasm net was released');
    const m = this.m;
    const staged: { name: number; data: number; shape: number[] }[] = [];
    try {
      for (const [name, t] of Object.entries(inputs)) {
        if (!this.inputNames.includes(name)) throw new Error(`ncnn-wasm model has no input '${name}' (inputs: ${this.inputNames.join(', ')})`);
        let shape = [...t.dims];
        if (shape.length >= 2) {
          if (shape[0] !== 1) throw new Error(`input '${name}': ncnn has no batch axis, batch must be 1 (got [${t.dims.join(',')}])`);
          shape = shape.slice(1);
        }
        if (shape.length > 4) throw new Error(`input '${name}': rank ${t.dims.length} is more than ncnn supports`);
        const data = m._malloc(t.data.length * 4);
        m.HEAPF32.set(t.data, data >> 2);
        staged.push({ name: cString(m, name), data, shape });
      }
      const t0 = now();
      m._fdk_ex_begin(this.handle);
      for (const s of staged) {
        // ONNX order without batch -> ncnn's w, h, d, c: [W], [H,W], [C,H,W], [C,D,H,W]
        const sh = s.shape;
        const [w, h, d, c] =
          sh.length === 1 ? [sh[0], 1, 1, 1] : sh.length === 2 ? [sh[1], sh[0], 1, 1] : sh.length === 3 ? [sh[2], sh[1], 1, sh[0]] : [sh[3], sh[2], sh[1], sh[0]];
        const rc = m._fdk_ex_input(this.handle, s.name, s.data, s.shape.length, w, h, d, c);
        if (rc !== 0) throw new Error(`ncnn-wasm input '${m.UTF8ToString(s.name)}' failed with code ${rc}`);
      }
      body();
      return now() - t0;
    } finally {
      m._fdk_ex_end(this.handle);
      for (const s of staged) {
        m._free(s.name);
        m._free(s.data);
      }
    }
  }

  /** Extracts one blob (fp32, elempack 1) and copies it out of the heap, with a leading batch 1. */
  private extract(name: string): NcnnTensor {
    const m = this.m;
    const rc = withCString(m, name, (p) => m._fdk_ex_extract(this.handle, p));
    if (rc !== 0) throw new Error(`ncnn-wasm extract('${name}') failed with code ${rc}`);
    const dp = m._fdk_out_dims(this.handle) >> 2;
    const [dims, w, h, d, c] = Array.from(m.HEAP32.subarray(dp, dp + 5));
    const shape = dims === 1 ? [w] : dims === 2 ? [h, w] : dims === 3 ? [c, h, w] : [c, d, h, w];
    const n = shape.reduce((a, b) => a * b, 1);
    const op = m._fdk_out_data(this.handle) >> 2;
    return { data: m.HEAPF32.slice(op, op + n), dims: [1, ...shape] };
  }

  release(): void {
    if (this.handle) this.m._fdk_net_free(this.handle);
    this.handle = 0;
  }
}
