/**
 * `fdk parity --per-layer` on the official Ultra-Light slim-320 ncnn conversion against the ONNX it
 * was made from: clean, every shared tensor matches; with one convolution's weights corrupted in a
 * copy of the .bin, the report names exactly that layer as the first divergence.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { rmSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shared, expectOneLineError } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';

const UL = (f: string) => shared('models/ultra-light-1mb', f);
const ONNX = UL('onnx/version-slim-320_simplified.onnx');
const PARAM = UL('ncnn/slim-320.param');

/**
 * Byte range of each Convolution/ConvolutionDepthWise weight array in the .bin, from the .param:
 * per layer a 4-byte storage tag + weight_data_size floats, then num_output bias floats if bias_term.
 * (slim-320 has no other layer with weights.)
 */
function convWeightRanges(param: string): { layer: string; top: string; start: number; end: number }[] {
  const out: { layer: string; top: string; start: number; end: number }[] = [];
  let off = 0;
  for (const line of param.split('\n').slice(2)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const nIn = Number(f[2]);
    const nOut = Number(f[3]);
    const kv = new Map(f.slice(4 + nIn + nOut).map((p) => p.split('=') as [string, string]));
    if (f[0] === 'Convolution' || f[0] === 'ConvolutionDepthWise') {
      const ws = Number(kv.get('6'));
      const start = off + 4;
      off = start + 4 * ws;
      out.push({ layer: f[1], top: f[4 + nIn], start, end: off });
      if (kv.get('5') === '1') off += 4 * Number(kv.get('0'));
    } else expect(['Input', 'ReLU', 'Permute', 'Reshape', 'Concat', 'Softmax', 'Split']).toContain(f[0]);
  }
  return out;
}

describe('fdk parity --per-layer', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'fdk-pl-'));
  const paramText = readFileSync(PARAM, 'utf8');
  const bin = readFileSync(UL('ncnn/slim-320.bin'));
  const ranges = convWeightRanges(paramText);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the .param accounts for every byte of the official .bin (the test knows the layout)', () => {
    const last = ranges.at(-1)!;
    expect(ranges.length).toBe(42);
    // after the last weights come only that layer's bias floats
    expect(bin.length - last.end).toBeGreaterThanOrEqual(0);
    expect(bin.length - last.end).toBeLessThanOrEqual(4 * 64);
  });

  it('clean model: no diverging layer, all shared tensors compared', async () => {
    const r = await runCliAsync(['parity', ONNX, '--per-layer', '--ncnn-param', PARAM, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.compared).toBeGreaterThan(90);
    expect(j.firstDiverging).toBeUndefined();
    for (const l of j.layers) expect(l.maxAbs).toBeLessThan(1e-3);
  });

  it('a corrupted convolution in the .bin is reported as the first diverging layer, by name', async () => {
    const victim = ranges[17]; // a convolution in the middle of the backbone
    const bad = Buffer.from(bin);
    const f = new Float32Array(bad.buffer, bad.byteOffset + victim.start, (victim.end - victim.start) / 4);
    for (let i = 0; i < f.length; i += 3) f[i] = -f[i] * 1.5 + 0.05; // damage a third of the weights
    writeFileSync(join(tmp, 'slim-320.bin'), bad);
    copyFileSync(PARAM, join(tmp, 'slim-320.param'));

    const j = await runCliAsync(['parity', ONNX, '--per-layer', '--ncnn-param', join(tmp, 'slim-320.param'), '--json']);
    expect(j.code).toBe(1);
    const rep = JSON.parse(j.stdout);
    expect(rep.ok).toBe(false);
    expect(rep.firstDiverging.tensor).toBe(victim.top);
    expect(rep.firstDiverging.op).toBe('Conv');
    expect(rep.firstDiverging.ncnnLayer.name).toBe(victim.layer);
    expect(rep.firstDiverging.maxAbs).toBeGreaterThan(1e-2);
    // every layer before it still matches
    const i = rep.layers.findIndex((l: { tensor: string }) => l.tensor === victim.top);
    expect(i).toBeGreaterThan(0);
    for (const l of rep.layers.slice(0, i)) expect(l.ok).toBe(true);

    // --wide: the one-line description of the diverging layer, unwrapped
    const t = await runCliAsync(['parity', ONNX, '--per-layer', '--wide', '--ncnn-param', join(tmp, 'slim-320.param')]);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(new RegExp(`first diverging layer: Conv '[^']*' -> ${victim.top} .*ncnn Convolution(DepthWise)? '${victim.layer}'`));
  });

  it('--per-layer with an .param as MODEL is a clear error', async () => {
    expectOneLineError(await runCliAsync(['parity', PARAM, '--per-layer', '--preprocess', 'ulfd-slim-320']), '--per-layer needs the ONNX model');
  });
});
