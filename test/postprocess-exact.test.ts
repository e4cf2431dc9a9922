/**
 * The fast paths of the postprocessing give exactly what the plain algorithms give: the grid NMS
 * against the all-pairs py_cpu_nms loop, the key sort against the comparator sort, float32Repr
 * against a linear search over 1..9 digits and against numpy's str() itself. (The full-val
 * prediction folders are compared byte for byte by perf/repr-check.ts and the bench.)
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nmsPlusOne, orderByScoreDesc } from '../src/accuracy/nms.js';
import { float32Repr } from '../src/accuracy/pipeline.js';
import { mulberry32 as rng } from '../src/util/rng.js';

const f = Math.fround;

/**
 * py_cpu_nms as fdk has always computed it: every later candidate against every kept one. (A pair
 * with no overlap is kept even when both areas are 0, where numpy's 0/0 would suppress: such boxes
 * need x2 - x1 = -1 exactly, which decoded prior boxes never have.)
 */
function nmsAllPairs(boxes: Float32Array, order: number[], thresh: number): number[] {
  const n = order.length;
  const at = (k: number, c: number) => boxes[order[k] * 4 + c];
  const area = (k: number) => f(f(f(at(k, 2) - at(k, 0)) + 1) * f(f(at(k, 3) - at(k, 1)) + 1));
  const alive = new Array(n).fill(true);
  const keep: number[] = [];
  for (let a = 0; a < n; a++) {
    if (!alive[a]) continue;
    keep.push(order[a]);
    for (let b = a + 1; b < n; b++) {
      const w = Math.max(0, f(f(Math.min(at(a, 2), at(b, 2)) - Math.max(at(a, 0), at(b, 0))) + 1));
      if (w === 0) continue;
      const h = Math.max(0, f(f(Math.min(at(a, 3), at(b, 3)) - Math.max(at(a, 1), at(b, 1))) + 1));
      const inter = f(w * h);
      const ovr = f(inter / f(f(area(a) + area(b)) - inter));
      if (!(ovr <= f(thresh))) alive[b] = false;
    }
  }
  return keep;
}

/** Clusters of jittered boxes, like a detector's candidates around faces, with big and tiny ones. */
function randomBoxes(r: () => number, n: number, extra: (k: number, b: number[]) => void = () => {}): Float32Array {
  const out = new Float32Array(n * 4);
  const centres = Array.from({ length: 1 + Math.floor(r() * 30) }, () => [r() * 1000, r() * 800, 2 + r() ** 3 * 400]);
  for (let k = 0; k < n; k++) {
    const [cx, cy, s] = centres[Math.floor(r() * centres.length)];
    const w = s * (0.6 + r() * 0.8);
    const h = s * (0.6 + r() * 0.8);
    const b = [cx + (r() - 0.5) * s - w / 2, cy + (r() - 0.5) * s - h / 2, 0, 0];
    b[2] = b[0] + w;
    b[3] = b[1] + h;
    extra(k, b);
    out.set(b, k * 4);
  }
  return out;
}

describe('grid NMS = all-pairs py_cpu_nms', () => {
  it('on 120 random candidate sets (clusters, tiny and huge boxes, exact duplicates, touching edges)', () => {
    const r = rng(17);
    for (let t = 0; t < 120; t++) {
      const n = 1 + Math.floor(r() * 900);
      const boxes = randomBoxes(r, n, (k, b) => {
        if (k % 37 === 5) b[0] = b[2] + 1; // a degenerate box (x2 < x1)
        if (k % 53 === 7) { b[0] = Math.round(b[0]); b[2] = b[0] + 9; } // integer corners: +1 widths touch
      });
      const scores = Float32Array.from({ length: n }, () => f(r()));
      const order = orderByScoreDesc(scores);
      const thresh = [0.4, 0.3, 0.0, 0.99][t % 4];
      expect(nmsPlusOne(boxes, 4, order, thresh)).toEqual(nmsAllPairs(boxes, order, thresh));
    }
  });

  it('with non-finite coordinates (NaN suppresses, as numpy compares it)', () => {
    const r = rng(3);
    const boxes = randomBoxes(r, 200, (k, b) => {
      if (k === 10) b[2] = NaN;
      if (k === 50) b[3] = Infinity;
    });
    const order = Array.from({ length: 200 }, (_, i) => i);
    const keep = nmsPlusOne(boxes, 4, order, 0.4);
    expect(keep).toEqual(nmsAllPairs(boxes, order, 0.4));
    expect(keep).not.toContain(10); // the NaN box is suppressed by the first box
  });
});

