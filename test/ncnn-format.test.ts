import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { shared } from './helpers/index.js';
import { readNcnnModel, writeParam, writeBin, parseParam, formatFloat, encodeWeight, readBin, TAG_FP16 } from '../src/convert/ncnn/format/index.js';
import { FdkError } from '../src/util/errors.js';

const official = ['slim-320', 'RFB-320'].map((n) => shared('models/ultra-light-1mb/ncnn', `${n}.param`));

describe('ncnn format', () => {
  it.each(official)('reads %s and writes its .bin back byte for byte', (p) => {
    const net = readNcnnModel(p);
    const bin = Buffer.concat(writeBin(net.layers));
    expect(bin.equals(readFileSync(p.replace('.param', '.bin')))).toBe(true);
    // the written .param parses to the same layers and params
    const again = parseParam(writeParam(net));
    expect(again.layers.map((l) => [l.type, l.name, l.inputs, l.outputs])).toEqual(net.layers.map((l) => [l.type, l.name, l.inputs, l.outputs]));
    expect(again.layers.map((l) => [...l.params.entries()])).toEqual(net.layers.map((l) => [...l.params.entries()]));
    const header = readFileSync(p, 'utf8').split('\n')[1];
    expect(`${again.layers.length} ${again.blobCount}`).toBe(header.trim().replace(/\s+/g, ' '));
  });

  it('writes floats that ncnn reads as floats, within 15 characters, exactly', () => {
    for (const v of [1, 0, -0.5, 1e-5, 3.4028234663852886e38, -1.1754943508222875e-38, 0.1, 123456789, Math.PI, 1e-45]) {
      const s = formatFloat(v);
      expect(s).toMatch(/[.e]/);
      expect(s.length).toBeLessThanOrEqual(15);
      expect(Math.fround(Number(s))).toBe(Math.fround(v));
    }
  });

  it('array params use the -23300-id key', () => {
    const net = { layers: [{ type: 'Crop', name: 'c', inputs: ['a'], outputs: ['b'], params: new Map([[9, { kind: 'ints' as const, value: [0, 2] }], [1, { kind: 'float' as const, value: 2 }]]), weights: [] }] };
    const text = writeParam(net);
    expect(text).toContain(' -23309=2,0,2 1=2.0');
    expect(parseParam(text).layers[0].params.get(9)).toEqual({ kind: 'ints', value: [0, 2] });
  });

  it('fp16 weights carry the fp16 tag and are padded to 4 bytes', () => {
    const w = { data: Float32Array.from([1, 2, 3]), tagged: true };
    const b = encodeWeight(w, { fp16: true });
    expect(b.byteLength).toBe(4 + 6 + 2);
    expect(new DataView(b.buffer).getUint32(0, true)).toBe(TAG_FP16);
    const back = readBin(b, [{ type: 'Convolution', name: 'x', params: new Map([[6, { kind: 'int' as const, value: 3 }]]) }]);
    expect([...back[0][0].data]).toEqual([1, 2, 3]);
    expect(encodeWeight({ data: Float32Array.from([1, 2, 3]), tagged: false }, { fp16: true }).byteLength).toBe(12);
  });

  it('rejects malformed files with an error naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdk-ncnn-'));
    const p = join(dir, 'bad.param');
    writeFileSync(p, '7767517\n3 3\nInput in 0 1 data\n');
    expect(() => readNcnnModel(p)).toThrow(FdkError);
    expect(() => readNcnnModel(p)).toThrow(/bad\.param.*truncated/);
    writeFileSync(p, 'hello\n');
    expect(() => readNcnnModel(p)).toThrow(/7767517/);
    // .bin shorter than the .param needs
    const good = readFileSync(official[0], 'utf8');
    writeFileSync(p, good);
    writeFileSync(join(dir, 'bad.bin'), readFileSync(official[0].replace('.param', '.bin')).subarray(0, 1000));
    expect(() => readNcnnModel(p)).toThrow(/bad\.bin: truncated/);
  });
});

describe('ncnn .param parsing like ncnn', () => {
  it('keeps quoted string values with spaces, and rejects param ids ncnn has no room for', () => {
    const text = '7767517\n2 2\nInput in 0 1 in 0=4\nReshape r 1 1 in out 6="1w, 2h" 0=-1\n';
    const { layers } = parseParam(text);
    expect(layers[1].params.get(6)).toEqual({ kind: 'string', value: '1w, 2h' });
    expect(parseParam(writeParam({ layers: layers.map((l) => ({ ...l, weights: [] })) })).layers[1].params.get(6)).toEqual({ kind: 'string', value: '1w, 2h' });
    expect(() => parseParam('7767517\n1 1\nInput in 0 1 in 32=4\n', 'x.param')).toThrow(/x\.param: line 3: param id 32/);
  });
});
