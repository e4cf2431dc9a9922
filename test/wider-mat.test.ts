/**
 * The MATLAB v5 reader and the WIDER ground truth built on it: synthetic files written here with
 * every element form the reader handles, corrupt files, and the real ground truth checked against
 * the independent text labels in ../shared/wider/val_label.txt.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { decodeMat, type MatValue } from '../src/accuracy/wider/mat.js';
import { loadGroundTruth, readSubsetList, DIFFICULTIES } from '../src/accuracy/wider/ground-truth.js';
import { FdkError } from '../src/util/errors.js';
import { shared, runCli, expectOneLineError } from './helpers/index.js';

// ---- a tiny Level 5 writer, only for building test inputs ----
const MI = { INT8: 1, UINT16: 4, INT32: 5, UINT32: 6, DOUBLE: 9, MATRIX: 14, COMPRESSED: 15 };
const MX = { CELL: 1, CHAR: 4, DOUBLE: 6, INT32: 12 };

function u32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  le ? b.writeUInt32LE(v) : b.writeUInt32BE(v);
  return b;
}
function element(type: number, body: Buffer, le = true, small = false): Buffer {
  if (small && body.length <= 4) {
    const tag = u32((body.length << 16) | type, le);
    return Buffer.concat([tag, body, Buffer.alloc(4 - body.length)]);
  }
  const pad = (8 - (body.length % 8)) % 8;
  return Buffer.concat([u32(type, le), u32(body.length, le), body, Buffer.alloc(pad)]);
}
function typed(type: number, values: number[], le = true): Buffer {
  const size = type === MI.DOUBLE ? 8 : type === MI.UINT16 ? 2 : type === MI.INT8 ? 1 : 4;
  const b = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (type === MI.DOUBLE) le ? b.writeDoubleLE(v, i * 8) : b.writeDoubleBE(v, i * 8);
    else if (type === MI.UINT16) le ? b.writeUInt16LE(v, i * 2) : b.writeUInt16BE(v, i * 2);
    else if (type === MI.INT8) b.writeInt8(v, i);
    else le ? b.writeInt32LE(v, i * 4) : b.writeInt32BE(v, i * 4);
  });
  return b;
}
function matrix(name: string, cls: number, dims: number[], parts: Buffer[], le = true): Buffer {
  const flags = element(MI.UINT32, Buffer.concat([u32(cls, le), u32(0, le)]), le);
  const dimsEl = element(MI.INT32, typed(MI.INT32, dims, le), le);
  const nameEl = element(MI.INT8, Buffer.from(name, 'latin1'), le, true);
  return element(MI.MATRIX, Buffer.concat([flags, dimsEl, nameEl, ...parts]), le);
}
function charArray(name: string, s: string, le = true): Buffer {
  return matrix(name, MX.CHAR, [1, s.length], [element(MI.UINT16, typed(MI.UINT16, [...s].map((c) => c.charCodeAt(0)), le), le)], le);
}
function header(le = true): Buffer {
  const h = Buffer.alloc(128, 0x20);
  h.write('MATLAB 5.0 MAT-file, written by the fdk test suite', 0, 'latin1');
  h.writeUInt16LE(0x0100, 124);
  h.write(le ? 'IM' : 'MI', 126, 'latin1');
  return h;
}
function compressed(el: Buffer): Buffer {
  const z = deflateSync(el);
  return Buffer.concat([u32(MI.COMPRESSED, true), u32(z.length, true), z]);
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'fdk-wider-mat-'));
}

describe('MATLAB v5 reader', () => {
  it('decodes cells, chars, numeric matrices, empty cells, small and compressed elements', () => {
    const cell = matrix('c', MX.CELL, [3, 1], [
      charArray('', 'ab'),
      matrix('', MX.INT32, [2, 2], [element(MI.INT32, typed(MI.INT32, [1, 2, 3, 4]))]),
      element(MI.MATRIX, Buffer.alloc(0)), // empty matrix as MATLAB writes empty cell entries
    ]);
    // Doubles stored as int8 (MATLAB's storage compression) inside a zlib-compressed element.
    const d = compressed(matrix('dbl', MX.DOUBLE, [1, 3], [element(MI.INT8, typed(MI.INT8, [-1, 0, 7]))]));
    const vars = decodeMat(Buffer.concat([header(), cell, d]), 'x.mat');
    expect([...vars.keys()]).toEqual(['c', 'dbl']);
    const c = vars.get('c') as Extract<MatValue, { kind: 'cell' }>;
    expect(c.kind).toBe('cell');
    expect(c.dims).toEqual([3, 1]);
    expect(c.cells[0]).toMatchObject({ kind: 'char', rows: ['ab'] });
    expect(c.cells[1]).toMatchObject({ kind: 'numeric', cls: 'int32', dims: [2, 2] });
    expect(Array.from((c.cells[1] as Extract<MatValue, { kind: 'numeric' }>).data)).toEqual([1, 2, 3, 4]);
    expect(c.cells[2]).toMatchObject({ kind: 'numeric', dims: [0, 0] });
    const dbl = vars.get('dbl') as Extract<MatValue, { kind: 'numeric' }>;
    expect(dbl.cls).toBe('double');
    expect(Array.from(dbl.data)).toEqual([-1, 0, 7]);
    // `only` skips other variables.
    expect([...decodeMat(Buffer.concat([header(), cell, d]), 'x.mat', { only: ['dbl'] }).keys()]).toEqual(['dbl']);
  });

  it('reads big-endian files', () => {
    const v = matrix('x', MX.DOUBLE, [1, 2], [element(MI.DOUBLE, typed(MI.DOUBLE, [0.5, -2], false), false)], false);
    const vars = decodeMat(Buffer.concat([header(false), v]), 'be.mat');
    expect(Array.from((vars.get('x') as Extract<MatValue, { kind: 'numeric' }>).data)).toEqual([0.5, -2]);
  });

  it('rejects non-MAT and truncated files with the file name', () => {
    expect(() => decodeMat(Buffer.from('hello, this is not a mat file'.repeat(10)), 'a.mat')).toThrow(/a\.mat: not a MATLAB v5 file/);
    const full = Buffer.concat([header(), charArray('s', 'hello world')]);
    expect(() => decodeMat(full.subarray(0, full.length - 12), 't.mat')).toThrow(FdkError);
    expect(() => decodeMat(full.subarray(0, full.length - 12), 't.mat')).toThrow(/t\.mat: corrupt MATLAB v5 file/);
    const z = compressed(charArray('s', 'hello world'));
    z[12] ^= 0xff; // damage the zlib stream
    expect(() => decodeMat(Buffer.concat([header(), z]), 'z.mat')).toThrow(/z\.mat: corrupt MATLAB v5 file/);
  });
});

describe('WIDER ground truth', () => {
  const gt = loadGroundTruth(shared('wider', 'ground_truth'));

  it('equals the text labels of val_label.txt, box for box', () => {
    const labels = new Map<string, number[]>();
    let cur: number[] = [];
    for (const line of readFileSync(shared('wider', 'val_label.txt'), 'utf8').split('\n')) {
      if (line.startsWith('#')) labels.set(line.slice(1).trim().replace(/\.jpg$/, ''), (cur = []));
      else if (line.trim()) cur.push(...line.trim().split(/\s+/).map(Number));
    }
    expect(gt.images.length).toBeGreaterThanOrEqual(labels.size);
    let compared = 0;
    for (const im of gt.images) {
      const l = labels.get(im.key);
      if (!l) {
        // Images without faces are left out of the text labels; the .mat holds one all-zero box.
        expect(Array.from(im.boxes).every((v) => v === 0)).toBe(true);
        continue;
      }
      expect(Array.from(im.boxes), im.key).toEqual(l);
      compared++;
    }
    expect(compared).toBe(labels.size);
    expect(new Set(gt.images.map((im) => im.event)).size).toBe(gt.events.length);
  });

  it('kept faces are nested: easy within medium within hard, indices in range', () => {
    for (const im of gt.images) {
      const [e, m, h] = DIFFICULTIES.map((d) => new Set(im.keep[d]));
      for (const k of e) expect(m.has(k)).toBe(true);
      for (const k of m) expect(h.has(k)).toBe(true);
      for (const k of h) expect(k >= 0 && k < im.faces).toBe(true);
    }
    const total = (d: (typeof DIFFICULTIES)[number]) => gt.images.reduce((s, im) => s + im.keep[d].length, 0);
    expect(total('easy')).toBeLessThan(total('medium'));
    expect(total('medium')).toBeLessThan(total('hard'));
  });

  it('reads the val-mini list; unknown entries name the list file and line', () => {
    const list = shared('wider', 'val-mini', 'list.txt');
    const keys = readSubsetList(list, gt);
    const lines = readFileSync(list, 'utf8').split('\n').filter((l) => l.trim());
    expect(keys.length).toBe(lines.length);
    expect(keys.every((k) => gt.byKey.has(k))).toBe(true);
    const dir = tmp();
    writeFileSync(join(dir, 'list.txt'), `${lines[0]}\n0--Parade/no_such_image.jpg\n`);
    expect(() => readSubsetList(join(dir, 'list.txt'), gt)).toThrow(/list\.txt: line 2: '0--Parade\/no_such_image\.jpg' is not an image/);
  });

  it('fdk eval: a .mat that is not WIDER ground truth, and a non-MAT file, are one-line errors', () => {
    const dir = tmp();
    const gtDir = join(dir, 'gt');
    mkdirSync(gtDir);
    const pred = join(dir, 'pred', '0--Parade');
    mkdirSync(pred, { recursive: true });
    writeFileSync(join(pred, '0_Parade_Parade_0_12.txt'), '0_Parade_Parade_0_12\n0\n');
    writeFileSync(join(gtDir, 'wider_face_val.mat'), Buffer.concat([header(), charArray('event_list', 'x')]));
    expectOneLineError(runCli(['eval', join(dir, 'pred'), '--gt', gtDir]), /wider_face_val\.mat: not WIDER ground truth: no face_bbx_list/);
    writeFileSync(join(gtDir, 'wider_face_val.mat'), 'not a mat file at all, just some text that is long enough'.repeat(4));
    expectOneLineError(runCli(['eval', join(dir, 'pred'), '--gt', gtDir]), /wider_face_val\.mat: not a MATLAB v5 file/);
  });
});
