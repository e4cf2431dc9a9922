/**
 * MaxPool / AveragePool (1-D, 2-D, 3-D) -> ncnn Pooling1D / Pooling / Pooling3D.
 *
 * With static sizes every ONNX padding rule (explicit pads, SAME_UPPER/LOWER, ceil_mode) is turned
 * into explicit pads in ncnn's "valid" pad mode, which reproduces ONNX exactly. Two things ncnn
 * Pooling cannot do are decomposed instead (static sizes only): dilations, and an average that
 * counts explicit pads while ceil_mode adds cells ONNX does not count. The decomposition is
 * separable: pad, then per axis the k dilated taps as Crops combined by BinaryOp max/add, one
 * stride-s subsampling Pooling (kernel 1), and for averages a constant 1/count map.
 */
import { attrInt, attrInts, attrString } from '../../../onnx/model.js';
import { float, int, type ParamValue } from '../format/param.js';
import type { EmittedLayer, LowerContext } from '../lower.js';
import { P, memoryData, one, type LowerResult } from '../lowering-helpers.js';

const LAYER = { 1: 'Pooling1D', 2: 'Pooling', 3: 'Pooling3D' } as const;
/** ncnn param keys per spatial axis, outermost (D) to innermost (W): kernel, stride, pad before, pad after. */
const KEYS: Record<number, [number, number, number, number][]> = {
  1: [[1, 2, 3, 14]],
  2: [[11, 12, 13, 15], [1, 2, 3, 14]],
  3: [[21, 22, 23, 16], [11, 12, 13, 15], [1, 2, 3, 14]],
};

interface PoolAxis {
  inSize: number;
  k: number;
  s: number;
  d: number;
  /** explicit (or SAME-derived) pads */
  pb: number;
  pe: number;
  out: number;
}

/** Output size and pads per axis the way ONNX defines them (static input). */
function poolAxes(c: LowerContext, spatial: number[]): PoolAxis[] {
  const n = c.node;
  const nd = spatial.length;
  const k = attrInts(n, 'kernel_shape') ?? [];
  const s = attrInts(n, 'strides') ?? new Array(nd).fill(1);
  const d = attrInts(n, 'dilations') ?? new Array(nd).fill(1);
  const pads = attrInts(n, 'pads') ?? new Array(2 * nd).fill(0);
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  const ceil = attrInt(n, 'ceil_mode', 0) === 1;
  return spatial.map((inSize, a) => {
    const span = d[a] * (k[a] - 1) + 1;
    let pb = pads[a], pe = pads[a + nd], out: number;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      out = Math.ceil(inSize / s[a]);
      const total = Math.max(0, (out - 1) * s[a] + span - inSize);
      pb = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
      pe = total - pb;
    } else if (autoPad === 'VALID') {
      pb = pe = 0;
      out = Math.floor((inSize - span) / s[a]) + 1;
    } else {
      const size = (inSize + pb + pe - span) / s[a] + 1;
      out = ceil ? Math.ceil(size) : Math.floor(size);
      // the last window must start inside the input or its leading pad
      if (ceil && (out - 1) * s[a] >= inSize + pb) out--;
    }
    return { inSize, k: k[a], s: s[a], d: d[a], pb, pe, out };
  });
}

/** Cells the last window reaches beyond the stated pads (ceil_mode). */
const extraEnd = (a: PoolAxis) => Math.max(0, (a.out - 1) * a.s + a.d * (a.k - 1) + 1 - a.inSize - a.pb - a.pe);

export function lowerPooling(c: LowerContext, type: 0 | 1): LowerResult {
  const n = c.node;
  const r = c.rank(0);
  const nd = r - 2;
  if (nd < 1 || nd > 3) c.fail(`only 1-D, 2-D and 3-D pooling is supported (input rank ${r})`);
  if ((attrInts(n, 'kernel_shape') ?? []).length !== nd) c.fail(`kernel_shape [${attrInts(n, 'kernel_shape')}] does not match the input rank ${r}`);
  if (n.outputs.length > 1 && n.outputs[1]) c.fail('MaxPool indices output (argmax) has no ncnn equivalent');
  const cip = type === 1 ? attrInt(n, 'count_include_pad', 0) : 0;
  const dims = c.dimsOf(c.inputName(0));
  const spatial = dims?.slice(2).every((x) => typeof x === 'number' && x > 0) ? (dims.slice(2) as number[]) : undefined;
  const dilated = (attrInts(n, 'dilations') ?? []).some((x) => x !== 1);
  if (!spatial) {
    if (dilated) c.fail('dilated pooling needs static input sizes (fix them with --input NAME:1x3xHxW)');
    return dynamicPooling(c, type, nd, cip);
  }
  const axes = poolAxes(c, spatial);
  if (dilated || (cip && axes.some((a) => extraEnd(a) > 0))) return decomposedPooling(c, type, cip === 1, axes);
  const p = P([0, int(type)], [5, int(1)]);
  axes.forEach((a, i) => {
    const [kk, ks, kb, ke] = KEYS[nd][i];
    p.set(kk, int(a.k)).set(ks, int(a.s)).set(kb, int(a.pb)).set(ke, int(a.pe + extraEnd(a)));
  });
  if (type === 1) p.set(6, int(cip));
  return one(LAYER[nd as 1 | 2 | 3], c, new Map([...p.entries()].sort((x, y) => x[0] - y[0])), r);
}