describe('orderByScoreDesc', () => {
  it('the key sort gives the comparator order, ties by lower index, on float32 scores with many ties', () => {
    const r = rng(5);
    for (let t = 0; t < 200; t++) {
      const n = Math.floor(r() * 3000);
      const scores = Float32Array.from({ length: n }, () => (r() < 0.3 ? f(Math.floor(r() * 20) / 20 + 0.01) : f(r() ** 4 + 1e-30)));
      const idx = Array.from({ length: n }, (_, i) => i).filter(() => r() < 0.7);
      const plain = (ids: number[]) => ids.slice().sort((a, b) => scores[b] - scores[a] || a - b);
      expect(orderByScoreDesc(scores)).toEqual(plain(Array.from({ length: n }, (_, i) => i)));
      expect(orderByScoreDesc(scores, idx)).toEqual(plain(idx));
    }
  });

  it('falls back to the comparator for float64, zero and negative scores', () => {
    const scores = [0.1, 0.30000000000000004, 0, -1, 0.3, 0.1];
    expect(orderByScoreDesc(scores)).toEqual([1, 4, 0, 5, 2, 3]);
  });
});

/** The plain definition: the first p of 1..9 whose toPrecision reads back, Python's positional form. */
function reprLinear(x: number): string {
  const v = f(x);
  let p = 1;
  while (p < 9 && f(Number(v.toPrecision(p))) !== v) p++;
  const s = String(Number(v.toPrecision(p)));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

describe('float32Repr', () => {
  const bits = new Uint32Array(1);
  const asF32 = new Float32Array(bits.buffer);

  it('equals the linear search on 100k random float32 bit patterns and 100k detector-like scores (millions: perf/repr-check.ts)', () => {
    const r = rng(11);
    let bad = 0;
    for (let k = 0; k < 100_000; k++) {
      bits[0] = Math.floor(r() * 2 ** 32);
      const v = asF32[0];
      if (Number.isFinite(v) && float32Repr(v) !== reprLinear(v)) bad++;
      const s = f(0.02 + r() * 0.98);
      if (float32Repr(s) !== reprLinear(s)) bad++;
    }
    expect(bad).toBe(0);
  });

  it('equals numpy str(np.float32) on 20k scores in [1e-4, 1]', () => {
    const py = join(process.cwd(), '.venv-dev', 'bin', 'python');
    if (!existsSync(py)) throw new Error(`${py} missing: the dev venv (scripts/setup-python.sh) has numpy`);
    const r = rng(23);
    // numpy's str() of a float32 goes to e-notation below 1e-4 and rounds exact decimal ties to even
    // above 1 (toPrecision rounds them up); fdk writes detector scores, which are in (0, 1]
    const vals: number[] = [1, 0.5, f(0.1), f(2e-4), f(0.02), f(0.9999999)];
    for (let k = 0; k < 20_000; k++) vals.push(k % 2 ? f(0.02 + r() * 0.98) : f(10 ** (-3.9 * r())));
    const code = 'import sys, numpy as np\nfor l in sys.stdin: print(str(np.float32(float.fromhex(l.strip()))))';
    const hex = vals.map(hexOf).join('\n');
    const res = spawnSync(py, ['-c', code], { input: hex, encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(res.status).toBe(0);
    const want = res.stdout.trim().split('\n');
    const got = vals.map(float32Repr);
    expect(got.map((g, k) => [g, want[k]]).filter(([g, w]) => g !== w)).toEqual([]);
    expect(got.length).toBe(want.length);
  });
});

/** A float64 as C99 hex (exact), for Python's float.fromhex. */
function hexOf(v: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  const hi = dv.getUint32(0), lo = dv.getUint32(4);
  const sign = hi >>> 31 ? '-' : '';
  const exp = (hi >>> 20) & 0x7ff;
  const mant = ((hi & 0xfffff).toString(16).padStart(5, '0') + lo.toString(16).padStart(8, '0'));
  return exp === 0 ? `${sign}0x0.${mant}p-1022` : `${sign}0x1.${mant}p${exp - 1023}`;
}
