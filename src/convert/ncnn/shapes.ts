/**
 * Shape propagation over an ncnn layer list (Mat dims outer-first, no batch: (c,h,w) = [c,h,w]).
 * Covers the layer types fdk writes and those of the official onnx2ncnn conversions; used by
 * `analyze.ts` for per-layer MACs.
 */
import { FdkError, escapeName } from '../../util/errors.js';
import { paramArray, paramInt, type NcnnLayer } from './format/param.js';

export type Dims = number[];

function convOut(inp: number, k: number, d: number, s: number, pb: number, pa: number): number {
  return Math.floor((inp + pb + pa - (d * (k - 1) + 1)) / s) + 1;
}

function broadcast(a: Dims, b: Dims): Dims {
  const r = Math.max(a.length, b.length);
  const out: Dims = [];
  for (let i = 0; i < r; i++) out.push(Math.max(a[a.length - r + i] ?? 1, b[b.length - r + i] ?? 1));
  return out;
}

/** Output dims of one layer, given its input dims. Throws Error with a reason when unknown. */
export function layerOutputDims(l: NcnnLayer, ins: Dims[]): Dims[] {
  const p = l.params;
  const x = ins[0];
  const same = () => l.outputs.map(() => [...x]);
  switch (l.type) {
    case 'Convolution':
    case 'ConvolutionDepthWise':
    case 'Pooling': {
      const [c, h, w] = x;
      if (l.type === 'Pooling') {
        if (paramInt(p, 4, 0)) return [[c]];
        if (paramInt(p, 7, 0)) return [[c, paramInt(p, 18, paramInt(p, 8, 0)), paramInt(p, 8, 0)]];
      }
      const kw = paramInt(p, 1, 0), kh = paramInt(p, 11, kw);
      const isPool = l.type === 'Pooling';
      const dw = isPool ? 1 : paramInt(p, 2, 1), dh = isPool ? 1 : paramInt(p, 12, dw);
      const sw = paramInt(p, isPool ? 2 : 3, 1), sh = paramInt(p, isPool ? 12 : 13, sw);
      const pl = paramInt(p, isPool ? 3 : 4, 0);
      const pr = paramInt(p, isPool ? 14 : 15, pl), pt = paramInt(p, isPool ? 13 : 14, pl), pbm = paramInt(p, isPool ? 15 : 16, pt);
      const cout = isPool ? c : paramInt(p, 0, 0);
      if (pl === -233 || pl === -234 || (isPool && paramInt(p, 5, 0) >= 2)) return [[cout, Math.ceil(h / sh), Math.ceil(w / sw)]];
      if (isPool && paramInt(p, 5, 0) === 0) {
        // full padding: ceil mode
        const oh = Math.ceil((h + pt + pbm - kh) / sh) + 1, ow = Math.ceil((w + pl + pr - kw) / sw) + 1;
        return [[cout, oh, ow]];
      }
      return [[cout, convOut(h, kh, dh, sh, pt, pbm), convOut(w, kw, dw, sw, pl, pr)]];
    }
    case 'Deconvolution':
    case 'DeconvolutionDepthWise': {
      const [, h, w] = x;
      const kw = paramInt(p, 1, 0), kh = paramInt(p, 11, kw);
      const dw = paramInt(p, 2, 1), dh = paramInt(p, 12, dw);
      const sw = paramInt(p, 3, 1), sh = paramInt(p, 13, sw);
      const pl = paramInt(p, 4, 0), pr = paramInt(p, 15, pl), pt = paramInt(p, 14, pl), pbm = paramInt(p, 16, pt);
      const opw = paramInt(p, 18, 0), oph = paramInt(p, 19, opw);
      return [[paramInt(p, 0, 0), (h - 1) * sh + dh * (kh - 1) + 1 - pt - pbm + oph, (w - 1) * sw + dw * (kw - 1) + 1 - pl - pr + opw]];
    }
    case 'InnerProduct':
      return [x.length === 2 ? [x[0], paramInt(p, 0, 0)] : [paramInt(p, 0, 0)]];
    case 'Flatten':
      return [[x.reduce((a, b) => a * b, 1)]];
    case 'Permute': {
      const t = paramInt(p, 0, 0);
      const names = x.length === 2 ? ['WH', 'HW'] : x.length === 3 ? ['WHC', 'HWC', 'WCH', 'CWH', 'HCW', 'CHW'] : undefined;
      if (!names) return same();
      const letters = x.length === 2 ? 'HW' : 'CHW';
      const order = names[t].split('').reverse();
      return [order.map((ch) => x[letters.indexOf(ch)])];
    }
    case 'Reshape': {
      const keys = [2, 11, 1, 0].filter((k) => paramInt(p, k, -233) !== -233);
      const total = x.reduce((a, b) => a * b, 1);
      const keyOfIn: Record<number, number> = x.length === 1 ? { 0: 0 } : x.length === 2 ? { 1: 0, 0: 1 } : x.length === 3 ? { 2: 0, 1: 1, 0: 2 } : { 2: 0, 11: 1, 1: 2, 0: 3 };
      const dims = keys.map((k) => {
        const v = paramInt(p, k, -233);
        return v === 0 ? x[keyOfIn[k]] : v;
      });
      const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return [dims.map((d) => (d === -1 ? total / known : d))];
    }
    case 'Concat': {
      const a = paramInt(p, 0, 0);
      const axis = a < 0 ? a + x.length : a;
      const out = [...x];
      out[axis] = ins.reduce((s, d) => s + d[axis], 0);
      return [out];
    }
    case 'Slice': {
      const a = paramInt(p, 1, 0);
      const axis = a < 0 ? a + x.length : a;
      const slices = paramArray(p, 0) ?? [];
      let rest = x[axis];
      const n = l.outputs.length;
      return l.outputs.map((_, i) => {
        const out = [...x];
        let s = slices[i] ?? -233;
        if (s === -233) s = i === n - 1 ? rest : Math.floor(x[axis] / n);
        rest -= s;
        out[axis] = s;
        return out;
      });
    }
    case 'Crop': {
      const st = paramArray(p, 9), en = paramArray(p, 10), ax = paramArray(p, 11);
      if (!st || !en || !ax) throw new Error('Crop without starts/ends/axes');
      const out = [...x];
      ax.forEach((a, i) => {
        const axis = a < 0 ? a + x.length : a;
        const n = x[axis];
        const s = st[i] < 0 ? n + st[i] : Math.min(st[i], n);
        const e = en[i] === -233 ? n : Math.min(n, en[i] > 0 ? en[i] : n + en[i]);
        out[axis] = Math.max(0, e - s);
      });
      return [out];
    }
    case 'BinaryOp':
      return [ins.length === 2 ? broadcast(ins[0], ins[1]) : [...x]];
    case 'Eltwise':
      return [[...x]];
    case 'Interp': {
      const [c, h, w] = x;
      if (paramInt(p, 5, 0) && ins[1]) return [[c, ins[1][ins[1].length - 2], ins[1][ins[1].length - 1]]];
      const oh = paramInt(p, 3, 0), ow = paramInt(p, 4, 0);
      if (oh && ow) return [[c, oh, ow]];
      return [[c, Math.floor(h * paramInt(p, 1, 1)), Math.floor(w * paramInt(p, 2, 1))]];
    }
    case 'Padding': {
      const out = [...x];
      const r = x.length;
      out[r - 1] += paramInt(p, 2, 0) + paramInt(p, 3, 0);
      if (r >= 2) out[r - 2] += paramInt(p, 0, 0) + paramInt(p, 1, 0);
      if (r >= 3) out[r - 3] += paramInt(p, 7, 0) + paramInt(p, 8, 0);
      return [out];
    }
    case 'PixelShuffle': {
      const f = paramInt(p, 0, 1);
      return [[x[0] / (f * f), x[1] * f, x[2] * f]];
    }
    case 'Squeeze': {
      const axes = paramArray(p, 3);
      if (!axes) return [x.filter((d) => d !== 1)];
      const drop = new Set(axes.map((a) => (a < 0 ? a + x.length : a)));
      return [x.filter((_, i) => !drop.has(i))];
    }
    case 'ExpandDims': {
      const axes = (paramArray(p, 3) ?? []).slice().sort((a, b) => a - b);
      const out = [...x];
      for (const a of axes) out.splice(a < 0 ? a + out.length + 1 : a, 0, 1);
      return [out];
    }
    case 'Reduction': {
      const axes = (paramArray(p, 3) ?? []).map((a) => (a < 0 ? a + x.length : a));
      const keep = paramInt(p, 4, 0);
      if (paramInt(p, 1, 0)) return [keep ? x.map(() => 1) : [1]];
      return [keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i))];
    }
    case 'MatMul': {
      const [a, b] = ins;
      return [[...broadcast(a.slice(0, -2), b.slice(0, -2)), a[a.length - 2], b[b.length - 1]].filter((d) => d !== undefined)];
    }
    case 'Split':
    case 'ReLU': case 'Sigmoid': case 'TanH': case 'Clip': case 'Softmax': case 'BatchNorm': case 'Scale': case 'UnaryOp':
    case 'PReLU': case 'ELU': case 'SELU': case 'HardSigmoid': case 'HardSwish': case 'Swish': case 'Mish': case 'Softplus':
    case 'Dropout': case 'Noop': case 'AbsVal': case 'Exp': case 'Log': case 'Power': case 'InstanceNorm': case 'LRN': case 'GELU':
    case 'Bias': case 'Threshold': case 'Normalize': case 'ShuffleChannel':
      return same();
  }
  throw new Error(`no shape rule for layer type ${l.type}`);
}

