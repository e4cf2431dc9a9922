/**
 * Writes an ncnn model in int8 the way `ncnn2int8` does: for every layer that has a blob scale in
 * the table, the weights become int8 (tag 0x000D4B38, one byte each, padded to 4), `8=` gets
 * int8_scale_term (2 for Convolution / InnerProduct, 1 for ConvolutionDepthWise), and after the
 * bias come the weight scales and the bottom-blob scale as raw float32 — the order ncnn's
 * `load_model` reads them. Layers without a table entry stay fp32 (that is also how mixed
 * precision is expressed). ncnn2int8's optional requantize fusion is not done.
 */
import { encodeWeight, int, writeParam, type NcnnLayer, type NcnnNet } from '../convert/ncnn/format/index.js';
import { FdkError } from '../util/errors.js';
import { QUANTIZABLE } from './layers.js';
import type { Int8Table } from './table.js';

export const TAG_INT8 = 0x000d4b38;

/** ncnn's float2int8: round half away from zero, clamp to [-127, 127]. */
export function float2int8(v: number): number {
  const r = Math.sign(v) * Math.round(Math.abs(v));
  return r > 127 ? 127 : r < -127 ? -127 : r;
}

function rawFloats(values: number[] | Float32Array): Uint8Array {
  const f = Float32Array.from(values);
  return new Uint8Array(f.buffer);
}

/** int8 weights with their tag, padded to 4 bytes. */
export function encodeInt8Weights(w: Float32Array, scales: number[]): Uint8Array {
  const per = w.length / scales.length;
  const pad = (4 - (w.length % 4)) % 4;
  const out = new Uint8Array(4 + w.length + pad);
  new DataView(out.buffer).setUint32(0, TAG_INT8, true);
  const q = new Int8Array(out.buffer, 4, w.length);
  for (let i = 0; i < w.length; i++) q[i] = float2int8(Math.fround(w[i] * Math.fround(scales[Math.floor(i / per)])));
  return out;
}

export interface Int8Model {
  param: string;
  bin: Uint8Array[];
  /** Layers written in int8, in model order. */
  quantized: string[];
}

/** Checks that the table's names are layers of the model that can hold int8, with the right scale counts. */
export function checkTableMatches(net: NcnnNet, table: Int8Table, file: string): void {
  const byName = new Map(net.layers.map((l) => [l.name, l]));
  for (const name of new Set([...table.blobs.keys(), ...table.weights.keys()])) {
    const l = byName.get(name);
    if (!l) throw new FdkError(`names do not match the model: no layer '${name}' in it`, { file });
    const t = QUANTIZABLE[l.type];
    if (!t) throw new FdkError(`names do not match the model: layer '${name}' is a ${l.type}, not a Convolution, ConvolutionDepthWise or InnerProduct`, { file });
    const ws = table.weights.get(name);
    if (table.blobs.has(name) && !ws) throw new FdkError(`layer '${name}' has a blob scale but no weight scales (${name}_param_0)`, { file });
    if (ws && ws.length !== t.scaleCount(l)) throw new FdkError(`layer '${name}' has ${t.scaleCount(l)} output channels/groups, the table gives ${ws.length} weight scales`, { file });
  }
  if (![...table.blobs.keys()].some((n) => byName.has(n))) throw new FdkError('no layer of the model has a blob scale in the table', { file });
}

export function writeInt8Model(net: NcnnNet, table: Int8Table): Int8Model {
  const layers: NcnnLayer[] = [];
  const bin: Uint8Array[] = [];
  const quantized: string[] = [];
  for (const l of net.layers) {
    const t = QUANTIZABLE[l.type];
    const bottom = table.blobs.get(l.name);
    const ws = table.weights.get(l.name);
    if (!t || !bottom || !ws) {
      layers.push(l);
      for (const w of l.weights) bin.push(encodeWeight(w));
      continue;
    }
    const params = new Map(l.params);
    params.set(8, int(t.int8ScaleTerm));
    layers.push({ ...l, params });
    bin.push(encodeInt8Weights(l.weights[0].data, ws));
    for (const w of l.weights.slice(1)) bin.push(encodeWeight(w)); // bias, raw fp32
    bin.push(rawFloats(ws));
    bin.push(rawFloats([bottom[0]]));
    quantized.push(l.name);
  }
  return { param: writeParam({ layers }), bin, quantized };
}
