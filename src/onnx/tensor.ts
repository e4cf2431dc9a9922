/**
 * Tensor storage for ONNX initializers and constants.
 *
 * ONNX `raw_data` arrives as a view into the file buffer at an arbitrary byte offset, so a
 * Float32Array cannot always be laid over it. A Tensor therefore keeps the raw little-endian bytes
 * and materialises typed values only when asked (`data`): as a zero-copy view when the offset is
 * aligned, otherwise with exactly one copy. Analysis never touches values, so it copies nothing.
 */
import { DataType } from './proto.js';

export type DType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'bool' | 'string' | 'complex64' | 'complex128' | 'undefined';

export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

const BY_CODE: Record<number, DType> = {
  [DataType.UNDEFINED]: 'undefined', [DataType.FLOAT]: 'float32', [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8', [DataType.UINT16]: 'uint16', [DataType.INT16]: 'int16',
  [DataType.INT32]: 'int32', [DataType.INT64]: 'int64', [DataType.STRING]: 'string',
  [DataType.BOOL]: 'bool', [DataType.FLOAT16]: 'float16', [DataType.DOUBLE]: 'float64',
  [DataType.UINT32]: 'uint32', [DataType.UINT64]: 'uint64', [DataType.COMPLEX64]: 'complex64',
  [DataType.COMPLEX128]: 'complex128', [DataType.BFLOAT16]: 'bfloat16',
};
const CODE_BY_NAME: Record<string, number> = Object.fromEntries(Object.entries(BY_CODE).map(([k, v]) => [v, Number(k)]));

export function dtypeFromCode(code: number): DType {
  return BY_CODE[code] ?? 'undefined';
}
export function dtypeCode(d: DType): number {
  return CODE_BY_NAME[d] ?? 0;
}

/** Bytes per element (0 for strings). */
export function dtypeSize(d: DType): number {
  switch (d) {
    case 'float64': case 'int64': case 'uint64': case 'complex64': return 8;
    case 'complex128': return 16;
    case 'float32': case 'int32': case 'uint32': return 4;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16': return 2;
    case 'int8': case 'uint8': case 'bool': return 1;
    default: return 0;
  }
}

function makeView(dtype: DType, buf: ArrayBufferLike, byteOffset: number, length: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(buf, byteOffset, length);
    case 'float64': return new Float64Array(buf, byteOffset, length);
    case 'int8': return new Int8Array(buf, byteOffset, length);
    case 'uint8': case 'bool': return new Uint8Array(buf, byteOffset, length);
    case 'int16': return new Int16Array(buf, byteOffset, length);
    case 'uint16': case 'float16': case 'bfloat16': return new Uint16Array(buf, byteOffset, length);
    case 'int32': return new Int32Array(buf, byteOffset, length);
    case 'uint32': return new Uint32Array(buf, byteOffset, length);
    case 'int64': return new BigInt64Array(buf, byteOffset, length);
    case 'uint64': return new BigUint64Array(buf, byteOffset, length);
    default: throw new Error(`no typed array for dtype ${dtype}`);
  }
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export class Tensor {
  name: string;
  dtype: DType;
  dims: number[];
  /** Raw little-endian bytes (possibly an unaligned view into the model file). */
  private raw?: Uint8Array;
  private values?: TypedArray;
  /** String tensors keep their bytes here. */
  strings?: Uint8Array[];
  /** Where the bytes came from when stored outside the model file (kept for lossless saving). */
  external?: { location: string; offset?: number; length?: number; extra: { key: string; value: string }[] };
  docString?: string;

  constructor(name: string, dtype: DType, dims: number[], storage: { raw?: Uint8Array; values?: TypedArray; strings?: Uint8Array[] }) {
    this.name = name;
    this.dtype = dtype;
    this.dims = dims;
    this.raw = storage.raw;
    this.values = storage.values;
    this.strings = storage.strings;
  }

  static fromValues(name: string, dtype: DType, dims: number[], values: TypedArray): Tensor {
    return new Tensor(name, dtype, dims, { values });
  }
  static float32(name: string, dims: number[], values: ArrayLike<number>): Tensor {
    return new Tensor(name, 'float32', dims, { values: Float32Array.from(values) });
  }
  static int64(name: string, dims: number[], values: ArrayLike<number | bigint>): Tensor {
    const a = new BigInt64Array(values.length);
    for (let i = 0; i < values.length; i++) a[i] = BigInt(values[i]);
    return new Tensor(name, 'int64', dims, { values: a });
  }

  get size(): number {
    return numel(this.dims);
  }
  get byteLength(): number {
    if (this.raw) return this.raw.byteLength;
    if (this.values) return this.values.byteLength;
    return this.size * dtypeSize(this.dtype);
  }
  /** True when the values are held (no external file left unread). */
  get hasData(): boolean {
    return this.raw !== undefined || this.values !== undefined || this.strings !== undefined;
  }

  /** Typed values: a zero-copy view when the raw bytes are aligned, else one copy. */
  get data(): TypedArray {
    if (this.values) return this.values;
    const raw = this.raw;
    if (!raw) throw new Error(`tensor ${this.name} has no data`);
    const es = dtypeSize(this.dtype);
    const n = es ? raw.byteLength / es : 0;
    if (es && raw.byteOffset % es === 0) {
      this.values = makeView(this.dtype, raw.buffer, raw.byteOffset, n);
    } else {
      const copy = new Uint8Array(raw.byteLength);
      copy.set(raw);
      this.values = makeView(this.dtype, copy.buffer, 0, n);
    }
    return this.values;
  }

  /** Little-endian bytes of the values (zero-copy when already raw). */
  get bytes(): Uint8Array {
    if (this.raw) return this.raw;
    const v = this.data;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }

  /** Values as plain numbers (int64 converted; used for shapes and small constants). */
  toNumbers(): number[] {
    const d = this.data;
    const out = new Array<number>(d.length);
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    return out;
  }

  /** Values as float32 (converting float16 and integer types). */
  toFloat32(): Float32Array {
    if (this.dtype === 'float32') return this.data as Float32Array;
    if (this.dtype === 'float16') {
      const h = this.data as Uint16Array;
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]);
      return out;
    }
    return Float32Array.from(this.toNumbers());
  }
}

export function halfToFloat(h: number): number {
  const s = (h & 0x8000) >> 15;
  const e = (h & 0x7c00) >> 10;
  const f = h & 0x03ff;
  let v: number;
  if (e === 0) v = f * 2 ** -24;
  else if (e === 0x1f) v = f ? NaN : Infinity;
  else v = (1 + f / 1024) * 2 ** (e - 15);
  return s ? -v : v;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** float32 -> IEEE half with round-to-nearest-even (as numpy/ncnn do). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  let exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  exp = exp - 127 + 15;
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = sign | (exp << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return half;
}
