/**
 * Minimal ZIP reader for torch.save archives (torch >= 1.6).
 *
 * torch writes entries uncompressed ("stored") and pads the local headers' extra field so that
 * tensor data is 64-byte aligned; it never needs zip64 for small models. We read the central
 * directory, then each local header (whose extra field length differs from the central one), and
 * return views into the file buffer. Deflated entries are inflated with node:zlib in case a user
 * re-zipped the archive.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export class ZipError extends Error {}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export function isZip(buf: Uint8Array): boolean {
  return buf.byteLength >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private dv: DataView;

  constructor(private buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const eocd = this.findEocd();
    const count = this.dv.getUint16(eocd + 10, true);
    const cdSize = this.dv.getUint32(eocd + 12, true);
    const cdOffset = this.dv.getUint32(eocd + 16, true);
    if (cdOffset === 0xffffffff || count === 0xffff) throw new ZipError('zip64 archives are not supported');
    if (cdOffset + cdSize > buf.byteLength) throw new ZipError('truncated zip: central directory runs past the end of the file');
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > buf.byteLength || this.dv.getUint32(p, true) !== 0x02014b50) throw new ZipError(`corrupt zip: bad central directory entry ${i}`);
      const method = this.dv.getUint16(p + 10, true);
      const compressedSize = this.dv.getUint32(p + 20, true);
      const size = this.dv.getUint32(p + 24, true);
      const nameLen = this.dv.getUint16(p + 28, true);
      const extraLen = this.dv.getUint16(p + 30, true);
      const commentLen = this.dv.getUint16(p + 32, true);
      const localHeaderOffset = this.dv.getUint32(p + 42, true);
      const name = Buffer.from(buf.subarray(p + 46, p + 46 + nameLen)).toString('utf8');
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  private findEocd(): number {
    const min = Math.max(0, this.buf.byteLength - 22 - 0xffff);
    for (let p = this.buf.byteLength - 22; p >= min; p--) {
      if (this.dv.getUint32(p, true) === 0x06054b50) return p;
    }
    throw new ZipError('truncated or corrupt zip: no end-of-central-directory record');
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Bytes of one entry (a view for stored entries). `maxBytes` refuses an entry that is (or
   * inflates to) more than that, before any memory is spent on it: a small zip can declare a
   * storage of gigabytes (issue #15, item 11).
   */
  read(name: string, maxBytes = Number.MAX_SAFE_INTEGER): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new ZipError(`zip entry '${name}' is missing`);
    if (e.size > maxBytes) throw new ZipError(`zip entry '${name}' is ${e.size} bytes, more than the ${maxBytes} it may hold`);
    const p = e.localHeaderOffset;
    if (p + 30 > this.buf.byteLength || this.dv.getUint32(p, true) !== 0x04034b50) throw new ZipError(`corrupt zip: bad local header for '${name}'`);
    const start = p + 30 + this.dv.getUint16(p + 26, true) + this.dv.getUint16(p + 28, true);
    const end = start + e.compressedSize;
    if (end > this.buf.byteLength) throw new ZipError(`truncated zip: entry '${name}' runs past the end of the file`);
    const raw = this.buf.subarray(start, end);
    if (e.method === 0) return raw;
    if (e.method === 8) {
      try {
        return inflateRawSync(raw, { maxOutputLength: Math.max(1, Math.min(maxBytes, 2 ** 31 - 1)) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ZipError(`zip entry '${name}' inflates to more than the ${maxBytes} bytes it may hold`);
        throw new ZipError(`corrupt zip: cannot inflate '${name}': ${(err as Error).message}`);
      }
    }
    throw new ZipError(`zip entry '${name}' uses unsupported compression method ${e.method}`);
  }
}

/**
 * Writes a ZIP of stored entries, data 64-byte aligned like torch's writer (used by tests to build
 * torch-style archives). `deflate` compresses instead, as a re-zipped archive would be.
 */
export function writeStoredZip(files: { name: string; data: Uint8Array }[], opts: { align?: number; deflate?: boolean } = {}): Uint8Array {
  const align = opts.align ?? 64;
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    // pad the extra field so data starts on an `align` boundary, like torch's writer
    const base = offset + 30 + name.length;
    let extraLen = (align - (base % align)) % align;
    if (extraLen > 0 && extraLen < 4) extraLen += align;
    const extra = new Uint8Array(extraLen);
    if (extraLen) {
      const edv = new DataView(extra.buffer);
      edv.setUint16(0, 0x4654, true); // 'FT' padding id, as torch uses
      edv.setUint16(2, extraLen - 4, true);
    }
    const crc = crc32(f.data);
    const body = opts.deflate ? deflateRawSync(f.data) : f.data;
    const method = opts.deflate ? 8 : 0;
    const lh = new Uint8Array(30);
    const l = new DataView(lh.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true);
    l.setUint16(8, method, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, body.byteLength, true);
    l.setUint32(22, f.data.byteLength, true);
    l.setUint16(26, name.length, true);
    l.setUint16(28, extraLen, true);
    chunks.push(lh, name, extra, body);
    const ch = new Uint8Array(46);
    const c = new DataView(ch.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(10, method, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, body.byteLength, true);
    c.setUint32(24, f.data.byteLength, true);
    c.setUint16(28, name.length, true);
    c.setUint32(42, offset, true);
    central.push(ch, name);
    offset += 30 + name.length + extraLen + body.byteLength;
  }
  const cdSize = central.reduce((a, b) => a + b.byteLength, 0);
  const eocd = new Uint8Array(22);
  const e = new DataView(eocd.buffer);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, files.length, true);
  e.setUint16(10, files.length, true);
  e.setUint32(12, cdSize, true);
  e.setUint32(16, offset, true);
  return Buffer.concat([...chunks, ...central, eocd]);
}

let crcTable: Uint32Array | undefined;
function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
