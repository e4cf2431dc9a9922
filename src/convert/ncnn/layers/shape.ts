/**
 * Records of layers that move data without arithmetic (or nearly): Input, MemoryData, Reshape,
 * Permute, Flatten, Concat, Slice, Crop, Squeeze, ExpandDims, Padding, Interp, Reorg,
 * PixelShuffle, ShuffleChannel, Tile, Reduction, ArgMax.
 *
 * Axis params of the modern layers (Concat, Slice, Crop starts/ends/axes, Squeeze/ExpandDims axes,
 * Reduction axes with fixbug0) count outer-first on ncnn's dims, like `Dims` here.
 */
import { COST, layer, raw, vol, type Dims, type LayerRecord, type Params } from './types.js';

const norm = (a: number, rank: number) => (a < 0 ? a + rank : a);
/** An axis param that must name one of the blob's dims (ncnn would read out of bounds otherwise). */
const axisOf = (a: number, rank: number) => {
  const r = norm(a, rank);
  if (!Number.isInteger(r) || r < 0 || r >= rank) throw new Error(`axis ${a} is outside the input's ${rank} dims`);
  return r;
};

/** Dims of a Mat declared by w / h / d / c params (Input, MemoryData); 0 = absent. */
export function declaredDims(p: Params): Dims | undefined {
  const w = p.num('w'), h = p.num('h'), d = p.num('d'), c = p.num('c');
  if (c) return d ? [c, d, h, w] : [c, h, w];
  if (h) return [h, w];
  return w ? [w] : undefined;
}

/** Permute order_type -> the input axes in output order (innermost first, ncnn's naming). */
const PERMUTE_NAMES: Record<number, string[]> = {
  2: ['WH', 'HW'],
  3: ['WHC', 'HWC', 'WCH', 'CWH', 'HCW', 'CHW'],
  4: ['WHDC', 'HWDC', 'WDHC', 'DWHC', 'HDWC', 'DHWC', 'WHCD', 'HWCD', 'WCHD', 'CWHD', 'HCWD', 'CHWD', 'WDCH', 'DWCH', 'WCDH', 'CWDH', 'DCWH', 'CDWH', 'HDCW', 'DHCW', 'HCDW', 'CHDW', 'DCHW', 'CDHW'],
};
const AXIS_LETTERS: Record<number, string> = { 2: 'HW', 3: 'CHW', 4: 'CDHW' };

/**
 * A Permute's axis map on a blob of `rank` dims (outer-first): output axis k is input axis
 * result[k]. Undefined for an order_type that does not exist at that rank; identity for rank 1.
 */
export function permuteAxes(orderType: number, rank: number): number[] | undefined {
  const names = PERMUTE_NAMES[rank];
  if (!names) return rank === 1 ? [0] : undefined;
  return names[orderType]?.split('').reverse().map((ch) => AXIS_LETTERS[rank].indexOf(ch));
}

function reshapeDims(p: Params, x: Dims): Dims {
  const keys = ['c', 'd', 'h', 'w'].filter((k) => p.num(k) !== -233);
  const total = vol(x);
  // 0 copies the same-named axis of the input
  const inputAxis: Record<string, number | undefined> = x.length === 1 ? { w: 0 } : x.length === 2 ? { h: 0, w: 1 } : x.length === 3 ? { c: 0, h: 1, w: 2 } : { c: 0, d: 1, h: 2, w: 3 };
  const dims = keys.map((k) => (p.num(k) === 0 ? x[inputAxis[k] ?? 0] : p.num(k)));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return dims.map((d) => (d === -1 ? total / known : d));
}

function interpDims(p: Params, ins: Dims[]): Dims {
  const x = ins[0];
  if (p.num('dynamic_target_size') && ins[1]) {
    const r = ins[1];
    return [x[0], r[r.length - 2], r[r.length - 1]];
  }
  // a 2-D blob is resized along w only
  if (x.length === 2) return [x[0], p.num('output_width') || Math.floor(x[1] * p.num('width_scale'))];
  // a 1-D blob is resized as (c=w, h=1, w=1); the fixed size counts only when both sides are set
  const [c, h, w] = x.length === 1 ? [x[0], 1, 1] : x;
  const oh = p.num('output_height'), ow = p.num('output_width');
  if (oh && ow) return [c, oh, ow];
  return [c, Math.floor(h * p.num('height_scale')), Math.floor(w * p.num('width_scale'))];
}

