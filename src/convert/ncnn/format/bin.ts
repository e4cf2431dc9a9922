/**
 * The ncnn `.bin`: all weight buffers concatenated in layer order, each padded to 4 bytes.
 * Buffers that ncnn loads with ModelBin type 0 start with a storage tag (0 = fp32,
 * 0x01306B47 = fp16); type-1 buffers are raw fp32. See `WeightBlob.tagged`.
 */
import { FdkError } from '../../../util/errors.js';
import { floatToHalf as float32ToFloat16Bits, halfToFloat as float16BitsToFloat32 } from '../../../onnx/tensor.js';
import type { NcnnLayer, ParamDict, WeightBlob } from './param.js';
import { layerRecord, paramsOf } from '../layers/index.js';

export const TAG_FP32 = 0;
export const TAG_FP16 = 0x01306b47;
/** int8 values, one byte each (ncnn2int8's output). */
export const TAG_INT8 = 0x000d4b38;
/** fp32 values that carry an extra scaling elsewhere; stored raw. */
export const TAG_FP32_SCALED = 0x0002c056;

export interface BinOptions {
  /** Store tagged (type-0) weights as fp16. Untagged ones stay fp32: ncnn reads them raw. */
  fp16?: boolean;
}

/** Copies `count` little-endian float32 values (Buffer.slice would share memory, and offsets may be unaligned). */
function copyFloats(bytes: Uint8Array, off: number, count: number): Float32Array {
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes.subarray(off, off + count * 4));
  return out;
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Encodes one weight buffer (tag + data + padding) as one new buffer. */
export function encodeWeight(w: WeightBlob, opts: BinOptions = {}): Uint8Array {
  const parts = encodeWeightChunks(w, opts);
  return parts.length === 1 && parts[0].buffer !== w.data.buffer ? parts[0] : Buffer.concat(parts);
}

/**
 * One weight buffer as chunks: fp32 data is not copied (a view of the weight's own values, after
 * a 4-byte tag chunk when tagged), so a 300 MB model is not held twice while it is written.
 */
export function encodeWeightChunks(w: WeightBlob, opts: BinOptions = {}): Uint8Array[] {
  const view = () => new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength);
  if (!w.tagged) return [view()];
  if (!w.storage && !opts.fp16) {
    const tag = new Uint8Array(4);
    new DataView(tag.buffer).setUint32(0, TAG_FP32, true);
    return [tag, view()];
  }
  return [encodeTagged(w, opts)];
}

function encodeTagged(w: WeightBlob, opts: BinOptions): Uint8Array {
  if (w.storage === 'int8') {
    const n = w.data.length;
    const out = new Uint8Array(4 + n + pad4(n));
    new DataView(out.buffer).setUint32(0, TAG_INT8, true);
    new Int8Array(out.buffer, 4, n).set(w.data);
    return out;
  }
  if (opts.fp16) {
    const n = w.data.length;
    const out = new Uint8Array(4 + n * 2 + pad4(n * 2));
    const dv = new DataView(out.buffer);
    dv.setUint32(0, TAG_FP16, true);
    for (let i = 0; i < n; i++) dv.setUint16(4 + i * 2, float32ToFloat16Bits(w.data[i]), true);
    return out;
  }
  const out = new Uint8Array(4 + w.data.byteLength);
  new DataView(out.buffer).setUint32(0, TAG_FP32, true);
  out.set(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength), 4);
  return out;
}

/**
 * The .bin as a list of chunks (written without concatenating the whole file in memory). Each
 * layer's buffers must be the ones its record says ncnn reads (count and tag), since ncnn would
 * read a wrong-sized buffer silently and shift every later weight; a layer type without a record
 * is written as it is (test/ncnn-layers.test.ts keeps the op table's types recorded).
 */
export function writeBin(layers: NcnnLayer[], opts: BinOptions = {}): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (const l of layers) {
    const layout = weightLayout(l.type, l.params);
    const have = l.weights.map((w) => [w.data.length, w.tagged]);
    if (layout && JSON.stringify(layout) !== JSON.stringify(have))
      throw new Error(`layer '${l.name}' (${l.type}) has weight buffers ${JSON.stringify(have)}, but ncnn reads ${JSON.stringify(layout)} for its params`);
    for (const w of l.weights) chunks.push(...encodeWeightChunks(w, opts));
  }
  return chunks;
}

export function binByteLength(chunks: Uint8Array[]): number {
  return chunks.reduce((s, c) => s + c.byteLength, 0);
}

// ---------------------------------------------------------------------------------------------
// reader

/**
 * What a layer loads from the .bin, in order: [element count, tagged], from its record in
 * ../layers (undefined for a type fdk has no record of).
 */
export function weightLayout(type: string, p: ParamDict): [number, boolean][] | undefined {
  const r = layerRecord(type);
  if (!r) return undefined;
  return (r.weights?.(paramsOf(r, p)) ?? []).map((w) => [w.count, w.tagged]);
}

/**
 * Splits a .bin into each layer's weight buffers, checking tags and that the file is consumed
 * exactly. Throws FdkError naming `file` on truncation or an unknown tag.
 */
