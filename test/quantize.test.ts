/**
 * fdk quantize --to ncnn-int8 on a seed model (slim, fdk's export of the checkpoint in ../shared)
 * with 20 images of wider/calib-200: real ncnn loads and runs the int8 model, its detections agree
 * with fp32, the .table round-trips, the .bin shrinks, and bad input fails cleanly.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectOneLineError, shared } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';
import { tmp, inputFor, IMAGES } from './ncnn-helpers.js';
import { GraphBuilder } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { getModel } from '../src/models/manifest.js';
import { ncnnRuntime } from '../src/runtime/ncnn.js';
import { parseTable, writeTable } from '../src/quantize/table.js';
import { encodeInt8Weights, float2int8 } from '../src/quantize/int8-writer.js';
import { weightScales } from '../src/quantize/layers.js';
import { int as intP, type NcnnLayer } from '../src/convert/ncnn/format/index.js';
import { klThresholdBin, percentileThreshold, aciqClip } from '../src/quantize/thresholds.js';
import { detectionAgreement } from '../src/quantize/agreement.js';
import { listCalibImages } from '../src/quantize/calib-images.js';

const dir = tmp('fdk-quantize-');
const CALIB = shared('wider/calib-200/list.txt');
const prefix = join(dir, 'slim-int8');
let result: {
  param: string; bin: string; table: string; source: { param: string; bin: string };
  layers: { name: string; type: string; precision: string }[]; keptFp32: string[]; bytes: { fp32Bin: number; int8Bin: number; ratio: number };
};

const noOutputs = (p: string) => {
  for (const ext of ['.param', '.bin', '.table']) expect(existsSync(p + ext), p + ext).toBe(false);
};

describe('fdk quantize --to ncnn-int8 (slim, 20 calibration images)', () => {
  beforeAll(async () => {
    const r = await runCliAsync(['quantize', 'slim', '--to', 'ncnn-int8', '--calib', CALIB, '--limit', '20', '--keep-fp32', 'conv1.0', '-o', prefix, '--json']);
    expect(r.code, r.stderr).toBe(0);
    result = JSON.parse(r.stdout);
  }, 300_000);

  it('writes ncnn2int8-format layers: int8_scale_term 2 (conv) / 1 (depthwise), the kept layer stays fp32', async () => {
    const param = readFileSync(result.param, 'utf8');
    const lines = param.split('\n');
    const conv = lines.filter((l) => /^Convolution\s/.test(l));
    const dw = lines.filter((l) => /^ConvolutionDepthWise\s/.test(l));
    expect(conv.length).toBeGreaterThan(10);
    expect(dw.length).toBeGreaterThan(10);
    for (const l of conv) {
      if (/^Convolution\s+conv1\.0\s/.test(l)) expect(l).not.toMatch(/ 8=/);
      else expect(l).toMatch(/ 8=2( |$)/);
    }
    for (const l of dw) expect(l).toMatch(/ 8=1( |$)/);
    expect(result.keptFp32).toEqual(['conv1.0']);
    expect(result.layers.find((l) => l.name === 'conv1.0')!.precision).toBe('fp32');
  });

  it('.bin is at most 30% of the fp32 .bin', async () => {
    expect(statSync(result.bin).size).toBe(result.bytes.int8Bin);
    expect(result.bytes.fp32Bin).toBe(statSync(result.source.bin).size);
    expect(result.bytes.int8Bin / result.bytes.fp32Bin).toBeLessThanOrEqual(0.3);
  });

  it('real ncnn loads it and runs int8 inference: outputs close to fp32 but not identical', async () => {
    const entry = getModel('slim');
    const x = await inputFor(IMAGES[0], entry, 320);
    const fp = await ncnnRuntime.load(result.source.param);
    const q = await ncnnRuntime.load(result.param);
    try {
      const a = (await fp.run({ [fp.inputNames[0]]: x })).outputs;
      const b = (await q.run({ [q.inputNames[0]]: x })).outputs;
      for (const name of Object.keys(a)) {
        const u = a[name].data, v = b[name].data;
        expect(v.length).toBe(u.length);
        let dot = 0, nu = 0, nv = 0, diff = 0;
        for (let i = 0; i < u.length; i++) {
          dot += u[i] * v[i]; nu += u[i] * u[i]; nv += v[i] * v[i]; diff = Math.max(diff, Math.abs(u[i] - v[i]));
        }
        expect(dot / Math.sqrt(nu * nv), name).toBeGreaterThan(0.98);
        expect(diff, `${name}: int8 output equals fp32, int8 inference did not run`).toBeGreaterThan(1e-4);
      }
    } finally {
      await fp.release();
      await q.release();
    }
  }, 120_000);

  it('detections agree with fp32 on 20 val-mini images (>= 95% of score >= 0.5 faces matched at IoU >= 0.5)', async () => {
    const entry = getModel('slim');
    const images = listCalibImages(shared('wider/val-mini/list.txt')).slice(0, 20);
    const a = await detectionAgreement(entry, { path: result.source.param, boxesDecoded: false, origin: 'fp32' }, { path: result.param, boxesDecoded: false, origin: 'int8' }, images, 320);
    expect(a.reference).toBeGreaterThan(20);
    expect(a.share).toBeGreaterThanOrEqual(0.95);
    expect(a.maxAbsScoreDelta).toBeLessThan(0.5);
  }, 120_000);

  it('the .table round-trips, and quantizing from it (--table) gives the same files', async () => {
    const text = readFileSync(result.table, 'utf8');
    const t = parseTable(text);
    expect(writeTable(t)).toBe(text);
    expect(t.blobs.has('conv1.0')).toBe(false); // kept in fp32 = not in the table (ncnn2int8 semantics)
    expect(t.weights.get('conv2.3')!.length).toBe(32);
    const again = join(dir, 'from-table');
    const r = await runCliAsync(['quantize', result.source.param, '--model', 'slim', '--to', 'ncnn-int8', '--table', result.table, '-o', again, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(`${again}.param`, 'utf8')).toBe(readFileSync(result.param, 'utf8'));
    expect(Buffer.compare(readFileSync(`${again}.bin`), readFileSync(result.bin))).toBe(0);
  }, 120_000);
});

describe('fdk parity --int8: detection-level agreement and per-layer drift', () => {
  it('slim int8 keeps >= 95% of the confident fp32 faces and names the layer losing the most', async () => {
    const r = await runCliAsync(['parity', 'slim', '--int8', result.param, '--max-images', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.ok).toBe(true);
    expect(p.agreement[0].reference).toBeGreaterThan(10);
    expect(p.agreement[0].share).toBeGreaterThanOrEqual(0.95);
    expect(p.layers.find((l: { layer: string }) => l.layer === 'conv1.0').int8).toBe(false);
    // the kept fp32 layer adds (almost) nothing; the worst layer is an int8 one, and outputs drift below 1
    expect(p.worstLayer.int8).toBe(true);
    expect(p.layers.find((l: { layer: string }) => l.layer === 'conv1.0').added).toBeLessThan(1e-4);
    expect(Math.min(...p.layers.map((l: { cosine: number }) => l.cosine))).toBeLessThan(0.9999);
  }, 180_000);

  it('an fp32 model given as --int8 is one clear error', async () => {
    const r = await runCliAsync(['parity', 'slim', '--int8', result.source.param, '--max-images', '1']);
    expectOneLineError(r, /not an int8 model/);
  }, 120_000);
});

describe('fdk quantize: bad input (one error line, nothing written)', () => {
  it('a calibration folder with no readable images', async () => {
    const bad = join(dir, 'no-images');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'a.jpg'), 'not a jpeg');
    writeFileSync(join(bad, 'notes.txt'), 'hello');
    const out = join(dir, 'bad1');
    const r = await runCliAsync(['quantize', 'slim', '--to', 'ncnn-int8', '--calib', bad, '-o', out]);
    expectOneLineError(r, /no-images: no readable calibration images/);
    noOutputs(out);
  }, 120_000);

  it('a model with no quantizable layers', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('input', 'float32', [1, 3, 8, 8]);
    b.addOutput(b.op('Relu', [x]), 'out', 'float32');
    const p = join(dir, 'relu-only.onnx');
    saveOnnx(b.build(), p);
    const out = join(dir, 'bad2');
    const r = await runCliAsync(['quantize', p, '--model', 'slim', '--to', 'ncnn-int8', '--calib', CALIB, '-o', out]);
    expectOneLineError(r, /relu-only\.onnx: no quantizable layers/);
    noOutputs(out);
  }, 120_000);

  it('a .table whose names do not match the model', async () => {
    const t = join(dir, 'other.table');
    writeFileSync(t, 'not_a_layer_param_0 12.5 13.0\nnot_a_layer 40.0\n');
    const out = join(dir, 'bad3');
    const r = await runCliAsync(['quantize', result.source.param, '--model', 'slim', '--to', 'ncnn-int8', '--table', t, '-o', out]);
    expectOneLineError(r, /other\.table: names do not match the model: no layer 'not_a_layer'/);
    noOutputs(out);
  }, 120_000);

  it('a model already quantized', async () => {
    const out = join(dir, 'bad4');
    const r = await runCliAsync(['quantize', result.param, '--model', 'slim', '--to', 'ncnn-int8', '--calib', CALIB, '-o', out]);
    expectOneLineError(r, /slim-int8\.param: model is already quantized/);
    noOutputs(out);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 120_000);
});

describe('calibration math', () => {
  const expHist = (tau: number) => Array.from({ length: 2048 }, (_, i) => Math.round(1e6 * Math.exp(-i / tau)));

  it('KL clips an exponential tail: beyond the 99th percentile, short of absmax, later for a heavier tail', async () => {
    const a = klThresholdBin(expHist(60));
    const b = klThresholdBin(expHist(120));
    expect(a).toBeGreaterThan(60 * Math.log(100));
    expect(a).toBeLessThan(2047);
    expect(b).toBeGreaterThan(a);
  });

  it('percentile threshold = the 99.99th percentile of |x| to one bin', async () => {
    const t = percentileThreshold(expHist(60), 1);
    expect(Math.abs(t * 2048 - 60 * Math.log(1e4))).toBeLessThan(2);
  });

  it('ACIQ clips less as the blob gets smaller (fewer samples, smaller expected max)', async () => {
    expect(aciqClip(10, 1e3)).toBeGreaterThan(aciqClip(10, 1e6));
    expect(aciqClip(10, 1e6)).toBeLessThan(10);
  });

  it('float2int8 rounds half away from zero and clamps to ±127 as ncnn does', async () => {
    expect([2.5, -2.5, 0.49, 126.6, 300, -300].map(float2int8)).toEqual([3, -3, 0, 127, 127, -127]);
  });
});

describe('fdk quantize on an Ultra-Light original (fixed 320x240, PyTorch 1.2 ONNX)', () => {
  it('quantizes from 10 images, real ncnn runs it, .bin <= 30% of fp32', async () => {
    const out = join(dir, 'ulfd');
    const r = await runCliAsync(['quantize', 'ulfd-slim-320', '--to', 'ncnn-int8', '--calib', CALIB, '--limit', '10', '--method', 'percentile', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const q = JSON.parse(r.stdout);
    expect(q.calibImages).toBe(10);
    expect(q.layers.every((l: { precision: string }) => l.precision === 'int8')).toBe(true);
    expect(q.bytes.ratio).toBeLessThanOrEqual(0.3);
    const entry = getModel('ulfd-slim-320');
    const x = await inputFor(IMAGES[0], entry);
    const m = await ncnnRuntime.load(q.param);
    try {
      const o = (await m.run({ [m.inputNames[0]]: x })).outputs;
      const scores = Object.values(o).find((t) => t.dims.at(-1) === 2)!;
      expect(scores.dims).toEqual([1, 4420, 2]);
      // softmax rows still sum to 1 and some face is found on the sample photo
      expect(Math.abs(scores.data[0] + scores.data[1] - 1)).toBeLessThan(1e-4);
      expect(Math.max(...Array.from({ length: 4420 }, (_, i) => scores.data[2 * i + 1]))).toBeGreaterThan(0.9);
    } finally {
      await m.release();
    }
    // parity by id compares with the same fp32 file quantize used (the ONNX without the decoding
    // tail): before, it compared against the decoded ONNX and matched 0 faces
    const pr = await runCliAsync(['parity', 'ulfd-slim-320', '--int8', q.param, '--max-images', '1', '--json']);
    expect(pr.code, pr.stderr).toBe(0);
    const agree = JSON.parse(pr.stdout).agreement[0];
    expect(agree.reference).toBeGreaterThan(10);
    expect(agree.share).toBeGreaterThanOrEqual(0.95);
    // the decoded ONNX file is another model: one clear error, not a silent 0% match
    const other = await runCliAsync(['parity', shared('models/ultra-light-1mb/onnx/version-slim-320.onnx'), '--int8', q.param, '--max-images', '1']);
    expectOneLineError(other, /does not come from this model: its ncnn conversion has layer/);
  }, 300_000);

  it('writes to ./fdk-out by default; a different model there needs --force, the same bytes are re-used', async () => {
    const cwd = join(dir, 'cwd');
    mkdirSync(cwd, { recursive: true });
    const q = (limit: string, ...more: string[]) => runCliAsync(['quantize', 'ulfd-slim-320', '--to', 'ncnn-int8', '--calib', CALIB, '--limit', limit, ...more, '--json'], { cwd });
    const a = await q('3');
    expect(a.code, a.stderr).toBe(0);
    const first = JSON.parse(a.stdout);
    expect(first.param).toBe(join(cwd, 'fdk-out', 'ulfd-slim-320-320-int8-percentile.param'));
    expect(first.outcome).toBe('written');
    expect(JSON.parse((await q('3')).stdout).outcome).toBe('unchanged');
    const before = readFileSync(first.table, 'utf8');
    expectOneLineError(await q('2'), /exists and holds a different model; pass --force/);
    expect(readFileSync(first.table, 'utf8')).toBe(before);
    expect(readdirSync(join(cwd, 'fdk-out')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const forced = await q('2', '--force');
    expect(JSON.parse(forced.stdout).outcome).toBe('replaced');
  }, 300_000);
});

describe('int8 weights and their layout', () => {
  const conv = (k: number, stride: number, w: number[], out: number): NcnnLayer => ({
    type: 'Convolution', name: 'c', inputs: ['x'], outputs: ['y'],
    params: new Map([[0, intP(out)], [1, intP(k)], [3, intP(stride)], [5, intP(1)], [6, intP(w.length)]]),
    weights: [{ data: Float32Array.from(w), tagged: true }, { data: new Float32Array(out), tagged: false }],
  });

  it('weight scales: 127/max|w| per output channel, one per tensor with --no-per-channel, 31/max|w| for 3x3 stride 1', () => {
    const l = conv(1, 1, [1, -2, 0.5, 0.25], 2);
    expect(weightScales(l, 'kl')).toEqual([127 / 2, 127 / 0.5]);
    expect(weightScales(l, 'kl', false)).toEqual([127 / 2, 127 / 2]);
    const w9 = Array.from({ length: 18 }, (_, i) => (i === 3 ? -4 : i === 12 ? 2 : 0.1));
    expect(weightScales(conv(3, 1, w9, 2), 'kl')).toEqual([31 / 4, 31 / 2]);
    expect(weightScales(conv(3, 2, w9, 2), 'kl')).toEqual([127 / 4, 127 / 2]);
  });

  it('the .bin record: int8 tag, one byte per weight rounded with the channel scale, padded to 4 bytes', () => {
    const bytes = encodeInt8Weights(Float32Array.from([1, -2, 0.5, 0.25, 0.1]), [63.5]);
    const dv = new DataView(bytes.buffer);
    expect(dv.getUint32(0, true)).toBe(0x000d4b38);
    expect(bytes.byteLength).toBe(4 + 8);
    expect(Array.from(new Int8Array(bytes.buffer, 4, 5))).toEqual([64, -127, 32, 16, 6]);
  });
});
