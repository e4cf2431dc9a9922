/** Byte-level and text-level mutations (the structure-aware ones live with each target). */
import { int, pick, INTERESTING, type Rand } from './rng.js';

/** 1 to 4 random edits: bit flips, byte sets, interesting 32-bit values, inserts, deletes, chunk copies, truncation. */
export function mutateBytes(r: Rand, src: Uint8Array): Uint8Array {
  let b: Uint8Array = Uint8Array.from(src);
  const edits = 1 + int(r, 4);
  for (let e = 0; e < edits; e++) {
    if (b.length === 0) return Uint8Array.of(int(r, 256));
    const at = int(r, b.length);
    switch (int(r, 8)) {
      case 0: b[at] ^= 1 << int(r, 8); break;
      case 1: b[at] = int(r, 256); break;
      case 2: { // a little-endian 32-bit interesting value
        const v = pick(r, INTERESTING);
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        if (at + 4 <= b.length) dv.setUint32(at, Number(BigInt.asUintN(32, BigInt(Math.trunc(Math.max(-(2 ** 53), Math.min(2 ** 53, v)))))), true);
        break;
      }
      case 3: { // insert random bytes
        const n = 1 + int(r, 16);
        const ins = Uint8Array.from({ length: n }, () => int(r, 256));
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 4: { // delete a run
        const n = 1 + int(r, Math.min(64, b.length - at));
        b = concat(b.subarray(0, at), b.subarray(at + n));
        break;
      }
      case 5: { // copy a chunk over another place
        const n = 1 + int(r, Math.min(256, b.length));
        const from = int(r, Math.max(1, b.length - n));
        b.copyWithin(at, from, from + n);
        break;
      }
      case 6: b = b.slice(0, at); break; // truncate
      case 7: b[at] = pick(r, [0x00, 0xff, 0x7f, 0x80]); break;
    }
  }
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Text mutations for line formats (.param, WIDER predictions): numbers swapped for hostile ones, lines duplicated or dropped. */
export function mutateText(r: Rand, text: string): string {
  const lines = text.split('\n');
  const edits = 1 + int(r, 3);
  for (let e = 0; e < edits; e++) {
    const i = int(r, lines.length);
    switch (int(r, 6)) {
      case 0: case 1: case 2: { // replace one numeric token
        const toks = lines[i].split(/(\s+|=|,)/);
        const idx = toks.map((t, k) => (/^-?[\d.]+(e[-+]?\d+)?$/i.test(t) ? k : -1)).filter((k) => k >= 0);
        if (idx.length) toks[pick(r, idx)] = String(pick(r, [...INTERESTING, 'NaN', 'Infinity', '1e400', '-0', '0.5', 'x']));
        lines[i] = toks.join('');
        break;
      }
      case 3: lines.splice(i, 0, lines[int(r, lines.length)]); break;
      case 4: lines.splice(i, 1); break;
      case 5: lines[i] = lines[i].slice(0, int(r, lines[i].length + 1)); break;
    }
  }
  return lines.join('\n');
}
