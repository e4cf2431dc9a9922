/**
 * `fdk parity` on model files without a description: seeded synthetic inputs, `--input` for dynamic
 * dims, the user's .npy/.npz arrays, images with `--spec`, a fixed-size description applied to a file
 * of another size, and outputs of a third-party-named ncnn file paired by shape or by `--map`.
 */
import { describe, it, expect } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { A, GraphBuilder } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { writeStoredZip } from '../src/convert/pytorch/zip.js';
import { shared, runCli, expectOneLineError } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';

const tmp = mkdtempSync(join(tmpdir(), 'fdk-parity-any-'));
const UL = (f: string) => shared('models/ultra-light-1mb', f);

/** A float32 C-order .npy (v1). */
function npy(dims: number[], values: Float32Array): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + values.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 10 + header.length);
  return out;
}
const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));

/** input [1,3,H,W] -> Conv(8) -> y1; Sigmoid(Conv(8)) -> y2 (same shape as y1); GlobalAveragePool(y1) -> y3. */
function dynamicModel(): string {
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('input', 'float32', [1, 3, 'H', 'W']);
  const conv = (name: string) => b.op('Conv', [x, b.constFloat(name, [8, 3, 3, 3], ramp(216)), b.constFloat(`${name}_b`, [8], ramp(8))], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]) });
  const y1 = conv('w1');
  const y2 = b.op('Sigmoid', [conv('w2')]);
  const y3 = b.op('GlobalAveragePool', [y1]);
  b.addOutput(y1, 'y1', 'float32');
  b.addOutput(y2, 'y2', 'float32');
  b.addOutput(y3, 'y3', 'float32');
  const p = join(tmp, 'dynamic.onnx');
  saveOnnx(b.build(), p);
  return p;
}

interface Pair { a: string; b: string; ok: boolean; outputs: Record<string, { maxAbs: number; pairedWith: string; pairedBy: string; dimsA: number[] }>; unpaired?: { a: string[]; b: string[] } }
interface Report { ok: boolean; inputSource: string; preprocessing?: string; inputs: { label: string; dims: number[]; shapes: Record<string, number[]> }[]; pairs: Pair[]; detectionsNote?: string }
async function parity(args: string[]): Promise<Report> {
  const r = await runCliAsync(['parity', ...args, '--json']);
  if (r.code !== 0) throw new Error(r.stderr || r.stdout.slice(0, 2000));
  return JSON.parse(r.stdout);
}

