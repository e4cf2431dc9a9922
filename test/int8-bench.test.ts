/**
 * bench:int8's interleaved latency (bench/int8-latency.ts) on the real ncnn with the seed project's
 * own slim ncnn files from ../shared, and the report's --int8-for option.
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expectOneLineError, runCli, shared } from './helpers/index.js';
import { tmp } from './ncnn-helpers.js';
import { interleavedLatency } from '../perf/int8-latency.js';
import { getModel } from '../src/models/manifest.js';
import { inputFor } from './ncnn-helpers.js';

const SLIM = shared('models/retinaface-1mb/ncnn/slim-face.param');

describe('bench:int8 interleaved latency', () => {
  it('runs every variant the same number of times, round-robin, and records the load average', async () => {
    const input = await inputFor(shared('images/seed-sample.jpg'), getModel('slim'), 320);
    const r = await interleavedLatency(
      [
        { name: 'ncnn fp32', runtime: 'ncnn', model: SLIM },
        { name: 'ncnn fp16', runtime: 'ncnn', model: SLIM, fp16: true },
        { name: 'missing', runtime: 'ncnn', model: join(tmp('fdk-int8-bench-'), 'none.param') },
      ],
      1,
      3,
      input,
    );
    for (const name of ['ncnn fp32', 'ncnn fp16']) {
      const s = r.stats[name];
      if (typeof s === 'string') throw new Error(`${name}: ${s}`);
      expect(s.n).toBe(3);
      expect(s.min).toBeGreaterThan(0);
      expect(s.p10).toBeLessThanOrEqual(s.median);
      expect(s.median).toBeLessThanOrEqual(s.p90);
    }
    // a variant that cannot load is reported as such; the others are still measured
    expect(r.stats.missing).toMatch(/^error: /);
    expect(r.load).toHaveLength(2);
    for (const l of r.load) expect(Number.isFinite(l) && l >= 0).toBe(true);
  }, 120_000);
});

describe('fdk report --int8-for', () => {
  it('an unknown model id is one clear error, nothing written', () => {
    const out = join(tmp('fdk-int8-for-'), 'report');
    const r = runCli(['report', '--int8-for', 'no-such-model', '--out', out]);
    expectOneLineError(r, /unknown model id 'no-such-model'/);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
  });
});