function cropDims(p: Params, ins: Dims[]): Dims {
  const x = ins[0];
  const starts = p.array('starts');
  if (starts.length) {
    const ends = p.array('ends'), axes = p.array('axes');
    const out = [...x];
    starts.forEach((st, i) => {
      const axis = norm(axes[i] ?? i, x.length);
      const n = x[axis];
      const s = st < 0 ? Math.max(0, n + st) : Math.min(st, n);
      const en = ends[i] ?? -233;
      const e = en === -233 ? n : Math.min(n, en > 0 ? en : n + en);
      out[axis] = Math.max(0, e - s);
    });
    return out;
  }
  // caffe style: to a reference blob's size, or explicit outw/outh/outc (0 = minus both offsets)
  if (ins[1]) {
    const r = ins[1];
    return x.map((d, i) => (i === 0 && x.length === 3 && !p.num('coffset') ? d : r[r.length - x.length + i] ?? d));
  }
  const size = (n: number, out: string, a: string, b: string) => p.num(out) || n - p.num(a) - p.num(b);
  if (x.length === 1) return [size(x[0], 'outw', 'woffset', 'woffset2')];
  if (x.length === 2) return [size(x[0], 'outh', 'hoffset', 'hoffset2'), size(x[1], 'outw', 'woffset', 'woffset2')];
  return [size(x[0], 'outc', 'coffset', 'coffset2'), ...x.slice(1, -2), size(x[x.length - 2], 'outh', 'hoffset', 'hoffset2'), size(x[x.length - 1], 'outw', 'woffset', 'woffset2')];
}

function sliceDims(p: Params, ins: Dims[], n: number): Dims[] {
  const x = ins[0];
  const axis = axisOf(p.num('axis'), x.length);
  const total = x[axis];
  const indices = p.array('indices');
  let sizes: number[];
  if (indices.length) {
    const cuts = [0, ...indices.map((i) => norm(i, total)), total];
    sizes = cuts.slice(1).map((c, i) => c - cuts[i]);
  } else {
    const slices = p.array('slices');
    let used = 0;
    sizes = Array.from({ length: n }, (_, i) => {
      // -233: an equal share of what the earlier slices left
      const s = (slices[i] ?? -233) === -233 ? Math.floor((total - used) / (n - i)) : slices[i];
      used += s;
      return s;
    });
  }
  return sizes.slice(0, n).map((s) => x.map((d, i) => (i === axis ? s : d)));
}

function squeezeDims(p: Params, x: Dims): Dims {
  const axes = p.array('axes');
  if (axes.length) {
    const drop = new Set(axes.map((a) => norm(a, x.length)));
    return x.filter((d, i) => !(drop.has(i) && d === 1));
  }
  const letters = AXIS_LETTERS[x.length] ?? 'W';
  const flag: Record<string, string> = { W: 'squeeze_w', H: 'squeeze_h', D: 'squeeze_d', C: 'squeeze_c' };
  return x.filter((d, i) => !(d === 1 && p.num(flag[letters[i]])));
}

function expandDims(p: Params, x: Dims): Dims {
  const axes = p.array('axes');
  const out = [...x];
  if (axes.length) {
    const rank = x.length + axes.length;
    for (const a of axes.map((v) => norm(v, rank)).sort((m, n) => m - n)) out.splice(a, 0, 1);
    return out;
  }
  // expand_w / expand_h / expand_c flags (old style): insert innermost first
  if (p.num('expand_w')) out.push(1);
  if (p.num('expand_h')) out.splice(out.length - 1, 0, 1);
  if (p.num('expand_c')) out.unshift(1);
  return out;
}

function reductionDims(p: Params, x: Dims): Dims {
  const keep = p.num('keepdims');
  if (p.num('reduce_all')) return keep ? x.map(() => 1) : [1];
  const axes = p.array('axes').map((a) => norm(a, x.length));
  return keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i));
}

function tileDims(p: Params, x: Dims): Dims {
  const repeats = p.array('repeats');
  if (!repeats.length) return x.map((d, i) => (i === norm(p.num('axis'), x.length) ? d * p.num('tiles') : d));
  const rank = Math.max(x.length, repeats.length);
  const xs = [...new Array<number>(rank - x.length).fill(1), ...x];
  const rs = [...new Array<number>(rank - repeats.length).fill(1), ...repeats];
  return xs.map((d, i) => d * rs[i]);
}

const MAT_PARAMS: [number, string, number][] = [[0, 'w', 0], [1, 'h', 0], [11, 'd', 0], [2, 'c', 0]];