describe('fdk parity on any model file', () => {
  const model = dynamicModel();

  it('a third-party ONNX outside the data folder: seeded synthetic inputs on ort, wasm and ncnn', async () => {
    const copy = join(tmp, 'ul-slim.onnx'); // not a file the manifest lists: no description
    copyFileSync(UL('onnx/version-slim-320.onnx'), copy);
    const j = await parity([copy]);
    expect(j.ok).toBe(true);
    expect(j.inputSource).toBe('synthetic');
    expect(j.preprocessing).toBeUndefined();
    expect(j.inputs[0].shapes).toEqual({ input: [1, 3, 240, 320] });
    expect(j.pairs.map((p) => `${p.a}-${p.b}`)).toEqual(['ort-ort-wasm', 'ort-ncnn', 'ort-wasm-ncnn']);
    for (const p of j.pairs) for (const o of ['scores', 'boxes']) expect(p.outputs[o].maxAbs).toBeLessThanOrEqual(1e-4);
  });

  it('--input sets dynamic dims; the same file with images + --spec compares detections too', async () => {
    const j = await parity([model, '--runtimes', 'ort,ort-wasm', '--input', 'input:1x3x20x28']);
    expect(j.inputs[0].shapes).toEqual({ input: [1, 3, 20, 28] });
    expect(j.pairs[0].outputs.y1.dimsA).toEqual([1, 8, 20, 28]);
    expect(j.ok).toBe(true);

    const copy = join(tmp, 'ul-slim-img.onnx');
    copyFileSync(UL('onnx/version-slim-320.onnx'), copy);
    const img = await parity([copy, '--runtimes', 'ort,ort-wasm', '--inputs', shared('images/seed-sample.jpg'), '--spec', 'ulfd-slim-320']);
    expect(img.inputSource).toBe('images');
    expect(img.preprocessing).toBe('ulfd-slim-320');
    expect(img.ok).toBe(true);
    expect(img.detectionsNote).toBeUndefined();
  });

  it('the user\'s arrays: .npy feeds the only input, .npz by name; their shape drives the run', async () => {
    const one = join(tmp, 'x.npy');
    writeFileSync(one, npy([1, 3, 12, 10], ramp(360)));
    const zipped = join(tmp, 'x.npz');
    writeFileSync(zipped, writeStoredZip([{ name: 'input.npy', data: npy([1, 3, 6, 14], ramp(252)) }]));
    const j = await parity([model, '--runtimes', 'ort,ort-wasm', '--inputs', `${one},${zipped}`]);
    expect(j.inputSource).toBe('arrays');
    expect(j.inputs.map((i) => [i.label, i.dims])).toEqual([['x.npy', [1, 3, 12, 10]], ['x.npz', [1, 3, 6, 14]]]);
    expect(j.ok).toBe(true);
  });

  it('a fixed-size description on a file of another size (--spec ulfd-slim-320 on the 640 export) resizes to the file', async () => {
    const f640 = join(tmp, 'slim-640.onnx');
    const c = runCli(['convert', UL('pretrained/version-slim-640.pth'), '--arch', 'ulfd-slim-640', '--to', 'onnx', '--input', '1x3x480x640', '-o', f640]);
    expect(c.code, c.stderr).toBe(0);
    const j = await parity([f640, '--runtimes', 'ort,ort-wasm', '--spec', 'ulfd-slim-320', '--max-images', '1']);
    expect(j.inputs[0].dims).toEqual([1, 3, 480, 640]);
    expect(j.preprocessing).toBe('ulfd-slim-320');
    expect(j.ok).toBe(true);
  });

  it('ncnn blobs with other names: paired by unique shape, same-shape outputs by --map', async () => {
    const prefix = join(tmp, 'thirdparty');
    const c = runCli(['convert', model, '--to', 'ncnn', '-o', prefix, '--input', 'input:1x3x16x16']);
    expect(c.code, c.stderr).toBe(0);
    // rename the blobs as another converter would (y1 -> 501, y2 -> 502, y3 -> 503, input -> data)
    const renamed = readFileSync(`${prefix}.param`, 'utf8').replace(/\by1\b/g, '501').replace(/\by2\b/g, '502').replace(/\by3\b/g, '503').replace(/\binput\b/g, 'data');
    writeFileSync(`${prefix}.param`, renamed);
    const common = [model, '--runtimes', 'ort,ncnn', '--ncnn-param', `${prefix}.param`, '--input', 'input:1x3x16x16'];

    const auto = await parity(common);
    const p = auto.pairs[0];
    expect(p.outputs.y3).toMatchObject({ pairedWith: '503', pairedBy: 'shape' });
    expect(p.outputs.y3.maxAbs).toBeLessThanOrEqual(1e-4);
    // same shape twice: not guessed (501 is read by the pool layer, so ncnn lists only 502 as an output)
    expect(p.unpaired).toEqual({ a: ['y1', 'y2'], b: ['502'] });

    const mapped = await parity([...common, '--map', 'y1=501,y2=502']);
    const q = mapped.pairs[0];
    expect(Object.fromEntries(Object.entries(q.outputs).map(([k, v]) => [k, `${v.pairedWith}/${v.pairedBy}`]))).toEqual({ y1: '501/map', y2: '502/map', y3: '503/shape' });
    for (const d of Object.values(q.outputs)) expect(d.maxAbs).toBeLessThanOrEqual(1e-4);
    expect(q.unpaired).toBeUndefined();
    expect(mapped.ok).toBe(true);
  });

  it('a sequence-major output [T, 1, C] (CRNN-style, batch axis in the middle) passes: ncnn returns it as [1, T, C], the same elements in the same order', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('input', 'float32', [1, 3, 4, 5]);
    const c = b.op('Conv', [x, b.constFloat('w', [6, 3, 1, 1], ramp(18))]);
    const seq = b.op('Reshape', [c, b.constInt64('s', [3], [1, 6, 20])]);
    b.addOutput(b.op('Transpose', [seq], { perm: A.ints([2, 0, 1]) }), 'logits', 'float32');
    const p = join(tmp, 'seq-major.onnx');
    saveOnnx(b.build(), p);
    const j = await parity([p, '--runtimes', 'ort,ncnn']);
    const o = j.pairs[0].outputs.logits as unknown as { dimsA: number[]; dimsB: number[]; maxAbs: number };
    expect([o.dimsA, o.dimsB]).toEqual([[20, 1, 6], [1, 20, 6]]); // reported as each runtime gives them
    expect(o.maxAbs).toBeLessThanOrEqual(1e-4);
    expect(j.ok).toBe(true); // failed before: the dims were compared as written
  });

  it('bad input: images without a description, arrays not named after inputs, bad --map, --input for an unknown input', async () => {
    const wrong = join(tmp, 'wrong.npz');
    writeFileSync(wrong, writeStoredZip([{ name: 'a.npy', data: npy([1, 3, 4, 4], ramp(48)) }, { name: 'b.npy', data: npy([1, 3, 4, 4], ramp(48)) }]));
    const cases: [string[], string | RegExp][] = [
      [['parity', model, '--inputs', shared('images/seed-sample.jpg')], /images need a description .*--spec/],
      [['parity', model, '--inputs', wrong, '--runtimes', 'ort,ort-wasm'], /wrong\.npz: array 'a' matches no model input \(inputs: input\)/],
      [['parity', model, '--map', 'y1', '--runtimes', 'ort,ort-wasm'], /bad --map 'y1'/],
      [['parity', model, '--input', 'image:1x3x8x8', '--runtimes', 'ort,ort-wasm'], /--input names 'image', but the model's inputs are: input/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCliAsync(args)));
    results.forEach((r, i) => expectOneLineError(r, cases[i][1]));
  });
});
