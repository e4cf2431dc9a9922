/**
 * A small reader for MATLAB Level 5 .mat files: enough for the WIDER FACE ground truth
 * (cell arrays of cell arrays, char arrays, numeric matrices, zlib-compressed elements).
 *
 * Why our own: the one npm reader (mat-for-js) is GPL and single-release; the format subset we
 * need is short. Sparse, object and function-handle classes are reported as unsupported.
 * Format reference: MathWorks "MAT-File Format" (Level 5), read to understand, not copied.
 */
import { constants as zlibConstants, inflateSync } from 'node:zlib';
import { FdkError } from '../../util/errors.js';
import { readFileOrThrow } from '../../util/fs.js';

export interface MatNumeric {
  kind: 'numeric';
  /** MATLAB class name: double, single, int8 ... uint64, logical. */
  cls: string;
  dims: number[];
  /** Real part, column-major, as float64 (int64 values beyond 2^53 lose precision; WIDER has none). */
  data: Float64Array;
}
export interface MatChar {
  kind: 'char';
  dims: number[];
  /** Rows of the char matrix (a 1×N char array is one row). */
  rows: string[];
}
export interface MatCell {
  kind: 'cell';
  dims: number[];
  /** Column-major elements. */
  cells: MatValue[];
}
export interface MatStruct {
  kind: 'struct';
  dims: number[];
  fields: string[];
  /** One record per element, column-major. */
  elements: Record<string, MatValue>[];
}
export type MatValue = MatNumeric | MatChar | MatCell | MatStruct;

// Data element types (miXXX) and array classes (mxXXX) of the Level 5 format.
const mi = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16, UTF16: 17, UTF32: 18 } as const;
const MX_CELL = 1, MX_STRUCT = 2, MX_OBJECT = 3, MX_CHAR = 4, MX_SPARSE = 5;
const NUMERIC_CLASS: Record<number, string> = {
  6: 'double', 7: 'single', 8: 'int8', 9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64',
};
const ELEMENT_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4 };

/** Thrown inside the parser; turned into an FdkError naming the file at the top. */
class MatFormatError extends Error {}

interface Element {
  type: number;
  /** Payload bytes (already inflated for miCOMPRESSED). */
  body: Uint8Array;
}

/**
 * Inflated bytes one file may expand to: 64 x its own size, at least 16 MiB. The WIDER files
 * inflate about 7x in total (16x for the largest element); zlib itself allows ~1000x, so without a
 * budget a crafted 400 kB file could become ~400 MB of payload and 8x that as float64 values.
 */
export const inflateBudget = (fileBytes: number) => Math.max(16 * 2 ** 20, 64 * fileBytes);

class Reader {
  /** Inflated bytes still allowed for this file (see inflateBudget). */
  private budget: number;
  constructor(private readonly le: boolean, fileBytes: number) {
    this.budget = inflateBudget(fileBytes);
  }

  /** Reads one data element at `pos` of `buf`; returns it and the position after it (with padding). */
  element(buf: Uint8Array, pos: number): { el: Element; next: number } {
    if (pos + 8 > buf.length) throw new MatFormatError(`truncated data element tag at byte ${pos}`);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const w0 = dv.getUint32(pos, this.le);
    // Small data element: type in the low 16 bits, size in the high 16 bits, payload in the next 4 bytes.
    if (w0 >>> 16 !== 0) {
      const type = w0 & 0xffff;
      const n = w0 >>> 16;
      if (n > 4) throw new MatFormatError(`bad small data element (size ${n}) at byte ${pos}`);
      return { el: { type, body: buf.subarray(pos + 4, pos + 4 + n) }, next: pos + 8 };
    }
    const type = w0;
    const n = dv.getUint32(pos + 4, this.le);
    const start = pos + 8;
    if (start + n > buf.length) throw new MatFormatError(`truncated data element (type ${type}, ${n} bytes) at byte ${pos}`);
    const raw = buf.subarray(start, start + n);
    if (type === mi.COMPRESSED) {
      let inflated: Uint8Array;
      try {
        inflated = inflateSync(raw, { maxOutputLength: Math.max(1, this.budget) });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
          throw new MatFormatError(`compressed element at byte ${pos} inflates beyond ${this.budget} bytes (a file may expand to 64x its size)`);
        throw new MatFormatError(`corrupt compressed element at byte ${pos}: ${(e as Error).message}`);
      }
      this.budget -= inflated.length;
      const inner = this.element(inflated, 0);
      // Compressed elements are not padded to 8 bytes.
      return { el: inner.el, next: start + n };
    }
    return { el: { type, body: raw }, next: start + ((n + 7) & ~7) };
  }