/** Dims of every blob, from the Input layers' dims. */
export function propagateDims(layers: NcnnLayer[], inputs: Record<string, Dims>, file: string): Map<string, Dims> {
  const dims = new Map<string, Dims>();
  for (const l of layers) {
    if (l.type === 'Input') {
      const d = inputs[l.outputs[0]];
      if (!d) throw new FdkError(`input '${l.outputs[0]}' has no shape: pass --input ${l.outputs[0]}:1x3xHxW`, { file });
      dims.set(l.outputs[0], d);
      continue;
    }
    if (l.type === 'MemoryData') {
      const w = paramInt(l.params, 0, 0), h = paramInt(l.params, 1, 0), d = paramInt(l.params, 11, 0), c = paramInt(l.params, 2, 0);
      dims.set(l.outputs[0], c ? (d ? [c, d, h, w] : [c, h, w]) : h ? [h, w] : [w]);
      continue;
    }
    const ins = l.inputs.map((b) => {
      const d = dims.get(b);
      if (!d) throw new FdkError(`layer '${l.name}' reads blob '${b}', which no earlier layer produces`, { file });
      return d;
    });
    let outs: Dims[];
    try {
      outs = layerOutputDims(l, ins);
    } catch (e) {
      throw new FdkError(`layer '${l.name}' (${l.type}): ${(e as Error).message}`, { file });
    }
    // ncnn blobs have at most 4 dims of non-negative integer size: anything else comes from a hostile
    // parameter (a Concat axis of 2^31 made a 2^31-long sparse array and hung the analysis).
    for (const d of outs)
      if (!d || d.length > 4 || d.some((v) => !Number.isSafeInteger(v) || v < 0))
        throw new FdkError(`layer '${escapeName(l.name)}' (${escapeName(l.type)}): its parameters give output dims [${d ? d.slice(0, 5).join(', ') : ''}${d && d.length > 5 ? ', ...' : ''}], not a blob shape`, { file });
    l.outputs.forEach((o, i) => dims.set(o, outs[i] ?? outs[0]));
  }
  return dims;
}
