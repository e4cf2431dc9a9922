/**
 * The ncnn `.bin`: all weight buffers concatenated in layer order, each padded to 4 bytes.
 * Buffers that ncnn loads with ModelBin type 0 start with a storage tag (0 = fp32,
 * 0x01306B47 = fp16); type-1 buffers are raw fp32. See `WeightBlob.tagged`.
 */
import { FdkError } from '../../../util/errors.js';
import { floatToHalf as float32ToFloat16Bits, halfToFloat as float16BitsToFloat32 } from '../../../onnx/tensor.js';
import { paramInt, type NcnnLayer, type ParamDict, type WeightBlob } from './param.js';

export const TAG_FP32 = 0;
export const TAG_FP16 = 0x01306b47;

export interface BinOptions {
  /** Store tagged (type-0) weights as fp16. Untagged ones stay fp32: ncnn reads them raw. */
  fp16?: boolean;
}

/** Copies `count` little-endian float32 values (Buffer.slice would share memory, and offsets may be unaligned). */
function copyFloats(bytes: Uint8Array, off: number, count: number): Float32Array {
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes.subarray(off, off + count * 4));
  return out;
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Encodes one weight buffer (tag + data + padding). */
export function encodeWeight(w: WeightBlob, opts: BinOptions = {}): Uint8Array {
  if (!w.tagged) return new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength).slice();
  if (opts.fp16) {
    const n = w.data.length;
    const out = new Uint8Array(4 + n * 2 + pad4(n * 2));
    const dv = new DataView(out.buffer);
    dv.setUint32(0, TAG_FP16, true);
    for (let i = 0; i < n; i++) dv.setUint16(4 + i * 2, float32ToFloat16Bits(w.data[i]), true);
    return out;
  }
  const out = new Uint8Array(4 + w.data.byteLength);
  new DataView(out.buffer).setUint32(0, TAG_FP32, true);
  out.set(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength), 4);
  return out;
}

/** The .bin as a list of chunks (written without concatenating the whole file in memory). */
export function writeBin(layers: NcnnLayer[], opts: BinOptions = {}): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (const l of layers) for (const w of l.weights) chunks.push(encodeWeight(w, opts));
  return chunks;
}

export function binByteLength(chunks: Uint8Array[]): number {
  return chunks.reduce((s, c) => s + c.byteLength, 0);
}

// ---------------------------------------------------------------------------------------------
// reader

/** What a layer type loads from the .bin, derived from its params: [element count, tagged]. */
export function weightLayout(type: string, p: ParamDict): [number, boolean][] | undefined {
  switch (type) {
    case 'Convolution':
    case 'ConvolutionDepthWise':
    case 'Deconvolution':
    case 'DeconvolutionDepthWise':
    case 'Convolution1D':
    case 'ConvolutionDepthWise1D': {
      const out: [number, boolean][] = [[paramInt(p, 6, 0), true]];
      if (paramInt(p, 5, 0)) out.push([paramInt(p, 0, 0), false]);
      return out;
    }
    case 'InnerProduct': {
      const out: [number, boolean][] = [[paramInt(p, 2, 0), true]];
      if (paramInt(p, 1, 0)) out.push([paramInt(p, 0, 0), false]);
      return out;
    }
    case 'BatchNorm': {
      const c = paramInt(p, 0, 0);
      return [[c, false], [c, false], [c, false], [c, false]];
    }
    case 'MemoryData': {
      const w = paramInt(p, 0, 0), h = paramInt(p, 1, 0), d = paramInt(p, 11, 0), c = paramInt(p, 2, 0);
      return [[Math.max(w, 1) * Math.max(h, 1) * Math.max(d, 1) * Math.max(c, 1), false]];
    }
    case 'Scale': {
      const n = paramInt(p, 0, 0);
      if (n === -233) return [];
      const out: [number, boolean][] = [[n, false]];
      if (paramInt(p, 1, 0)) out.push([n, false]);
      return out;
    }
    case 'PReLU':
      return [[paramInt(p, 0, 0), false]];
    case 'Bias':
      return [[paramInt(p, 0, 0), false]];
    case 'InstanceNorm': {
      const c = paramInt(p, 0, 0);
      return paramInt(p, 2, 1) ? [[c, false], [c, false]] : [];
    }
    case 'Normalize':
      return [[paramInt(p, 3, 0), false]];
    case 'Embed': {
      const out: [number, boolean][] = [[paramInt(p, 3, 0), true]];
      if (paramInt(p, 2, 0)) out.push([paramInt(p, 0, 0), false]);
      return out;
    }
    case 'Padding': {
      const n = paramInt(p, 6, 0);
      return n ? [[n, false]] : [];
    }
    default:
      return WEIGHTLESS.has(type) ? [] : undefined;
  }
}