  /** Position after the element at `pos`, without decoding it. */
  afterElement(buf: Uint8Array, pos: number): number {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const type = dv.getUint32(pos, this.le);
    const n = dv.getUint32(pos + 4, this.le);
    return type === mi.COMPRESSED ? pos + 8 + n : pos + 8 + ((n + 7) & ~7);
  }

  /**
   * True when the element at `pos` is a compressed variable whose name `wanted` rejects. Only the
   * head of the zlib stream is inflated to read the name: the WIDER difficulty files carry eight
   * other variables each, and inflating them all was most of the ground-truth load time.
   */
  skippableCompressed(buf: Uint8Array, pos: number, wanted: (name: string) => boolean): boolean {
    if (pos + 8 > buf.length) return false;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (dv.getUint32(pos, this.le) !== mi.COMPRESSED) return false;
    const n = dv.getUint32(pos + 4, this.le);
    if (pos + 8 + n > buf.length) return false; // let the full path report the truncation
    let head: Uint8Array;
    try {
      head = inflateSync(buf.subarray(pos + 8, pos + 8 + Math.min(n, 1024)), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch {
      return false;
    }
    try {
      const hdv = new DataView(head.buffer, head.byteOffset, head.byteLength);
      if (head.length < 8 || hdv.getUint32(0, this.le) !== mi.MATRIX) return false;
      let p = 8;
      for (let i = 0; i < 2; i++) p = this.element(head, p).next; // array flags, dimensions
      const name = this.text(this.element(head, p).el);
      return !wanted(name);
    } catch {
      return false; // head too short to hold the name: decode fully
    }
  }

  /** Reads all sub-elements packed in `body`. */
  subElements(body: Uint8Array): Element[] {
    const out: Element[] = [];
    let pos = 0;
    while (pos < body.length) {
      const { el, next } = this.element(body, pos);
      out.push(el);
      pos = next;
    }
    return out;
  }

  numbers(el: Element): Float64Array {
    const size = ELEMENT_SIZE[el.type];
    if (!size) throw new MatFormatError(`unsupported numeric data type ${el.type}`);
    if (el.body.length % size) throw new MatFormatError(`data length ${el.body.length} is not a multiple of ${size}`);
    const n = el.body.length / size;
    const dv = new DataView(el.body.buffer, el.body.byteOffset, el.body.byteLength);
    const out = new Float64Array(n);
    const le = this.le;
    switch (el.type) {
      case mi.INT8: for (let i = 0; i < n; i++) out[i] = dv.getInt8(i); break;
      case mi.UINT8: case mi.UTF8: for (let i = 0; i < n; i++) out[i] = dv.getUint8(i); break;
      case mi.INT16: for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, le); break;
      case mi.UINT16: case mi.UTF16: for (let i = 0; i < n; i++) out[i] = dv.getUint16(i * 2, le); break;
      case mi.INT32: for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, le); break;
      case mi.UINT32: case mi.UTF32: for (let i = 0; i < n; i++) out[i] = dv.getUint32(i * 4, le); break;
      case mi.SINGLE: for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, le); break;
      case mi.DOUBLE: for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, le); break;
      case mi.INT64: for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(i * 8, le)); break;
      case mi.UINT64: for (let i = 0; i < n; i++) out[i] = Number(dv.getBigUint64(i * 8, le)); break;
    }
    return out;
  }

  text(el: Element): string {
    if (el.type === mi.INT8 || el.type === mi.UINT8) return Buffer.from(el.body).toString('latin1');
    if (el.type === mi.UTF8) return Buffer.from(el.body).toString('utf8');
    return String.fromCodePoint(...this.numbers(el));
  }

  /** Decodes a miMATRIX element body into a value (its name is returned beside it). */
  matrix(body: Uint8Array, wanted?: (name: string) => boolean): { name: string; value: MatValue | undefined } {
    // An empty miMATRIX (0 bytes) stands for an empty double array, e.g. an empty cell entry.
    if (body.length === 0) return { name: '', value: { kind: 'numeric', cls: 'double', dims: [0, 0], data: new Float64Array(0) } };
    let pos = 0;
    const next = (): Element => {
      if (pos >= body.length) throw new MatFormatError('matrix element ends early');
      const r = this.element(body, pos);
      pos = r.next;
      return r.el;
    };
    const flagsEl = next();
    if (flagsEl.type !== mi.UINT32 || flagsEl.body.length < 8) throw new MatFormatError('matrix element without array flags');
    const flags = new DataView(flagsEl.body.buffer, flagsEl.body.byteOffset, 8).getUint32(0, this.le);
    const cls = flags & 0xff;
    const isComplex = (flags & 0x800) !== 0;
    const isLogical = (flags & 0x200) !== 0;
    if (cls === MX_SPARSE) throw new MatFormatError('sparse arrays are not supported');
    if (cls === MX_OBJECT || cls > 15) throw new MatFormatError(`unsupported array class ${cls}`);
    const dims = Array.from(this.numbers(next()));
    const name = this.text(next());
    // Top-level variables nobody asked for are skipped before their (possibly large) body is decoded.
    if (wanted && !wanted(name)) return { name, value: undefined };
    const count = checkedCount(dims, body.length, name);

    if (cls === MX_CELL) {
      const cells: MatValue[] = [];
      for (let i = 0; i < count; i++) {
        const el = next();
        if (el.type !== mi.MATRIX) throw new MatFormatError(`cell element ${i} is not a matrix`);
        cells.push(this.matrix(el.body).value!);
      }
      return { name, value: { kind: 'cell', dims, cells } };
    }
    if (cls === MX_STRUCT) {
      const lenEl = next();
      const fieldLen = this.numbers(lenEl)[0];
      const namesRaw = next().body;
      const fields: string[] = [];
      for (let off = 0; off + fieldLen <= namesRaw.length && fieldLen > 0; off += fieldLen) {
        const s = Buffer.from(namesRaw.subarray(off, off + fieldLen)).toString('latin1');
        fields.push(s.replace(/\0.*$/s, ''));
      }
      const elements: Record<string, MatValue>[] = [];
      for (let i = 0; i < count; i++) {
        const rec: Record<string, MatValue> = {};
        for (const f of fields) {
          const el = next();
          if (el.type !== mi.MATRIX) throw new MatFormatError(`struct field ${f} is not a matrix`);
          rec[f] = this.matrix(el.body).value!;
        }
        elements.push(rec);
      }
      return { name, value: { kind: 'struct', dims, fields, elements } };
    }
    if (cls === MX_CHAR) {
      const codes = count === 0 ? new Float64Array(0) : this.numbers(next());
      if (codes.length !== count) throw new MatFormatError(`char array '${name}' has ${codes.length} characters, dims say ${count}`);
      // Column-major: row r is codes[r], codes[r + nrows], ...
      const nrows = dims[0] ?? 0;
      const ncols = nrows ? count / nrows : 0;
      const rows: string[] = [];
      for (let r = 0; r < nrows; r++) {
        let s = '';
        for (let c = 0; c < ncols; c++) s += String.fromCodePoint(codes[r + c * nrows]);
        rows.push(s);
      }
      return { name, value: { kind: 'char', dims, rows } };
    }
    const clsName = isLogical ? 'logical' : NUMERIC_CLASS[cls];
    if (!clsName) throw new MatFormatError(`unsupported array class ${cls}`);
    const data = count === 0 && pos >= body.length ? new Float64Array(0) : this.numbers(next());
    if (data.length !== count) throw new MatFormatError(`array '${name}' has ${data.length} values, dims say ${count}`);
    if (isComplex) next(); // imaginary part: read past it, WIDER has none
    return { name, value: { kind: 'numeric', cls: clsName, dims, data } };
  }
}

