/**
 * `fdk quantize --method eq` (ncnn2table's eq: kl scales, then each layer's bottom-blob scale
 * searched on real ncnn for the best int8-vs-fp32 cosine of that layer's output) on slim at 320
 * with 4 calibration images: the table's scales are kl's times a searched factor, real ncnn loads
 * and runs the model, and on images outside the calibration set its outputs are closer to fp32
 * than minmax's.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shared } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';
import { tmp, cosineToFp32 } from './ncnn-helpers.js';
import { getModel } from '../src/models/manifest.js';
import { parseTable } from '../src/quantize/table.js';
import { EQ_FACTORS } from '../src/quantize/eq-search.js';

const dir = tmp('fdk-quantize-eq-');
const CALIB = shared('wider/calib-200/list.txt');
interface Result { param: string; table: string; source: { param: string }; layers: { name: string; eqFactor?: number; eqCosine?: number }[] }
const made: Record<string, Result> = {};

async function quantize(method: string): Promise<Result> {
  const r = await runCliAsync(['quantize', 'slim', '--to', 'ncnn-int8', '--calib', CALIB, '--limit', '4', '--method', method, '-o', join(dir, method), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Result;
}

describe('fdk quantize --method eq (slim, 4 calibration images)', () => {
  beforeAll(async () => {
    for (const m of ['kl', 'minmax', 'eq']) made[m] = await quantize(m);
  }, 900_000);

  it('every blob scale is kl scale x a searched factor in 0.5..2, most of them moved, weights as kl', () => {
    const kl = parseTable(readFileSync(made.kl.table, 'utf8'));
    const eq = parseTable(readFileSync(made.eq.table, 'utf8'));
    expect([...eq.blobs.keys()]).toEqual([...kl.blobs.keys()]);
    expect([...eq.weights.entries()]).toEqual([...kl.weights.entries()]);
    let moved = 0;
    for (const l of made.eq.layers) {
      expect(EQ_FACTORS).toContain(l.eqFactor);
      // the table holds %f-rounded scales: compare to 1e-5 relative
      expect(eq.blobs.get(l.name)![0] / (kl.blobs.get(l.name)![0] * l.eqFactor!)).toBeCloseTo(1, 4);
      expect(l.eqCosine).toBeGreaterThan(0.9);
      if (l.eqFactor !== 1) moved++;
    }
    expect(moved).toBeGreaterThan(made.eq.layers.length / 2);
  });

  it('real ncnn runs it, and its outputs are closer to fp32 than minmax on images outside the calibration set', async () => {
    const eq = await cosineToFp32(made.eq.source.param, made.eq.param, getModel('slim'));
    const minmax = await cosineToFp32(made.minmax.source.param, made.minmax.param, getModel('slim'));
    expect(eq).toBeLessThan(1); // int8 kernels ran
    expect(eq).toBeGreaterThan(minmax);
  }, 180_000);
});
