/**
 * A tiny MATLAB Level 5 writer and a WIDER ground-truth generator: seeds for the .mat fuzz target
 * and crafted ground truths for tests (event names such as `../../tmp/x`). Writes only what the
 * reader needs: cells, 1xN char arrays, double matrices, uncompressed, little-endian.
 */
import { deflateSync } from 'node:zlib';

export const MI = { INT8: 1, UINT8: 2, UINT16: 4, INT32: 5, UINT32: 6, DOUBLE: 9, MATRIX: 14, COMPRESSED: 15 };
export const MX = { CELL: 1, STRUCT: 2, CHAR: 4, DOUBLE: 6, UINT8: 9 };

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}
export function element(type: number, body: Buffer): Buffer {
  const pad = (8 - (body.length % 8)) % 8;
  return Buffer.concat([u32(type), u32(body.length), body, Buffer.alloc(pad)]);
}
export function matrix(name: string, cls: number, dims: number[], parts: Buffer[]): Buffer {
  const dimBuf = Buffer.alloc(dims.length * 4);
  dims.forEach((d, i) => dimBuf.writeInt32LE(d, i * 4));
  return element(MI.MATRIX, Buffer.concat([
    element(MI.UINT32, Buffer.concat([u32(cls), u32(0)])),
    element(MI.INT32, dimBuf),
    element(MI.INT8, Buffer.from(name, 'latin1')),
    ...parts,
  ]));
}
/** `el` (a whole data element) wrapped in a miCOMPRESSED element. */
export function compressed(el: Buffer): Buffer {
  const z = deflateSync(el);
  return Buffer.concat([u32(MI.COMPRESSED), u32(z.length), z]);
}

/** A MAT-file of raw top-level elements (for crafted, possibly malformed files). */
export function rawMat(...elements: Buffer[]): Buffer {
  return Buffer.concat([writeMat({}), ...elements]);
}

export type MatSpec = string | number[][] | MatSpec[];
/** A string -> 1xN char, a number[][] (rows) -> double matrix, an array of specs -> Nx1 cell. */
function value(name: string, v: MatSpec): Buffer {
  if (typeof v === 'string') {
    const b = Buffer.alloc(v.length * 2);
    [...v].forEach((c, i) => b.writeUInt16LE(c.charCodeAt(0) & 0xffff, i * 2));
    return matrix(name, MX.CHAR, [1, v.length], [element(MI.UINT16, b)]);
  }
  if (v.length > 0 && Array.isArray(v[0]) && (v[0] as unknown[]).every((x) => typeof x === 'number')) {
    const rows = v as number[][];
    const n = rows.length, m = rows[0].length;
    const b = Buffer.alloc(n * m * 8);
    for (let c = 0; c < m; c++) for (let r = 0; r < n; r++) b.writeDoubleLE(rows[r][c], (c * n + r) * 8); // column-major
    return matrix(name, MX.DOUBLE, [n, m], [element(MI.DOUBLE, b)]);
  }
  const cells = v as MatSpec[];
  return matrix(name, MX.CELL, [cells.length, 1], cells.map((c) => value('', c)));
}
export function writeMat(vars: Record<string, MatSpec>): Buffer {
  const h = Buffer.alloc(128, 0x20);
  h.write('MATLAB 5.0 MAT-file, written by the fdk fuzzer', 0, 'latin1');
  h.writeUInt16LE(0x0100, 124);
  h.write('IM', 126, 'latin1');
  return Buffer.concat([h, ...Object.entries(vars).map(([k, v]) => value(k, v))]);
}

export interface GtImage { name: string; boxes: number[][] }
export interface GtEvent { event: string; images: GtImage[] }

/** The four WIDER ground-truth files for `events` (every face kept at every difficulty). */
export function widerGroundTruth(events: GtEvent[]): Record<'wider_face_val.mat' | 'wider_easy_val.mat' | 'wider_medium_val.mat' | 'wider_hard_val.mat', Buffer> {
  const face = writeMat({
    event_list: events.map((e) => e.event),
    file_list: events.map((e) => e.images.map((im) => im.name)),
    face_bbx_list: events.map((e) => e.images.map((im) => im.boxes)),
  });
  const keep = writeMat({ gt_list: events.map((e) => e.images.map((im) => im.boxes.map((_, i) => [i + 1]))) });
  return { 'wider_face_val.mat': face, 'wider_easy_val.mat': keep, 'wider_medium_val.mat': keep, 'wider_hard_val.mat': keep };
}

/** A small valid ground truth: 2 events x 2 images with a few faces. */
export const SMALL_GT: GtEvent[] = [
  { event: '0--Parade', images: [{ name: '0_Parade_1', boxes: [[10, 10, 40, 50], [100, 20, 30, 30]] }, { name: '0_Parade_2', boxes: [[5, 5, 20, 25]] }] },
  { event: '1--Handshaking', images: [{ name: '1_Handshaking_1', boxes: [[50, 60, 80, 90]] }, { name: '1_Handshaking_2', boxes: [[0, 0, 12, 14], [30, 30, 64, 64]] }] },
];