export function readBin(bytes: Uint8Array, layers: { type: string; name: string; params: ParamDict }[], file = '.bin'): WeightBlob[][] {
  return walkBin(bytes, layers, file, true);
}

/**
 * The checks of readBin on a .bin given as chunks (as writeBin makes it), without copying the
 * weights: every layer's buffers are found, tagged and counted, and the bytes are used up exactly.
 */
export function checkBinChunks(chunks: Uint8Array[], layers: { type: string; name: string; params: ParamDict }[], file = '.bin'): void {
  walkBin(chunks.length === 1 ? chunks[0] : chunks, layers, file, false);
}

/** Byte access over one buffer or a list of chunks (offsets into their concatenation). */
function byteSource(src: Uint8Array | Uint8Array[]): { length: number; u32: (off: number) => number } {
  if (!Array.isArray(src)) {
    const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
    return { length: src.byteLength, u32: (off) => dv.getUint32(off, true) };
  }
  const starts: number[] = [];
  let total = 0;
  for (const c of src) {
    starts.push(total);
    total += c.byteLength;
  }
  const byteAt = (off: number) => {
    let lo = 0, hi = src.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= off) lo = mid;
      else hi = mid - 1;
    }
    while (src[lo].byteLength === 0 || off - starts[lo] >= src[lo].byteLength) lo++;
    return src[lo][off - starts[lo]];
  };
  return { length: total, u32: (off) => (byteAt(off) | (byteAt(off + 1) << 8) | (byteAt(off + 2) << 16) | (byteAt(off + 3) << 24)) >>> 0 };
}

const NO_VALUES = new Float32Array(0);

function walkBin(src: Uint8Array | Uint8Array[], layers: { type: string; name: string; params: ParamDict }[], file: string, values: boolean): WeightBlob[][] {
  const { length, u32 } = byteSource(src);
  const bytes = Array.isArray(src) ? new Uint8Array(0) : src; // values are read from one buffer only
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  const need = (n: number, what: string) => {
    if (off + n > length) throw new FdkError(`truncated: ${what} needs ${n} bytes at offset ${off}, file has ${length}`, { file });
  };
  const out: WeightBlob[][] = [];
  for (const l of layers) {
    let layout: [number, boolean][] | undefined;
    try {
      layout = weightLayout(l.type, l.params);
    } catch (e) {
      throw new FdkError(`layer '${l.name}' (${l.type}): ${(e as Error).message}`, { file });
    }
    if (!layout) throw new FdkError(`cannot read weights of layer type ${l.type} (layer '${l.name}'): fdk has no record of this layer type`, { file });
    const blobs: WeightBlob[] = [];
    for (const [count, tagged] of layout) {
      const what = `layer '${l.name}' (${l.type})`;
      // counts come from .param values: a negative or fractional one would make a typed array throw a RangeError
      if (!Number.isSafeInteger(count) || count < 0) throw new FdkError(`${what}: weight count ${count} from the .param is not a non-negative integer`, { file });
      if (!tagged) {
        need(count * 4, what);
        blobs.push({ data: values ? copyFloats(bytes, off, count) : NO_VALUES, tagged });
        off += count * 4;
        continue;
      }
      // ModelBin type 0 (src/modelbin.cpp): a 4-byte tag chooses the storage
      need(4, what);
      const tag = u32(off);
      off += 4;
      if (!values) {
        // the same sizes as below, without reading the values
        const [needed, padding] = tag === TAG_FP16 ? [count * 2, pad4(count * 2)] : tag === TAG_INT8 ? [count, pad4(count)] : tag === TAG_FP32 || tag === TAG_FP32_SCALED ? [count * 4, 0] : [256 * 4 + count, pad4(count)];
        need(needed, what);
        const size = needed + padding;
        blobs.push({ data: NO_VALUES, tagged });
        off += size;
        continue;
      }
      if (tag === TAG_FP16) {
        need(count * 2, what);
        const data = new Float32Array(count);
        for (let i = 0; i < count; i++) data[i] = float16BitsToFloat32(dv.getUint16(off + i * 2, true));
        blobs.push({ data, tagged, storage: 'fp16' });
        off += count * 2 + pad4(count * 2);
      } else if (tag === TAG_INT8) {
        need(count, what);
        blobs.push({ data: Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset + off, count)), tagged, storage: 'int8' });
        off += count + pad4(count);
      } else if (tag === TAG_FP32 || tag === TAG_FP32_SCALED) {
        need(count * 4, what);
        blobs.push({ data: copyFloats(bytes, off, count), tagged });
        off += count * 4;
      } else {
        // any other non-zero tag: a 256-entry float table followed by one uint8 index per value
        need(256 * 4 + count, what);
        const table = copyFloats(bytes, off, 256);
        off += 256 * 4;
        const data = new Float32Array(count);
        for (let i = 0; i < count; i++) data[i] = table[bytes[off + i]];
        blobs.push({ data, tagged });
        off += count + pad4(count);
      }
    }
    out.push(blobs);
  }
  if (off !== length) throw new FdkError(`${length - off} bytes left after the last weight: .bin does not match the .param`, { file });
  return out;
}