/** Layer types known to load nothing from the .bin. */
const WEIGHTLESS = new Set([
  'Input', 'Split', 'ReLU', 'Sigmoid', 'TanH', 'Clip', 'Concat', 'Softmax', 'Reshape', 'Permute', 'Flatten',
  'Pooling', 'Interp', 'BinaryOp', 'UnaryOp', 'Eltwise', 'Crop', 'Slice', 'Dropout', 'Noop', 'Exp', 'Log',
  'Power', 'AbsVal', 'ELU', 'HardSigmoid', 'HardSwish', 'Swish', 'Mish', 'Squeeze', 'ExpandDims', 'Reduction',
  'PixelShuffle', 'ShuffleChannel', 'Tile', 'Gemm', 'LRN', 'Threshold', 'SELU', 'GELU', 'CELU', 'Erf', 'Shrink', 'Reorg', 'Cast', 'MatMul',
]);

/**
 * Splits a .bin into each layer's weight buffers, checking tags and that the file is consumed
 * exactly. Throws FdkError naming `file` on truncation or an unknown tag.
 */
export function readBin(bytes: Uint8Array, layers: { type: string; name: string; params: ParamDict }[], file = '.bin'): WeightBlob[][] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  const need = (n: number, what: string) => {
    if (off + n > bytes.byteLength) throw new FdkError(`truncated: ${what} needs ${n} bytes at offset ${off}, file has ${bytes.byteLength}`, { file });
  };
  const out: WeightBlob[][] = [];
  for (const l of layers) {
    const layout = weightLayout(l.type, l.params);
    if (!layout) throw new FdkError(`cannot read weights of layer type ${l.type} (layer '${l.name}')`, { file });
    const blobs: WeightBlob[] = [];
    for (const [count, tagged] of layout) {
      const what = `layer '${l.name}' (${l.type})`;
      // counts come from .param values: a negative or fractional one would make a typed array throw a RangeError
      if (!Number.isSafeInteger(count) || count < 0) throw new FdkError(`${what}: weight count ${count} from the .param is not a non-negative integer`, { file });
      if (!tagged) {
        need(count * 4, what);
        blobs.push({ data: copyFloats(bytes, off, count), tagged });
        off += count * 4;
        continue;
      }
      need(4, what);
      const tag = dv.getUint32(off, true);
      off += 4;
      if (tag === TAG_FP32) {
        need(count * 4, what);
        blobs.push({ data: copyFloats(bytes, off, count), tagged });
        off += count * 4;
      } else if (tag === TAG_FP16) {
        need(count * 2, what);
        const data = new Float32Array(count);
        for (let i = 0; i < count; i++) data[i] = float16BitsToFloat32(dv.getUint16(off + i * 2, true));
        blobs.push({ data, tagged });
        off += count * 2 + pad4(count * 2);
      } else {
        throw new FdkError(`${what}: unsupported weight storage tag 0x${tag.toString(16)} at offset ${off - 4} (quantized weights are not supported)`, { file });
      }
    }
    out.push(blobs);
  }
  if (off !== bytes.byteLength) throw new FdkError(`${bytes.byteLength - off} bytes left after the last weight: .bin does not match the .param`, { file });
  return out;
}