/**
 * The element count of `dims`, checked against the bytes of the matrix element that holds it: every
 * element of any class takes at least one byte, so neither a dimension nor the count can exceed the
 * body length. Without this, a crafted 5 x 0 char array of 2^31 rows, or a field-less struct of
 * 2^31 elements, would allocate per element from a few bytes of file.
 */
function checkedCount(dims: number[], bodyBytes: number, name: string): number {
  const what = name ? `array '${name}'` : 'an array';
  if (dims.length < 2) throw new MatFormatError(`${what} has ${dims.length} dimension(s), expected at least 2`);
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new MatFormatError(`${what} has dimension ${d}, expected a non-negative integer`);
    if (d > bodyBytes) throw new MatFormatError(`${what} has dimension ${d}, more than its ${bodyBytes} bytes can hold`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > bodyBytes) throw new MatFormatError(`${what} has ${dims.join('x')} = ${count} elements, more than its ${bodyBytes} bytes can hold`);
  return count;
}

/** Parses the bytes of a Level 5 MAT-file into its named top-level variables. */
export function decodeMat(bytes: Uint8Array, file: string, opts: { only?: string[] } = {}): Map<string, MatValue> {
  const only = opts.only ? new Set(opts.only) : undefined;
  const wanted = only ? (n: string) => only.has(n) : undefined;
  if (bytes.length < 128) throw new FdkError('not a MATLAB v5 file (shorter than the 128-byte header)', { file });
  const head = Buffer.from(bytes.subarray(0, 116)).toString('latin1');
  const endian = Buffer.from(bytes.subarray(126, 128)).toString('latin1');
  if (endian !== 'IM' && endian !== 'MI') {
    // v7.3 files are HDF5 containers and say so in their text header.
    const hint = /MATLAB 7\.3/.test(head) ? ' (a v7.3/HDF5 file; save with -v7 or -v6)' : '';
    throw new FdkError(`not a MATLAB v5 file${hint}`, { file });
  }
  const le = endian === 'IM';
  const reader = new Reader(le, bytes.length);
  const vars = new Map<string, MatValue>();
  let pos = 128;
  try {
    while (pos < bytes.length) {
      // Trailing zero padding after the last element is tolerated.
      if (bytes.length - pos < 8) break;
      if (wanted && reader.skippableCompressed(bytes, pos, wanted)) {
        pos = reader.afterElement(bytes, pos);
        continue;
      }
      const { el, next } = reader.element(bytes, pos);
      pos = next;
      if (el.type !== mi.MATRIX) continue;
      const { name, value } = reader.matrix(el.body, wanted);
      if (value) vars.set(name, value);
    }
  } catch (e) {
    if (e instanceof MatFormatError) throw new FdkError(`corrupt MATLAB v5 file: ${e.message}`, { file });
    if (e instanceof RangeError) throw new FdkError(`corrupt MATLAB v5 file: ${e.message}`, { file });
    throw e;
  }
  return vars;
}

/** Reads a .mat file; `only` limits decoding to the named top-level variables (others are skipped). */
export function readMat(path: string, opts: { only?: string[] } = {}): Map<string, MatValue> {
  return decodeMat(readFileOrThrow(path), path, opts);
}
