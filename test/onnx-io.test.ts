/**
 * ONNX I/O on real files: lossless round trip of the six Ultra-Light exports, external data
 * (save with a threshold, reload, identical weights; missing data file = one error line), an
 * IR-3-era file (attributes without their type field), and symbolic dims surviving the round trip.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeOnnx, encodeOnnx, loadOnnx, saveOnnx } from '../src/onnx/io.js';
import { onnxType } from '../src/onnx/proto.js';
import { inferShapes } from '../src/onnx/shape-inference.js';
import { shared, runCli, expectOneLineError } from './helpers/index.js';

const UL = shared('models', 'ultra-light-1mb', 'onnx');
const FILES = readdirSync(UL).filter((f) => f.endsWith('.onnx')).sort();
const tmp = () => mkdtempSync(join(tmpdir(), 'fdk-onnx-'));

describe('ONNX round trip', () => {
  it('finds the six Ultra-Light files', () => expect(FILES).toHaveLength(6));

  it.each(FILES)('%s: decode -> encode is byte-identical', (f) => {
    const bytes = readFileSync(join(UL, f));
    const m = decodeOnnx(bytes, f);
    expect(m.irVersion).toBe(4);
    expect(Buffer.from(encodeOnnx(m)).equals(bytes)).toBe(true);
  });

  it.each(FILES)('%s: loadOnnx aligns raw_data in its own buffer (no copy), same values, same bytes on save; decodeOnnx leaves a caller\'s buffer alone', (f) => {
    const path = join(UL, f);
    const bytes = readFileSync(path);
    const before = Buffer.from(bytes);
    const viaDecode = decodeOnnx(bytes, f);
    expect(bytes.equals(before)).toBe(true); // not the decoder's buffer: never written
    const loaded = loadOnnx(path);
    let floats = 0, views = 0;
    for (const [name, t] of loaded.graph.initializers) {
      const u = viaDecode.graph.initializers.get(name)!;
      expect(Buffer.from(t.bytes).equals(Buffer.from(u.bytes)), name).toBe(true);
      if (t.dtype !== 'float32' || t.size < 64) continue;
      floats++;
      const raw = t.bytes;
      const data = t.data as Float32Array;
      if (data.buffer === raw.buffer) views++; // the file buffer itself, not a copy
      expect(Array.from(data.subarray(0, 8))).toEqual(Array.from((u.data as Float32Array).subarray(0, 8)));
    }
    expect(floats).toBeGreaterThan(20);
    expect(views).toBe(floats); // every float weight of 64+ values was aligned in place
    expect(Buffer.from(encodeOnnx(loaded)).equals(before)).toBe(true);
  });

  it('external data: save with a threshold, reload with identical weights, inline save = original bytes', () => {
    const dir = tmp();
    const src = join(UL, 'version-RFB-320.onnx');
    const original = readFileSync(src);
    const m = loadOnnx(src);
    const out = join(dir, 'rfb.onnx');
    saveOnnx(m, out, { externalDataThreshold: 1024 });
    expect(existsSync(join(dir, 'rfb.onnx.data'))).toBe(true);
    expect(readFileSync(out).byteLength).toBeLessThan(original.byteLength / 4); // weights moved out
    const back = loadOnnx(out);
    let external = 0;
    for (const [name, t] of m.graph.initializers) {
      const u = back.graph.initializers.get(name)!;
      if (u.external) external++;
      expect(Buffer.from(u.bytes).equals(Buffer.from(t.bytes)), name).toBe(true);
    }
    expect(external).toBeGreaterThan(50);
    // Writing it back as one file restores the original bytes exactly.
    const inline = join(dir, 'inline.onnx');
    saveOnnx(back, inline);
    expect(readFileSync(inline).equals(original)).toBe(true);
    rmSync(dir, { recursive: true });
  });

  it('external data file missing: one error line naming the file', () => {
    const dir = tmp();
    const out = join(dir, 'slim.onnx');
    saveOnnx(loadOnnx(join(UL, 'version-slim-320.onnx')), out, { externalDataThreshold: 1024 });
    rmSync(join(dir, 'slim.onnx.data'));
    expectOneLineError(runCli(['analyze', out]), /slim\.onnx: external data file missing.*slim\.onnx\.data/);
    rmSync(dir, { recursive: true });
  });

  it('IR 3 era file (attribute type omitted) decodes, infers and round-trips', () => {
    const T = onnxType('ModelProto');
    const vi = (name: string) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } } });
    const proto = {
      irVersion: 3,
      opsetImport: [{ domain: '', version: 8 }],
      graph: {
        name: 'ir3',
        node: [
          { opType: 'LeakyRelu', input: ['x'], output: ['y'], attribute: [{ name: 'alpha', f: 0.25 }] }, // no `type`
          { opType: 'Transpose', input: ['y'], output: ['z'], attribute: [{ name: 'perm', ints: [1, 0] }] },
        ],
        input: [vi('x')],
        output: [{ name: 'z' }],
      },
    };
    const bytes = T.encode(T.fromObject(proto)).finish();
    const m = decodeOnnx(bytes, 'ir3.onnx');
    expect(m.irVersion).toBe(3);
    expect(m.graph.nodes[0].attrs.alpha).toEqual({ type: 'float', value: 0.25 });
    expect(m.graph.nodes[1].attrs.perm).toEqual({ type: 'ints', value: [1, 0] });
    expect(inferShapes(m).get('z')?.shape).toEqual([4, 1]);
    const again = decodeOnnx(encodeOnnx(m), 'again.onnx');
    expect(again.graph.nodes.map((n) => n.attrs)).toEqual(m.graph.nodes.map((n) => n.attrs));
  });

  it('symbolic dims (dim_param) survive decode and encode', () => {
    const m = loadOnnx(join(UL, 'version-slim-320_simplified.onnx'));
    m.graph.inputs[0].shape = [1, 3, 'H', 'W'];
    const back = decodeOnnx(encodeOnnx(m));
    expect(back.graph.inputs[0].shape).toEqual([1, 3, 'H', 'W']);
  });
});
