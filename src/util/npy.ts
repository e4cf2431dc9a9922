/** Minimal .npy reader/writer (v1-3, little-endian f4/f8/i4/i8/u1, C order) for reference data. */
import { readFileOrThrow } from './fs.js';
import { FdkError } from './errors.js';

export interface NpyArray {
  dtype: '<f4' | '<f8' | '<i4' | '<i8' | '|u1' | '<f2';
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;
}

export function parseNpy(buf: Uint8Array, file = '<npy>'): NpyArray {
  const magic = Buffer.from(buf.subarray(0, 6)).toString('latin1');
  if (magic !== '\x93NUMPY') throw new FdkError('not a .npy file (bad magic)', { file });
  const major = buf[6];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = Buffer.from(buf.subarray(hstart, hstart + hlen)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeStr.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (fortran) throw new FdkError('fortran-order .npy is not supported', { file });
  const n = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const bytes = Uint8Array.prototype.slice.call(buf, off); // a real copy (Buffer#slice is a view): aligned typed views
  const ab = bytes.buffer;
  let data: NpyArray['data'];
  switch (descr) {
    case '<f4': data = new Float32Array(ab, 0, n); break;
    case '<f8': data = new Float64Array(ab, 0, n); break;
    case '<i4': data = new Int32Array(ab, 0, n); break;
    case '<i8': data = new BigInt64Array(ab, 0, n); break;
    case '<f2': data = new Uint16Array(ab, 0, n); break;
    case '|u1': case '|b1': data = new Uint8Array(ab, 0, n); break;
    default: throw new FdkError(`unsupported .npy dtype ${descr}`, { file });
  }
  return { dtype: descr as NpyArray['dtype'], shape, data };
}

export function readNpy(path: string): NpyArray {
  return parseNpy(readFileOrThrow(path), path);
}

/** Values as float32 whatever the stored dtype. */
export function readNpyFloat32(path: string): { shape: number[]; data: Float32Array } {
  const a = readNpy(path);
  if (a.data instanceof Float32Array) return { shape: a.shape, data: a.data };
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(a.data[i]);
  return { shape: a.shape, data: out };
}

