/**
 * Small constant values used by shape inference and constant folding.
 *
 * Evaluation only ever runs on shape glue and small constant subgraphs, so values are kept in
 * the simplest numeric form: float types as Float32Array, everything else (int64 shapes, bools,
 * int32...) as Float64Array of exact integers (int64 shape values fit in 2^53; the ±2^63
 * sentinels used by Slice survive as ±9.22e18 and are clamped back when written out).
 */
import { Tensor, floatToHalf, type DType } from '../tensor.js';

export type Dim = number | string;

export interface Val {
  dtype: DType;
  dims: number[];
  data: Float32Array | Float64Array;
}

export function isFloatType(d: DType): boolean {
  return d === 'float32' || d === 'float16' || d === 'bfloat16' || d === 'float64';
}

/** Types we can evaluate on (strings and complex numbers are left alone). */
export function isEvaluableType(d: DType): boolean {
  return d !== 'string' && d !== 'complex64' && d !== 'complex128' && d !== 'undefined';
}

export function size(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function makeVal(dtype: DType, dims: number[], values?: ArrayLike<number>): Val {
  const n = size(dims);
  const data = dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16' ? new Float32Array(n) : new Float64Array(n);
  if (values) {
    if (values.length !== n) throw new Error(`value count ${values.length} does not match shape [${dims}]`);
    if (dtype === 'bool') for (let i = 0; i < n; i++) data[i] = values[i] ? 1 : 0;
    else if (isFloatType(dtype)) data.set(values);
    else for (let i = 0; i < n; i++) data[i] = Math.trunc(values[i]);
  }
  return { dtype, dims, data };
}

export function valFromTensor(t: Tensor): Val {
  if (!isEvaluableType(t.dtype)) throw new Error(`cannot evaluate ${t.dtype} tensor ${t.name}`);
  if (t.dtype === 'float32' || t.dtype === 'float16') return { dtype: t.dtype, dims: [...t.dims], data: t.toFloat32() };
  if (t.dtype === 'bfloat16') {
    const h = t.data as Uint16Array;
    const out = new Float32Array(h.length);
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < h.length; i++) u[i] = h[i] << 16;
    return { dtype: t.dtype, dims: [...t.dims], data: out };
  }
  const d = t.data;
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return { dtype: t.dtype, dims: [...t.dims], data: out };
}

const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;
function toBigInt(v: number): bigint {
  if (v >= 9.2233720368547e18) return I64_MAX;
  if (v <= -9.2233720368547e18) return I64_MIN;
  return BigInt(Math.round(v));
}

export function tensorFromVal(name: string, v: Val): Tensor {
  const n = v.data.length;
  const src = v.data;
  switch (v.dtype) {
    case 'float32': return Tensor.fromValues(name, 'float32', [...v.dims], src instanceof Float32Array ? src : Float32Array.from(src));
    case 'float64': return Tensor.fromValues(name, 'float64', [...v.dims], Float64Array.from(src));
    case 'float16': {
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) h[i] = floatToHalf(src[i]);
      return Tensor.fromValues(name, 'float16', [...v.dims], h);
    }
    case 'bfloat16': {
      const f = Float32Array.from(src);
      const u = new Uint32Array(f.buffer);
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) h[i] = u[i] >>> 16;
      return Tensor.fromValues(name, 'bfloat16', [...v.dims], h);
    }
    case 'int64': {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) a[i] = toBigInt(src[i]);
      return Tensor.fromValues(name, 'int64', [...v.dims], a);
    }
    case 'uint64': {
      const a = new BigUint64Array(n);
      for (let i = 0; i < n; i++) a[i] = BigInt(Math.max(0, Math.round(src[i])));
      return Tensor.fromValues(name, 'uint64', [...v.dims], a);
    }
    case 'int32': return Tensor.fromValues(name, 'int32', [...v.dims], Int32Array.from(src));
    case 'uint32': return Tensor.fromValues(name, 'uint32', [...v.dims], Uint32Array.from(src));
    case 'int16': return Tensor.fromValues(name, 'int16', [...v.dims], Int16Array.from(src));
    case 'uint16': return Tensor.fromValues(name, 'uint16', [...v.dims], Uint16Array.from(src));
    case 'int8': return Tensor.fromValues(name, 'int8', [...v.dims], Int8Array.from(src));
    case 'uint8': case 'bool': return Tensor.fromValues(name, v.dtype, [...v.dims], Uint8Array.from(src));
    default: throw new Error(`cannot store ${v.dtype} value ${name}`);
  }
}

/** Row-major strides. */
export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/**
 * `x` laid out over `n` elements of shape `dims` (numpy broadcasting): its own data when the dims
 * are the same (no copy), one value repeated when it has a single element (the usual scalar
 * operand), else gathered with an odometer, one add per element (a division per axis per element
 * was most of the time evaluating Swin's shifted-window masks at conversion time).
 */
export function broadcastTo(x: Val, dims: readonly number[], n: number): Float32Array | Float64Array {
  if (x.data.length === n && x.dims.length === dims.length) return x.data;
  const out = x.data instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
  if (x.data.length === 1) return out.fill(x.data[0]);
  const rank = dims.length, inStr = strides(x.dims);
  // the input's stride per output axis, 0 where it broadcasts
  const eff = new Array<number>(rank).fill(0);
  for (let i = 0; i < x.dims.length; i++) eff[rank - x.dims.length + i] = x.dims[i] === 1 ? 0 : inStr[i];
  return stridedGather(x.data, dims, 0, eff, out);
}

/**
 * out[o] = data[offset + Σ i_k * step[k]] over the row-major positions (i_0, i_1, ...) of `dims`,
 * walked with an odometer (one add per element, the innermost axis in one run): Transpose (steps =
 * the input strides permuted), Slice (offset = start, steps = strides times the slice steps) and
 * broadcasting (step 0 on a broadcast axis).
 */
export function stridedGather<T extends Float32Array | Float64Array>(data: ArrayLike<number>, dims: readonly number[], offset: number, step: readonly number[], out: T): T {
  const n = out.length, rank = dims.length;
  if (rank === 0) {
    if (n) out[0] = data[offset];
    return out;
  }
  const ctr = new Array<number>(rank).fill(0);
  const last = rank - 1, stepLast = step[last], dimLast = dims[last];
  let cur = offset;
  for (let o = 0; o < n; ) {
    for (let j = 0; j < dimLast; j++, cur += stepLast) out[o++] = data[cur];
    cur -= stepLast * dimLast;
    for (let a = last - 1; a >= 0; a--) {
      cur += step[a];
      if (++ctr[a] < dims[a]) break;
      cur -= step[a] * dims[a];
      ctr[a] = 0;
    }
  }
  return out;
}
