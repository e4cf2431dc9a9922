/**
 * The constant evaluators' broadcasting (src/onnx/ops/evaluators.ts), which folds shape glue and
 * masks at conversion time, against a plain per-element reference on seeded random shapes: every
 * rank 1-4 mix of missing leading axes and unit axes, for Sub (its own loop), Div (the generic
 * loop), Where (three operands) and Expand.
 */
import { describe, it, expect } from 'vitest';
import { EVALUATORS } from '../src/onnx/ops/evaluators.js';
import type { Val } from '../src/onnx/ops/value.js';
import type { OpContext } from '../src/onnx/ops/context.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const size = (d: number[]) => d.reduce((a, b) => a * b, 1);
const strides = (d: number[]) => d.map((_, i) => size(d.slice(i + 1)));

/** The value of `x` at output position `idx` (numpy broadcasting, written out). */
function at(x: Val, idx: number[]): number {
  const off = idx.length - x.dims.length, s = strides(x.dims);
  let k = 0;
  x.dims.forEach((d, i) => (k += (d === 1 ? 0 : idx[i + off]) * s[i]));
  return x.data[k];
}

function run(op: string, ins: Val[], outDims: number[], dtype = ins[ins.length - 1].dtype): Val {
  const c = { node: { opType: op, inputs: ins.map((_, i) => `i${i}`), outputs: ['o'], attrs: {} }, value: (i: number) => ins[i], fail: (m: string) => { throw new Error(m); } } as unknown as OpContext;
  return EVALUATORS[op](c, [{ dtype, shape: outDims }])[0];
}

describe('constant evaluators: broadcasting', () => {
  it('Sub, Div, Where and Expand on 600 seeded shape mixes equal the per-element reference', () => {
    const r = rng(7);
    const int = (n: number) => Math.floor(r() * n);
    let checked = 0;
    for (let t = 0; t < 600; t++) {
      const rank = 1 + int(4);
      const out = Array.from({ length: rank }, () => 1 + int(4));
      const operand = (): Val => {
        const keep = int(rank + 1);
        const dims = out.slice(rank - keep).map((d) => (r() < 0.4 ? 1 : d));
        return { dtype: 'float32', dims, data: Float32Array.from({ length: size(dims) }, () => Math.fround(r() * 4 - 2)) };
      };
      const a = operand(), b = operand(), cond = operand();
      const dims = out.map((_, i) => Math.max(...[a, b, cond].map((x) => x.dims[i - (rank - x.dims.length)] ?? 1)));
      const ab = out.map((_, i) => Math.max(...[a, b].map((x) => x.dims[i - (rank - x.dims.length)] ?? 1)));
      const sub = run('Sub', [a, b], ab), div = run('Div', [a, b], ab), where = run('Where', [cond, a, b], dims);
      const expand = run('Expand', [a, { dtype: 'int64', dims: [ab.length], data: Float64Array.from(ab) }], ab, 'float32');
      const walk = (d: number[], f: (idx: number[], o: number) => void) => {
        const s = strides(d);
        for (let o = 0; o < size(d); o++) f(d.map((_, i) => Math.floor(o / s[i]) % d[i]), o);
      };
      walk(ab, (idx, o) => {
        expect(sub.data[o]).toBe(Math.fround(at(a, idx) - at(b, idx)));
        expect(div.data[o]).toBe(Math.fround(at(a, idx) / at(b, idx)));
        expect(expand.data[o]).toBe(at(a, idx));
      });
      walk(dims, (idx, o) => expect(where.data[o]).toBe(at(cond, idx) ? at(a, idx) : at(b, idx)));
      checked += size(ab) + size(dims);
    }
    expect(checked).toBeGreaterThan(5_000); // elements compared over the 600 mixes
  });
});
