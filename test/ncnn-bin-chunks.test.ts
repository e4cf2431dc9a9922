/**
 * The .bin as chunks (format/bin.ts): writeBin hands out views of the weights (no copy), the
 * converter's last gate checks those chunks without concatenating them (checkBinChunks), and the
 * bytes are the ones fdk's own reader and the official layout expect. Real model from ../shared.
 */
import { describe, it, expect } from 'vitest';
import { shared } from './helpers/index.js';
import { loadOnnx } from '../src/onnx/io.js';
import { convertOnnxToNcnn } from '../src/convert/ncnn/convert.js';
import { checkBinChunks, readBin } from '../src/convert/ncnn/format/bin.js';
import { parseParam } from '../src/convert/ncnn/format/index.js';
import { FdkError } from '../src/util/errors.js';

describe('.bin chunks', () => {
  const r = convertOnnxToNcnn(loadOnnx(shared('models/ultra-light-1mb/onnx/version-RFB-320_simplified.onnx')), { inputShapes: { '': [1, 3, 240, 320] } });
  const layers = parseParam(r.param, 'm.param').layers;

  it('fp32 weights are views of the layers\' own values, and read back equal', () => {
    const weights = r.net.layers.flatMap((l) => l.weights.map((w) => w.data));
    const views = r.bin.filter((c) => weights.some((w) => w.buffer === c.buffer && w.byteOffset === c.byteOffset));
    expect(views.length).toBe(weights.length);
    const back = readBin(Buffer.concat(r.bin), layers).flat();
    expect(back.length).toBe(weights.length);
    back.forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(weights[i])));
  });

  it('checkBinChunks accepts the chunks as written and names a missing or extra byte', () => {
    expect(() => checkBinChunks(r.bin, layers)).not.toThrow();
    expect(() => checkBinChunks(r.bin.slice(0, -1), layers, 'm.bin')).toThrow(FdkError);
    expect(() => checkBinChunks(r.bin.slice(0, -1), layers, 'm.bin')).toThrow(/truncated/);
    expect(() => checkBinChunks([...r.bin, new Uint8Array(4)], layers, 'm.bin')).toThrow(/4 bytes left after the last weight/);
    // a tag split over chunk boundaries reads the same as in one buffer
    const bytes = Buffer.concat(r.bin);
    const small = Array.from({ length: Math.ceil(bytes.length / 3) }, (_, i) => bytes.subarray(i * 3, i * 3 + 3));
    expect(() => checkBinChunks(small, layers)).not.toThrow();
    const badTag = Buffer.from(bytes);
    badTag.writeUInt32LE(0x12345678, 0); // first conv's tag: an unknown tag reads as a 256-entry table, so sizes no longer add up
    expect(() => checkBinChunks([badTag], layers, 'm.bin')).toThrow(FdkError);
  });
});
