/**
 * `fdk quantize --auto-keep N`: the N layers kept in fp32 are those whose fp32 copy brings the
 * model outputs closest to fp32 (each measured alone with real ncnn on calibration images). On
 * slim at 320 with 10 calibration images: the choice follows the reported gains, and on photos
 * outside the calibration set the chosen pair beats the pair with the least gain.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { shared } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';
import { tmp, cosineToFp32 } from './ncnn-helpers.js';
import { getModel } from '../src/models/manifest.js';

const dir = tmp('fdk-quantize-mixed-');
const CALIB = shared('wider/calib-200/list.txt');
interface Result { param: string; source: { param: string }; keptFp32: string[]; layers: { name: string; precision: string; outputGain?: number }[] }

async function quantize(name: string, ...more: string[]): Promise<Result> {
  const r = await runCliAsync(['quantize', 'slim', '--to', 'ncnn-int8', '--calib', CALIB, '--limit', '10', '-o', join(dir, name), '--json', ...more]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Result;
}

describe('fdk quantize --auto-keep (slim, 10 calibration images)', () => {
  let auto: Result;
  let least: Result;
  beforeAll(async () => {
    auto = await quantize('auto', '--auto-keep', '2');
    const ranked = auto.layers.filter((l) => l.outputGain !== undefined).sort((a, b) => a.outputGain! - b.outputGain!);
    least = await quantize('least', '--keep-fp32', ranked.slice(0, 2).map((l) => l.name).join(','));
  }, 900_000);

  it('keeps the two layers with the largest measured gain, every other candidate int8 with its gain reported', () => {
    const gains = auto.layers.filter((l) => l.outputGain !== undefined);
    expect(gains.length).toBeGreaterThan(20);
    const top = [...gains].sort((a, b) => b.outputGain! - a.outputGain!).slice(0, 2).map((l) => l.name);
    expect([...auto.keptFp32].sort()).toEqual([...top].sort());
    for (const l of auto.layers) expect(l.precision).toBe(auto.keptFp32.includes(l.name) ? 'fp32' : 'int8');
    expect(Math.max(...gains.map((l) => l.outputGain!))).toBeGreaterThan(0);
  });

  it('on photos outside the calibration set the chosen pair is closer to fp32 than the pair with the least gain', async () => {
    const chosen = await cosineToFp32(auto.source.param, auto.param, getModel('slim'));
    const worst = await cosineToFp32(least.source.param, least.param, getModel('slim'));
    expect(chosen).toBeLessThan(1); // int8 kernels ran
    expect(chosen).toBeGreaterThan(worst);
  }, 180_000);
});
