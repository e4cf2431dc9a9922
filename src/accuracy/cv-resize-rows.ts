/**
 * Shared bookkeeping of the INTER_LINEAR resizes (cv-resize.ts in JS, cv-resize-wasm.ts on the
 * WebAssembly kernels): the per-axis source taps exactly as OpenCV computes them, and the two-slot
 * cache of horizontally resized source rows.
 */

export interface Taps {
  ofs: Int32Array; // first source index (pixel units)
  w0: Float32Array;
  w1: Float32Array;
  /** index of the first output position whose right/bottom tap falls outside (uses one pixel) */
  max: number;
}

/** Source taps for one axis, exactly as resizeGeneric_ computes xofs/alpha and yofs/beta. */
export function taps(dstLen: number, srcLen: number, scale: number, clampWeights: boolean, floatCoord: boolean): Taps {
  const ofs = new Int32Array(dstLen);
  const w0 = new Float32Array(dstLen);
  const w1 = new Float32Array(dstLen);
  let max = dstLen;
  for (let d = 0; d < dstLen; d++) {
    // the 8-bit path rounds the source coordinate to float32 before taking its fraction; the
    // float path keeps it in double (measured on OpenCV 4.x: weights of 0.1/0.9 at x≈961 are exact)
    let f = (d + 0.5) * scale - 0.5;
    if (floatCoord) f = Math.fround(f);
    let s = Math.floor(f);
    f = floatCoord ? Math.fround(f - s) : f - s;
    if (clampWeights) {
      if (s < 0) {
        f = 0;
        s = 0;
      }
      if (s + 1 >= srcLen) {
        max = Math.min(max, d);
        if (s >= srcLen - 1) {
          f = 0;
          s = srcLen - 1;
        }
      }
    }
    ofs[d] = s;
    w0[d] = Math.fround(1 - f);
    w1[d] = f;
  }
  return { ofs, w0, w1, max };
}

const clampIdx = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

/** Per-pixel taps of a 3-channel row: byte/element offsets of both source pixels and their weights. */
export function pixelTaps3(xt: Taps): { x0: Int32Array; x1: Int32Array; a0: Float32Array; a1: Float32Array } {
  const dw = xt.ofs.length;
  const x0 = new Int32Array(dw), x1 = new Int32Array(dw), a1 = new Float32Array(dw);
  for (let dx = 0; dx < dw; dx++) {
    x0[dx] = xt.ofs[dx] * 3;
    // past `max` OpenCV reads one pixel with weight 1: the second tap repeats the first, weight 0
    x1[dx] = dx < xt.max ? x0[dx] + 3 : x0[dx];
    a1[dx] = dx < xt.max ? xt.w1[dx] : 0;
  }
  return { x0, x1, a0: xt.w0, a1 };
}

/**
 * Two-slot cache of horizontally resized rows: source rows are visited in increasing order, so
 * each is resized once. `T` is whatever holds a row (a typed array, or an address in wasm memory).
 */
export class RowCache<T> {
  private keys = [-1, -1];
  private nextSlot = 0;
  constructor(private rows: [T, T], private fill: (sy: number, out: T) => void) {}
  get(sy: number, keep: number): T {
    if (this.keys[0] === sy) return this.rows[0];
    if (this.keys[1] === sy) return this.rows[1];
    // evict the slot not holding `keep`
    const slot = this.keys[0] === keep ? 1 : this.keys[1] === keep ? 0 : this.nextSlot;
    this.nextSlot = 1 - slot;
    this.fill(sy, this.rows[slot]);
    this.keys[slot] = sy;
    return this.rows[slot];
  }
}

/**
 * The vertical pass's walk: for each output row dy, the two horizontally resized source rows it
 * blends (indices clamped to the image, the second kept while the first is fetched) and their
 * float32 weights.
 */
export function forEachRowPair<T>(yt: Taps, sh: number, rows: RowCache<T>, emit: (dy: number, r0: T, r1: T, b0: number, b1: number) => void): void {
  for (let dy = 0; dy < yt.ofs.length; dy++) {
    const s0 = clampIdx(yt.ofs[dy], sh);
    const r0 = rows.get(s0, -1);
    const r1 = rows.get(clampIdx(yt.ofs[dy] + 1, sh), s0);
    emit(dy, r0, r1, yt.w0[dy], yt.w1[dy]);
  }
}