/** Unknown sizes: ncnn's own SAME and full-padding modes. */
function dynamicPooling(c: LowerContext, type: 0 | 1, nd: number, cip: number): LowerResult {
  const n = c.node;
  const k = attrInts(n, 'kernel_shape')!;
  const s = attrInts(n, 'strides') ?? new Array(nd).fill(1);
  const pads = attrInts(n, 'pads') ?? new Array(2 * nd).fill(0);
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  const padMode = autoPad === 'SAME_UPPER' ? 2 : autoPad === 'SAME_LOWER' ? 3 : attrInt(n, 'ceil_mode', 0) ? 0 : 1;
  const p = P([0, int(type)], [5, int(padMode)]);
  for (let i = 0; i < nd; i++) {
    const [kk, ks, kb, ke] = KEYS[nd][i];
    p.set(kk, int(k[i])).set(ks, int(s[i])).set(kb, int(autoPad === 'VALID' ? 0 : pads[i])).set(ke, int(autoPad === 'VALID' ? 0 : pads[i + nd]));
  }
  if (type === 1) p.set(6, int(cip));
  return one(LAYER[nd as 1 | 2 | 3], c, new Map([...p.entries()].sort((x, y) => x[0] - y[0])), nd + 2);
}

function decomposedPooling(c: LowerContext, type: 0 | 1, includePad: boolean, axes: PoolAxis[]): LowerResult {
  const nd = axes.length;
  const base = c.node.outputs[0];
  const layers: EmittedLayer[] = [];
  let x = c.blob(0);
  let k = 0;
  const next = (suffix: string) => `${base}_${suffix}${k++}`;
  const add = (l: EmittedLayer, suffix: string): string => {
    const out = next(suffix);
    layers.push({ ...l, outputs: [out], suffix: out.slice(base.length + 1) });
    return out;
  };
  // 1. pad: -FLT_MAX for max (never wins), 0 for sums (counts are handled by the 1/count map)
  const end = axes.map((a) => Math.max(0, (a.out - 1) * a.s + a.d * (a.k - 1) + 1 - a.inSize - a.pb));
  if (axes.some((a, i) => a.pb || end[i])) {
    // ncnn Padding: 0/1 = h, 2/3 = w, 7/8 = d (of a 4-D Mat)
    const keys = nd === 1 ? [[2, 3]] : nd === 2 ? [[0, 1], [2, 3]] : [[7, 8], [0, 1], [2, 3]];
    const p = new Map<number, ParamValue>([[4, int(0)], [5, float(type === 0 ? -3.4028234663852886e38 : 0)]]);
    axes.forEach((a, i) => p.set(keys[i][0], int(a.pb)).set(keys[i][1], int(end[i])));
    x = add({ type: 'Padding', params: new Map([...p.entries()].sort((a, b) => a[0] - b[0])), inputs: [x] }, 'pad');
  }
  // 2. per axis: combine the k dilated taps at stride 1
  axes.forEach((a, i) => {
    const len = (a.out - 1) * a.s + 1;
    let acc: string | undefined;
    for (let j = 0; j < a.k; j++) {
      const tap = add({ type: 'Crop', params: P([9, { kind: 'ints', value: [j * a.d] }], [10, { kind: 'ints', value: [j * a.d + len] }], [11, { kind: 'ints', value: [i + 1] }]), inputs: [x] }, 'tap');
      acc = acc === undefined ? tap : add({ type: 'BinaryOp', params: P([0, int(type === 0 ? 4 : 0)]), inputs: [acc, tap] }, type === 0 ? 'max' : 'sum');
    }
    x = acc!;
  });
  // 3. stride
  if (axes.some((a) => a.s > 1)) {
    const p = P([0, int(0)], [5, int(1)]);
    axes.forEach((a, i) => {
      const [kk, ks] = KEYS[nd][i];
      p.set(kk, int(1)).set(ks, int(a.s));
    });
    x = add({ type: LAYER[nd as 1 | 2 | 3], params: new Map([...p.entries()].sort((q, w) => q[0] - w[0])), inputs: [x] }, 'stride');
  }
  // 4. average: divide by the number of counted cells of each window (a product over axes)
  if (type === 1) {
    const counts = axes.map((a) => {
      const [lo, hi] = includePad ? [-a.pb, a.inSize + a.pe] : [0, a.inSize];
      return Array.from({ length: a.out }, (_, o) => {
        let m = 0;
        for (let j = 0; j < a.k; j++) {
          const pos = o * a.s - a.pb + j * a.d;
          if (pos >= lo && pos < hi) m++;
        }
        return m;
      });
    });
    const outDims = axes.map((a) => a.out);
    const total = outDims.reduce((p, q) => p * q, 1);
    const inv = new Float32Array(total);
    for (let f = 0; f < total; f++) {
      let rem = f, cnt = 1;
      for (let i = nd - 1; i >= 0; i--) {
        cnt *= counts[i][rem % outDims[i]];
        rem = Math.floor(rem / outDims[i]);
      }
      inv[f] = 1 / cnt;
    }
    const blob = `${base}_inv_count`;
    layers.push(memoryData(blob, [1, ...outDims], inv, 'inv_count'));
    layers.push({ type: 'BinaryOp', params: P([0, int(2)]), inputs: [x, blob] });
  } else {
    // the last combining layer writes the node's output
    const last = layers[layers.length - 1];
    last.outputs = undefined;
    last.suffix = undefined;
  }
  return { layers, ranks: [nd + 2] };
}