export const SHAPE_LAYERS: LayerRecord[] = [
  // Input dims come from the caller (analysis input shapes) or from these params
  layer('Input', MAT_PARAMS, { shape: (p) => [declaredDims(p) ?? []] }),
  // load_model reads w·h·d·c values chosen by the outermost non-zero of d, c, h, w (none: nothing
  // read, a 1-element blob), as ModelBin type load_type (1 = raw fp32, 0 = tagged)
  layer('MemoryData', [...MAT_PARAMS, [21, 'load_type', 1]], {
    weights: (p) => {
      const w = p.num('w'), h = p.num('h'), d = p.num('d'), c = p.num('c');
      const count = d ? w * h * d * c : c ? w * h * c : h ? w * h : w;
      if (!count) return [];
      return [{ name: 'data', count, tagged: p.num('load_type') === 0 }];
    },
    shape: (p) => [declaredDims(p) ?? [1]],
    cost: ({ weights, thop }) => ({ macs: 0, params: thop ? 0 : weights }),
  }),
  layer('Reshape', [[0, 'w', -233], [1, 'h', -233], [11, 'd', -233], [2, 'c', -233], [3, 'permute', 0]], { shape: (p, ins) => [reshapeDims(p, ins[0])] }),
  layer('Permute', [[0, 'order_type', 0]], {
    shape: (p, ins) => {
      const x = ins[0];
      if (!PERMUTE_NAMES[x.length]) return [[...x]];
      const axes = permuteAxes(p.num('order_type'), x.length);
      if (!axes) throw new Error(`order_type ${p.num('order_type')} does not exist for a ${x.length}-D blob`);
      return [axes.map((a) => x[a])];
    },
  }),
  layer('Flatten', [], { shape: (_p, ins) => [[vol(ins[0])]] }),
  layer('Concat', [[0, 'axis', 0]], {
    shape: (p, ins) => {
      const axis = axisOf(p.num('axis'), ins[0].length);
      return [ins[0].map((d, i) => (i === axis ? ins.reduce((s, x) => s + x[axis], 0) : d))];
    },
  }),
  layer('Slice', [[0, 'slices', []], [1, 'axis', 0], [2, 'indices', []]], { shape: sliceDims }),
  layer('Crop', [
    [0, 'woffset', 0], [1, 'hoffset', 0], [13, 'doffset', 0], [2, 'coffset', 0], [3, 'outw', 0], [4, 'outh', 0], [14, 'outd', 0], [5, 'outc', 0],
    [6, 'woffset2', 0], [7, 'hoffset2', 0], [15, 'doffset2', 0], [8, 'coffset2', 0], [9, 'starts', []], [10, 'ends', []], [11, 'axes', []],
  ], { shape: (p, ins) => [cropDims(p, ins)] }),
  layer('Squeeze', [[0, 'squeeze_w', 0], [1, 'squeeze_h', 0], [11, 'squeeze_d', 0], [2, 'squeeze_c', 0], [3, 'axes', []]], { shape: (p, ins) => [squeezeDims(p, ins[0])] }),
  layer('ExpandDims', [[0, 'expand_w', 0], [1, 'expand_h', 0], [11, 'expand_d', 0], [2, 'expand_c', 0], [3, 'axes', []]], { shape: (p, ins) => [expandDims(p, ins[0])] }),
  layer('Padding', [[0, 'top', 0], [1, 'bottom', 0], [2, 'left', 0], [3, 'right', 0], [4, 'type', 0], [5, 'value', 0], [6, 'per_channel_pad_data_size', 0], [7, 'front', 0], [8, 'behind', 'front']], {
    weights: (p) => (p.num('per_channel_pad_data_size') ? [raw('per_channel_pad_data', p.num('per_channel_pad_data_size'))] : []),
    shape: (p, ins) => {
      const out = [...ins[0]];
      const r = out.length;
      out[r - 1] += p.num('left') + p.num('right');
      if (r >= 2) out[r - 2] += p.num('top') + p.num('bottom');
      if (r >= 3) out[r - 3] += p.num('front') + p.num('behind');
      return [out];
    },
  }),
  layer('Interp', [[0, 'resize_type', 0], [1, 'height_scale', 1], [2, 'width_scale', 1], [3, 'output_height', 0], [4, 'output_width', 0], [5, 'dynamic_target_size', 0], [6, 'align_corner', 0]], {
    shape: (p, ins) => [interpDims(p, ins)],
    cost: ({ p, outs, thop }) => ({ macs: thop ? 0 : vol(outs[0]) * (p.num('resize_type') === 2 ? 4 : p.num('resize_type') === 3 ? 8 : 0), params: 0 }),
  }),
  layer('Reorg', [[0, 'stride', 1], [1, 'mode', 0]], {
    shape: (p, ins) => {
      const [c, h, w] = ins[0], s = p.num('stride');
      return [[c * s * s, Math.floor(h / s), Math.floor(w / s)]];
    },
  }),
  layer('PixelShuffle', [[0, 'upscale_factor', 1], [1, 'mode', 0]], {
    shape: (p, ins) => {
      const [c, h, w] = ins[0], f = p.num('upscale_factor');
      return [[c / (f * f), h * f, w * f]];
    },
  }),
  layer('ShuffleChannel', [[0, 'group', 1], [1, 'reverse', 0]]),
  layer('Tile', [[0, 'axis', 0], [1, 'tiles', 1], [2, 'repeats', []]], { shape: (p, ins) => [tileDims(p, ins[0])] }),
  layer('Reduction', [[0, 'operation', 0], [1, 'reduce_all', 1], [2, 'coeff', 1], [3, 'axes', []], [4, 'keepdims', 0], [5, 'fixbug0', 0]], {
    shape: (p, ins) => [reductionDims(p, ins[0])],
    cost: ({ ins, thop }) => ({ macs: thop ? 0 : vol(ins[0]) * COST.ADD, params: 0 }),
  }),
  layer('Flip', [[0, 'axes', []]]),
  layer('GLU', [[0, 'axis', 0]], {
    shape: (p, ins) => {
      const axis = norm(p.num('axis'), ins[0].length);
      return [ins[0].map((d, i) => (i === axis ? d / 2 : d))];
    },
  }),
  layer('ArgMax', [[0, 'out_max_val', 0], [1, 'topk', 1]], { shape: (p) => [[p.num('out_max_val') ? 2 : 1, p.num('topk')]] }),
];
