/**
 * The hot path of {@link resizeLinearF32ToCHW} (uint8 source, 3 channels, unit std) on the row
 * kernels in wasm/resize.wat: float32 arithmetic is native there (no Math.fround round trips) and the
 * vertical pass runs four lanes at a time, which makes the resize several times faster than the JS
 * loops while giving the same bits (each value is the same sequence of IEEE float32 operations;
 * test/pipeline-preprocess.test.ts compares the two on real images). JS keeps the row bookkeeping.
 */
import { RESIZE_WASM_BASE64 } from './wasm/resize-wasm-bytes.js';
import { forEachRowPair, pixelTaps3, RowCache, type Taps } from './cv-resize-rows.js';

/** The slice of the WebAssembly API used here (the project's TS libs carry no WebAssembly types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Kernels {
  memory: WasmMemory;
  hrow3: (src: number, dw: number, x0: number, x1: number, a0: number, a1: number, out: number) => void;
  vrow: (r0: number, r1: number, b0: number, b1: number, mean: number, n: number, out: number) => void;
}

let kernels: Kernels | null | undefined;

/** The instantiated kernels of this thread, or null where WebAssembly SIMD is unavailable. */
export function resizeKernels(): Kernels | null {
  if (kernels !== undefined) return kernels;
  try {
    const inst = new WA.Instance(new WA.Module(Buffer.from(RESIZE_WASM_BASE64, 'base64')), {});
    kernels = inst.exports as unknown as Kernels;
  } catch {
    kernels = null; // the JS path gives the same result
  }
  return kernels;
}

const align16 = (n: number) => (n + 15) & ~15;

/**
 * Resizes `src` (uint8, 3 interleaved channels, sw x sh) into three float32 planes of dw x dh in
 * `out` (length 3*dw*dh), value - mean[planeOf[k]] on plane planeOf[k] for source channel k. Row
 * indices are clamped the way cv-resize.ts does; `yt`/`xt` are its taps.
 */
export function resize3ToPlanesWasm(
  k: Kernels,
  src: Uint8Array,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  xt: Taps,
  yt: Taps,
  planeOf: readonly number[],
  means: readonly number[],
  out: Float32Array,
): Float32Array {
  const plane = dw * dh;
  const srcOff = 0;
  const x0Off = align16(src.length);
  const x1Off = x0Off + align16(dw * 4);
  const a0Off = x1Off + align16(dw * 4);
  const a1Off = a0Off + align16(dw * 4);
  const rowBytes = align16(3 * dw * 4);
  const rowA = a1Off + align16(dw * 4);
  const rowB = rowA + rowBytes;
  const outOff = rowB + rowBytes;
  const need = outOff + 3 * plane * 4;
  const have = k.memory.buffer.byteLength;
  if (need > have) k.memory.grow(Math.ceil((need - have) / 65536));
  const buf = k.memory.buffer;
  new Uint8Array(buf, srcOff, src.length).set(src);
  const t = pixelTaps3(xt);
  new Int32Array(buf, x0Off, dw).set(t.x0);
  new Int32Array(buf, x1Off, dw).set(t.x1);
  new Float32Array(buf, a0Off, dw).set(t.a0);
  new Float32Array(buf, a1Off, dw).set(t.a1);
  const rowStride = sw * 3;
  // rows live in wasm memory: the cache hands out their addresses
  const rows = new RowCache([rowA, rowB], (sy, at) => k.hrow3(srcOff + sy * rowStride, dw, x0Off, x1Off, a0Off, a1Off, at));
  forEachRowPair(yt, sh, rows, (dy, r0, r1, b0, b1) => {
    for (let c = 0; c < 3; c++) {
      const p = planeOf[c];
      k.vrow(r0 + c * dw * 4, r1 + c * dw * 4, b0, b1, means[p], dw, outOff + (p * plane + dy * dw) * 4);
    }
  });
  out.set(new Float32Array(buf, outOff, 3 * plane));
  return out;
}

