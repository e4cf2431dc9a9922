/** Deterministic randomness for the fuzzer: one small PRNG per input, seeded from (seed, target, index). */

/** The project's seeded generator (src/util/rng.ts). */
export { mulberry32 as rng } from '../src/util/rng.js';

/** FNV-1a of the parts: the per-input seed, so input N can be regenerated alone (replay, restart after a hang). */
export function seedOf(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export type Rand = () => number;
export const int = (r: Rand, n: number) => Math.floor(r() * n);
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

/** Values that break size arithmetic: zero, negatives, powers of two around int limits, huge. */
export const INTERESTING = [0, -1, 1, 2, 3, 7, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 40, 2 ** 53, 1e308, -1e308] as const;
/** Strings that break path and terminal handling. */
export const HOSTILE_NAMES = ['..', '.', '', '../../../../tmp/fdk-fuzz-escape', 'a/b', 'a\\b', '\u001b]0;pwned\u0007', 'x\ry', 'nul\u0000byte', 'ok'] as const;
