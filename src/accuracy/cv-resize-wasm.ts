/**
 * The hot path of {@link resizeLinearF32ToCHW} (uint8 source, 3 channels, unit std) on the row
 * kernels in wasm/resize.wat: float32 arithmetic is native there (no Math.fround round trips) and the
 * vertical pass runs four lanes at a time, which makes the resize several times faster than the JS
 * loops while giving the same bits (each value is the same sequence of IEEE float32 operations;
 * test/pipeline-preprocess.test.ts compares the two on real images). JS keeps the row bookkeeping.
 */
import { RESIZE_WASM_BASE64 } from './wasm/resize-wasm-bytes.js';

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

export interface AxisTaps {
  /** per output position: first source index, and whether the second tap exists (< max) */
  ofs: Int32Array;
  w0: Float32Array;
  w1: Float32Array;
  max: number;
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
  xt: AxisTaps,
  yt: AxisTaps,
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
  let rowA = a1Off + align16(dw * 4);
  let rowB = rowA + rowBytes;
  const outOff = rowB + rowBytes;
  const need = outOff + 3 * plane * 4;
  const have = k.memory.buffer.byteLength;
  if (need > have) k.memory.grow(Math.ceil((need - have) / 65536));
  const buf = k.memory.buffer;
  new Uint8Array(buf, srcOff, src.length).set(src);
  const x0 = new Int32Array(buf, x0Off, dw);
  const x1 = new Int32Array(buf, x1Off, dw);
  const a0 = new Float32Array(buf, a0Off, dw);
  const a1 = new Float32Array(buf, a1Off, dw);
  for (let dx = 0; dx < dw; dx++) {
    x0[dx] = xt.ofs[dx] * 3;
    x1[dx] = dx < xt.max ? x0[dx] + 3 : x0[dx];
    a0[dx] = xt.w0[dx];
    a1[dx] = dx < xt.max ? xt.w1[dx] : 0;
  }
  const rowStride = sw * 3;
  let keyA = -1;
  let keyB = -1;
  for (let dy = 0; dy < dh; dy++) {
    const s0 = clamp(yt.ofs[dy], sh);
    const s1 = clamp(yt.ofs[dy] + 1, sh);
    if (keyA !== s0) {
      if (keyB === s0) {
        const t = rowA;
        rowA = rowB;
        rowB = t;
        keyA = s0;
        keyB = -1;
      } else {
        k.hrow3(srcOff + s0 * rowStride, dw, x0Off, x1Off, a0Off, a1Off, rowA);
        keyA = s0;
      }
    }
    if (keyB !== s1) {
      k.hrow3(srcOff + s1 * rowStride, dw, x0Off, x1Off, a0Off, a1Off, rowB);
      keyB = s1;
    }
    const b0 = yt.w0[dy];
    const b1 = yt.w1[dy];
    for (let c = 0; c < 3; c++) {
      const p = planeOf[c];
      k.vrow(rowA + c * dw * 4, rowB + c * dw * 4, b0, b1, means[p], dw, outOff + (p * plane + dy * dw) * 4);
    }
  }
  out.set(new Float32Array(buf, outOff, 3 * plane));
  return out;
}

const clamp = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);
