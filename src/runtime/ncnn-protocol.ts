/**
 * Framing of the ncnn worker protocol (see src/runtime/ncnn-worker/worker.py for the full spec):
 *   u32 LE frame length | u32 LE header length | JSON header | float32 LE tensor payload
 * Tensors are described in header.tensors [{name, dims, bytes}] in payload order. With the
 * shared-memory transport (header.shm = true, see ncnn-shm.ts) the payload is empty and each
 * tensor's meta carries its offset in the shared region instead.
 */
import type { NamedTensor } from './types.js';

export interface WireTensorMeta {
  name: string;
  dims: number[];
  bytes: number;
  /** Worker replies only: the shape of the ncnn Mat (no batch axis). */
  ncnn_dims?: number[];
  /** Shared-memory transport: byte offset of the tensor in the region. */
  offset?: number;
}
export interface Frame {
  header: Record<string, unknown> & { tensors?: WireTensorMeta[] };
  tensors: { name: string; tensor: NamedTensor; ncnnDims?: number[] }[];
}

/** Tensors of a request: by name, or as a list where a name may repeat (NcnnModel.runMany). */
export type WireTensors = Record<string, NamedTensor> | [string, NamedTensor][];
export const wireEntries = (t: WireTensors): [string, NamedTensor][] => (Array.isArray(t) ? t : Object.entries(t));

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A frame whose tensors are already in the shared region: the header only. */
export function encodeHeaderFrame(header: Record<string, unknown>): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32LE(4 + h.byteLength, 0);
  prefix.writeUInt32LE(h.byteLength, 4);
  return Buffer.concat([prefix, h]);
}

export function encodeFrame(header: Record<string, unknown>, tensors: WireTensors = {}): Buffer {
  const metas: WireTensorMeta[] = [];
  const chunks: Buffer[] = [];
  for (const [name, t] of wireEntries(tensors)) {
    if (!littleEndian) throw new Error('big-endian hosts are not supported by the ncnn worker protocol');
    const b = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    metas.push({ name, dims: t.dims, bytes: b.byteLength });
    chunks.push(b);
  }
  const h = Buffer.from(JSON.stringify(metas.length ? { ...header, tensors: metas } : header), 'utf8');
  const prefix = Buffer.alloc(8);
  const payload = chunks.reduce((s, c) => s + c.byteLength, 0);
  prefix.writeUInt32LE(4 + h.byteLength + payload, 0);
  prefix.writeUInt32LE(h.byteLength, 4);
  return Buffer.concat([prefix, h, ...chunks]);
}

/**
 * Accumulates stdout chunks and yields complete frames. Chunks are kept in a list and joined once a
 * whole frame is there: concatenating on every 64 KB chunk made a 1 GB per-layer reply quadratic.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private length = 0;
  /** Bytes the current frame needs (prefix included), once its length prefix has arrived. */
  private need = 0;

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.need === 0) {
        if (this.length < 4) break;
        const head = this.chunks[0].length >= 4 ? this.chunks[0] : this.join();
        this.need = 4 + head.readUInt32LE(0);
      }
      if (this.length < this.need) break;
      const buf = this.join();
      frames.push(decodeBody(buf.subarray(4, this.need)));
      const rest = buf.subarray(this.need);
      this.chunks = rest.length ? [rest] : [];
      this.length = rest.length;
      this.need = 0;
    }
    return frames;
  }

  private join(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks[0];
  }
}

function decodeBody(body: Buffer): Frame {
  const hlen = body.readUInt32LE(0);
  const header = JSON.parse(body.subarray(4, 4 + hlen).toString('utf8')) as Frame['header'];
  let off = 4 + hlen;
  const tensors: Frame['tensors'] = [];
  if (header.shm) return { header, tensors }; // the client reads them from the shared region
  for (const m of header.tensors ?? []) {
    // copy into an aligned buffer: the payload offset is not necessarily a multiple of 4
    const data = new Float32Array(m.bytes / 4);
    new Uint8Array(data.buffer).set(body.subarray(off, off + m.bytes));
    off += m.bytes;
    tensors.push({ name: m.name, tensor: { data, dims: m.dims }, ncnnDims: m.ncnn_dims });
  }
  return { header, tensors };
}
