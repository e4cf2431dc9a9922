/**
 * The ONNX -> ncnn op mapping, as a table: for each ONNX op, the ncnn layer type(s) it becomes and
 * a small function building params and weights. Every op listed here has ONNX backend node tests
 * run against real ncnn by `npm run conformance:ncnn`. An op that is not listed stops the
 * conversion with an error naming op and node; nothing is ever written verbatim.
 */
import { attrFloat, attrInt, attrInts, attrString, attrFloats } from '../../onnx/model.js';
import { float, floats, int, ints, type ParamValue } from './format/param.js';
import { BatchAxisError, ncnnAxis, permuteOrderType, reshapeParams } from './passes/batch-axis.js';
import { isNum, type SymEl } from './passes/shape-glue.js';
import type { EmittedLayer, LowerContext } from './lower.js';
import { NEW_OPS } from './ops/index.js';

export type LowerResult = { alias: number } | { layers: EmittedLayer[]; ranks: number[] };

export interface OpEntry {
  /** ncnn layer type(s) this op becomes (documentation and the README table). */
  ncnn: string;
  lower: (c: LowerContext) => LowerResult;
}

const P = (...kv: [number, ParamValue][]) => new Map<number, ParamValue>(kv);
const one = (type: string, c: LowerContext, params: Map<number, ParamValue>, rank: number, extra: Partial<EmittedLayer> = {}): LowerResult => ({
  layers: [{ type, params, inputs: [c.blob(0)], ...extra }],
  ranks: [rank],
});
const axisOf = (c: LowerContext, a: number, rank: number) => {
  try {
    return ncnnAxis(a, rank);
  } catch (e) {
    if (e instanceof BatchAxisError) c.fail(e.message, 'batch');
    throw e;
  }
};

// ---------------------------------------------------------------------------------------------
// convolution family

function convLike(c: LowerContext, transpose: boolean): LowerResult {
  const n = c.node;
  const W = c.weight(1, 'weight');
  const wdims = c.constDims(1);
  if (wdims.length !== 4) c.fail(`only 2-D ${n.opType} is supported (weight rank ${wdims.length})`);
  const group = attrInt(n, 'group', 1);
  const hasBias = c.hasInput(2);
  const outCh = transpose ? wdims[1] * group : wdims[0];
  const k = attrInts(n, 'kernel_shape') ?? wdims.slice(2);
  const d = attrInts(n, 'dilations') ?? [1, 1];
  const s = attrInts(n, 'strides') ?? [1, 1];
  const pads = attrInts(n, 'pads') ?? [0, 0, 0, 0];
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  const params: [number, ParamValue][] = [[0, int(outCh)], [1, int(k[1])], [11, int(k[0])], [2, int(d[1])], [12, int(d[0])], [3, int(s[1])], [13, int(s[0])]];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    if (transpose) c.fail(`auto_pad ${autoPad} is not supported for ConvTranspose`);
    params.push([4, int(autoPad === 'SAME_UPPER' ? -233 : -234)]);
  } else if (autoPad === 'VALID') {
    params.push([4, int(0)], [14, int(0)], [15, int(0)], [16, int(0)]);
  } else params.push([4, int(pads[1])], [14, int(pads[0])], [15, int(pads[3])], [16, int(pads[2])]);
  params.push([5, int(hasBias ? 1 : 0)], [6, int(W.length)]);
  let type: string;
  let data = W;
  if (!transpose) {
    type = group > 1 ? 'ConvolutionDepthWise' : 'Convolution';
    if (group > 1) params.push([7, int(group)]);
  } else {
    type = group > 1 ? 'DeconvolutionDepthWise' : 'Deconvolution';
    if (group > 1) params.push([7, int(group)]);
    const op = attrInts(n, 'output_padding');
    if (op && (op[0] || op[1])) params.push([18, int(op[1])], [19, int(op[0])]);
    if (attrInts(n, 'output_shape')) c.fail('ConvTranspose output_shape is not supported');
    // ONNX ConvTranspose weights are [in, out/g, kh, kw]; ncnn wants [g][out/g][in/g][kh][kw]
    const [cin, coutG, kh, kw] = wdims;
    const cinG = cin / group;
    data = new Float32Array(W.length);
    let o = 0;
    for (let g = 0; g < group; g++)
      for (let oc = 0; oc < coutG; oc++)
        for (let ic = 0; ic < cinG; ic++)
          for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) data[o++] = W[((((g * cinG + ic) * coutG + oc) * kh + y) * kw) + x];
  }
  const weights = [{ data, tagged: true }];
  if (hasBias) weights.push({ data: c.weight(2, 'bias'), tagged: false });
  return one(type, c, new Map(params), 4, { weights });
}

function pooling(c: LowerContext, type: 0 | 1): LowerResult {
  const n = c.node;
  const k = attrInts(n, 'kernel_shape') ?? [];
  if (k.length !== 2) c.fail(`only 2-D pooling is supported (kernel_shape [${k}])`);
  const s = attrInts(n, 'strides') ?? [1, 1];
  const pads = [...(attrInts(n, 'pads') ?? [0, 0, 0, 0])];
  const dil = attrInts(n, 'dilations');
  if (dil && dil.some((x) => x !== 1)) c.fail('dilated pooling is not supported by ncnn');
  if (n.outputs.length > 1 && n.outputs[1]) c.fail('MaxPool indices output is not supported');
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  let padMode = attrInt(n, 'ceil_mode', 0) ? 0 : 1;
  const dims = c.dimsOf(c.inputName(0));
  const hw = dims?.slice(2).every((d) => typeof d === 'number' && d > 0) ? (dims.slice(2) as number[]) : undefined;
  if (hw && (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER' || padMode === 0)) {
    // static size: explicit pads reproduce ONNX exactly (ncnn's SAME / full-padding modes count
    // padded cells differently, and ONNX drops a last window that starts in the padding)
    for (let a = 0; a < 2; a++) {
      const [inp, kk, ss] = [hw[a], k[a], s[a]];
      let out: number;
      if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        out = Math.ceil(inp / ss);
        const total = Math.max(0, (out - 1) * ss + kk - inp);
        const small = Math.floor(total / 2);
        pads[a] = autoPad === 'SAME_UPPER' ? small : total - small;
        pads[a + 2] = total - pads[a];
      } else {
        out = Math.ceil((inp + pads[a] + pads[a + 2] - kk) / ss) + 1;
        if ((out - 1) * ss >= inp + pads[a]) out--;
        pads[a + 2] = Math.max(pads[a + 2], (out - 1) * ss + kk - inp - pads[a]);
      }
    }
    padMode = 1;
  } else if (autoPad === 'SAME_UPPER') padMode = 2;
  else if (autoPad === 'SAME_LOWER') padMode = 3;
  const p = P([0, int(type)], [1, int(k[1])], [11, int(k[0])], [2, int(s[1])], [12, int(s[0])], [3, int(pads[1])], [13, int(pads[0])], [14, int(pads[3])], [15, int(pads[2])], [5, int(padMode)]);
  if (type === 1) p.set(6, int(attrInt(n, 'count_include_pad', 0)));
  return one('Pooling', c, p, c.rank(0));
}

function globalPool(c: LowerContext, type: 0 | 1): LowerResult {
  if (c.rank(0) !== 4) c.fail('only 2-D global pooling is supported');
  // ncnn global pooling yields a 1-D Mat; ONNX keeps [1,C,1,1]: adaptive 1x1 pooling keeps 3-D
  return one('Pooling', c, P([0, int(type)], [7, int(1)], [8, int(1)], [18, int(1)]), 4);
}

// ---------------------------------------------------------------------------------------------
// elementwise

const BINARY: Record<string, [number, number]> = { Sum: [0, 0], Add: [0, 0], Sub: [1, 7], Mul: [2, 2], Div: [3, 8], Max: [4, 4], Min: [5, 5], Pow: [6, 9] };

function binary(c: LowerContext): LowerResult {
  const [op, rop] = BINARY[c.node.opType];
  if (c.inputCount === 1) return { alias: 0 };
  if (c.inputCount > 2) {
    // Max/Min/Sum of n activations: a chain of BinaryOps
    if (c.node.inputs.some((n) => !c.isActivation(n))) c.fail(`${c.node.opType} of ${c.inputCount} inputs with constants`);
    const r = Math.max(...c.node.inputs.map((_, i) => c.rank(i)));
    const layers: EmittedLayer[] = [];
    let acc = c.blob(0);
    for (let i = 1; i < c.inputCount; i++) {
      const last = i === c.inputCount - 1;
      const out = last ? undefined : [`${c.node.outputs[0]}_acc${i}`];
      layers.push({ type: 'BinaryOp', params: P([0, int(op)]), inputs: [acc, c.blob(i)], outputs: out, suffix: last ? undefined : `acc${i}` });
      if (out) acc = out[0];
    }
    return { layers, ranks: [r] };
  }
  const k0 = c.isActivation(c.inputName(0)) ? undefined : c.known(0);
  const k1 = c.isActivation(c.inputName(1)) ? undefined : c.known(1);
  if (k0 && k1)
    c.fail('both operands depend only on tensor sizes known at run time (e.g. priors generated from the input size), which ncnn cannot compute; fix the input size with --input NAME:1x3xHxW', 'runtime-weight');
  const scalar = (k?: { els: SymEl[] }) => k && k.els.length === 1 && isNum(k.els[0]);
  if (scalar(k1)) return one('BinaryOp', c, P([0, int(op)], [1, int(1)], [2, float(k1!.els[0] as number)]), c.rank(0));
  if (scalar(k0)) return { layers: [{ type: 'BinaryOp', params: P([0, int(rop)], [1, int(1)], [2, float(k0!.els[0] as number)]), inputs: [c.blob(1)] }], ranks: [c.rank(1)] };
  const r = Math.max(k0 ? 0 : c.rank(0), k1 ? 0 : c.rank(1));
  return { layers: [{ type: 'BinaryOp', params: P([0, int(op)]), inputs: [c.blob(0, r), c.blob(1, r)] }], ranks: [r] };
}

const UNARY: Record<string, number> = { Abs: 0, Neg: 1, Floor: 2, Ceil: 3, Sqrt: 5, Exp: 7, Log: 8, Sin: 9, Cos: 10, Tan: 11, Asin: 12, Acos: 13, Atan: 14, Reciprocal: 15, Round: 18 };
const unary = (c: LowerContext) => one('UnaryOp', c, P([0, int(UNARY[c.node.opType])]), c.rank(0));

function clip(c: LowerContext): LowerResult {
  let min = -3.4028234663852886e38, max = 3.4028234663852886e38;
  if (c.opset < 11) {
    min = attrFloat(c.node, 'min', min);
    max = attrFloat(c.node, 'max', max);
  } else {
    if (c.hasInput(1)) min = c.constNumbers(1, 'min')[0];
    if (c.hasInput(2)) max = c.constNumbers(2, 'max')[0];
  }
  return one('Clip', c, P([0, float(min)], [1, float(max)]), c.rank(0));
}

// ---------------------------------------------------------------------------------------------
// shape ops

/** Resolves an ONNX Reshape target (with 0/-1 and symbolic dims) to numbers ncnn understands. */
function reshapeTarget(c: LowerContext, els: SymEl[], input: string, inRank: number): number[] {
  const allowzero = attrInt(c.node, 'allowzero', 0);
  const out: number[] = [];
  let unknown = 0;
  els.forEach((e, i) => {
    if (isNum(e)) {
      if (e === 0 && allowzero) c.fail('Reshape allowzero=1 with a 0 dim');
      if (e === -1) unknown++;
      out.push(e);
    } else if (e.ref === input && e.axis === i && e.scale === 1 && els.length === inRank) out.push(0); // copy
    else {
      unknown++;
      out.push(-1);
    }
  });
  if (unknown > 1) c.fail(`Reshape target [${els.map((e) => (isNum(e) ? e : `${e.ref}[${e.axis}]`))}] has ${unknown} dims only known at run time; ncnn can infer one`);
  return out;
}

function reshape(c: LowerContext): LowerResult {
  const inRank = c.rank(0);
  let els: SymEl[];
  if (c.opset < 5) els = attrInts(c.node, 'shape') ?? [];
  else els = c.symbolic(1, 'Reshape shape');
  const target = reshapeTarget(c, els, c.inputName(0), inRank);
  if (target[0] !== 1 && target[0] !== 0) {
    // a leading -1 is the batch only when the rest fixes the element count
    if (target[0] === -1 && !target.slice(1).includes(-1)) target[0] = 1;
    else c.fail(`Reshape target [${target}] does not keep batch 1 in front`, 'batch');
  }
  let pm: Map<number, number>;
  try {
    pm = reshapeParams(target, inRank);
  } catch (e) {
    c.fail((e as Error).message, 'batch');
  }
  if (target.length === inRank && target.slice(1).every((d) => d === 0)) return { alias: 0 };
  return one('Reshape', c, new Map([...pm!.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, int(v)] as [number, ParamValue])), target.length);
}

function flatten(c: LowerContext): LowerResult {
  const r = c.rank(0);
  let axis = attrInt(c.node, 'axis', 1);
  if (axis < 0) axis += r;
  if (axis !== 1) c.fail(`Flatten axis ${axis} would merge or split the batch axis`, 'batch');
  return one('Flatten', c, P(), 2);
}

function transpose(c: LowerContext): LowerResult {
  const r = c.rank(0);
  const perm = attrInts(c.node, 'perm') ?? [...Array(r).keys()].reverse();
  let order: number;
  try {
    order = permuteOrderType(perm);
  } catch (e) {
    c.fail((e as Error).message, 'batch');
  }
  if (order! === -1 || (order! === 0)) return { alias: 0 };
  return one('Permute', c, P([0, int(order!)]), r);
}

function concat(c: LowerContext): LowerResult {
  const r = Math.max(...c.node.inputs.map((n) => c.rankOf(n) ?? 0));
  const axis = axisOf(c, attrInt(c.node, 'axis', 1), r);
  return { layers: [{ type: 'Concat', params: P([0, int(axis)]), inputs: c.node.inputs.map((_, i) => c.blob(i, r)) }], ranks: [r] };
}

function softmax(c: LowerContext): LowerResult {
  const r = c.rank(0);
  let a = attrInt(c.node, 'axis', c.opset >= 13 ? -1 : 1);
  if (a < 0) a += r;
  if (c.opset < 13 && a !== r - 1) {
    // opset < 13 flattens all dims from `axis`; equal to a one-axis softmax only on the last axis
    const dims = c.dimsOf(c.inputName(0));
    const rest = dims?.slice(a + 1);
    if (!rest || !rest.every((d) => d === 1)) c.fail(`Softmax (opset ${c.opset}) over axes ${a}..${r - 1} is not a single-axis softmax`);
  }
  return one(c.node.opType === 'LogSoftmax' ? 'Softmax' : 'Softmax', c, P([0, int(axisOf(c, a, r))], [1, int(1)]), r);
}

function squeezeLike(c: LowerContext, squeeze: boolean): LowerResult {
  const r = c.rank(0);
  let axes = c.opset >= 13 && c.hasInput(1) ? c.constNumbers(1, 'axes') : attrInts(c.node, 'axes');
  const outRank = squeeze ? r - (axes?.length ?? 0) : r + (axes?.length ?? 0);
  if (!axes) {
    if (!squeeze) c.fail('Unsqueeze without axes');
    const dims = c.dimsOf(c.inputName(0));
    if (!dims || dims.some((d) => typeof d !== 'number')) c.fail('Squeeze without axes needs static dims');
    axes = dims!.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  }
  const norm = axes.map((a) => (a < 0 ? a + (squeeze ? r : outRank) : a));
  if (norm.includes(0)) c.fail(`${c.node.opType} on the batch axis`, 'batch');
  return one(squeeze ? 'Squeeze' : 'ExpandDims', c, P([3, ints(norm.map((a) => a - 1))]), squeeze ? r - norm.length : outRank);
}

function slice(c: LowerContext): LowerResult {
  const r = c.rank(0);
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (c.opset >= 10) {
    starts = c.constNumbers(1, 'starts');
    ends = c.constNumbers(2, 'ends');
    axes = c.hasInput(3) ? c.constNumbers(3, 'axes') : undefined;
    steps = c.hasInput(4) ? c.constNumbers(4, 'steps') : undefined;
  } else {
    starts = attrInts(c.node, 'starts') ?? [];
    ends = attrInts(c.node, 'ends') ?? [];
    axes = attrInts(c.node, 'axes');
  }
  axes ??= starts.map((_, i) => i);
  if (steps?.some((s) => s !== 1)) c.fail(`Slice steps [${steps}] (ncnn Crop takes step 1 only)`);
  const clampI = (v: number) => Math.max(-2147483647, Math.min(2147483647, v));
  const st: number[] = [], en: number[] = [], ax: number[] = [];
  axes.forEach((a, i) => {
    const aa = a < 0 ? a + r : a;
    if (aa === 0) {
      if (starts[i] !== 0 || ends[i] < 1) c.fail('Slice along the batch axis', 'batch');
      return;
    }
    st.push(clampI(starts[i]));
    en.push(clampI(ends[i]));
    ax.push(aa - 1);
  });
  if (ax.length === 0) return { alias: 0 };
  return one('Crop', c, P([9, ints(st)], [10, ints(en)], [11, ints(ax)]), r);
}

function split(c: LowerContext): LowerResult {
  const r = c.rank(0);
  const axis = axisOf(c, attrInt(c.node, 'axis', 0), r);
  let sizes = c.opset >= 13 && c.hasInput(1) ? c.constNumbers(1, 'split') : attrInts(c.node, 'split');
  const n = c.node.outputs.length;
  if (!sizes) {
    // opset 18 num_outputs: chunks of ceil(dim / n), the last one smaller; ncnn's -233 splits evenly
    const d = c.dimsOf(c.inputName(0))?.[axis + 1];
    if (typeof d === 'number' && d > 0 && d % n !== 0) sizes = new Array(n).fill(Math.ceil(d / n));
  }
  const slices = sizes ? [...sizes.slice(0, -1), -233] : new Array(n).fill(-233);
  if (!sizes && attrInt(c.node, 'num_outputs', n) !== n) c.fail('Split num_outputs mismatch');
  return { layers: [{ type: 'Slice', params: P([0, ints(slices)], [1, int(axis)]), inputs: [c.blob(0)], outputs: c.node.outputs }], ranks: new Array(n).fill(r) };
}

function resize(c: LowerContext): LowerResult {
  const n = c.node;
  const r = c.rank(0);
  if (r !== 4) c.fail(`only 4-D ${n.opType} is supported`);
  const mode = attrString(n, 'mode', 'nearest');
  const ctm = attrString(n, 'coordinate_transformation_mode', 'half_pixel');
  const type = mode === 'nearest' ? 1 : mode === 'linear' || mode === 'bilinear' ? 2 : mode === 'cubic' ? 3 : 0;
  if (!type) c.fail(`Resize mode '${mode}'`);
  let align = 0;
  if (n.opType === 'Resize' && c.opset >= 11) {
    if (ctm === 'align_corners') align = 1;
    else if (type !== 1 && ctm !== 'half_pixel' && ctm !== 'pytorch_half_pixel') c.fail(`coordinate_transformation_mode '${ctm}' has no ncnn Interp equivalent`);
    if (type === 1 && ctm !== 'asymmetric') c.fail(`nearest Resize with coordinate_transformation_mode '${ctm}' (ncnn uses asymmetric)`);
    if (type === 1 && attrString(n, 'nearest_mode', 'round_prefer_floor') !== 'floor') c.fail(`nearest_mode '${attrString(n, 'nearest_mode', 'round_prefer_floor')}' (ncnn floors)`);
  } else if (type === 2) align = 0;
  if (type === 3) c.fail('bicubic Resize is not matched by ncnn Interp');
  // scales or sizes
  let scales: SymEl[] | undefined, sizes: SymEl[] | undefined;
  if (n.opType === 'Upsample') scales = c.opset >= 9 ? c.symbolic(1, 'scales') : attrFloats(n, 'scales');
  else if (c.opset < 11) scales = c.symbolic(1, 'scales');
  else {
    if (c.hasInput(3)) sizes = c.symbolic(3, 'sizes');
    else if (c.hasInput(2)) scales = c.symbolic(2, 'scales');
    if (scales && scales.length === 0) scales = undefined;
  }
  const params = P([0, int(type)]);
  if (scales) {
    if (!scales.every(isNum)) c.fail('scales computed at run time');
    if (scales[0] !== 1 || scales[1] !== 1) c.fail(`Resize scales [${scales}] change batch or channels`);
    params.set(1, float(scales[2] as number));
    params.set(2, float(scales[3] as number));
  } else if (sizes) {
    if (sizes.length !== 4) c.fail('Resize sizes must have 4 entries');
    const [, ch, h, w] = sizes;
    if (!isNum(ch) && !(ch.ref === c.inputName(0) && ch.axis === 1)) {
      /* channels from another tensor: fine when equal; ncnn keeps channels anyway */
    }
    if (isNum(h) && isNum(w)) {
      params.set(3, int(h));
      params.set(4, int(w));
    } else if (!isNum(h) && !isNum(w) && h.ref === w.ref && h.axis === 2 && w.axis === 3 && h.scale === 1 && w.scale === 1) {
      // size of another tensor: ncnn Interp with a reference blob keeps it dynamic
      params.set(5, int(1));
      if (align) params.set(6, int(align));
      return { layers: [{ type: 'Interp', params, inputs: [c.blob(0), c.resolve(h.ref)] }], ranks: [4] };
    } else if (!isNum(h) && !isNum(w) && h.ref === c.inputName(0) && w.ref === h.ref && h.axis === 2 && w.axis === 3) {
      params.set(1, float(h.scale));
      params.set(2, float(w.scale));
    } else c.fail('Resize sizes computed from tensor shapes in a form ncnn Interp cannot express');
  } else c.fail('Resize without scales or sizes');
  if (align) params.set(6, int(align));
  return one('Interp', c, params, 4);
}

function pad(c: LowerContext): LowerResult {
  const r = c.rank(0);
  const mode = attrString(c.node, 'mode', 'constant');
  const pads = c.opset >= 11 ? c.constNumbers(1, 'pads') : attrInts(c.node, 'pads') ?? [];
  const value = c.opset >= 11 ? (c.hasInput(2) ? c.constNumbers(2, 'constant_value')[0] : 0) : attrFloat(c.node, 'value', 0);
  if (c.opset >= 18 && c.hasInput(3)) c.fail('Pad with axes input');
  const type = { constant: 0, edge: 1, reflect: 2 }[mode];
  if (type === undefined) c.fail(`Pad mode '${mode}'`);
  if (pads[0] !== 0 || pads[r] !== 0) c.fail('Pad on the batch axis', 'batch');
  const before = pads.slice(0, r), after = pads.slice(r);
  if ([...before, ...after].some((p) => p < 0)) c.fail('negative pads (cropping) are not supported');
  const p = P();
  // ncnn Padding: 0=top 1=bottom 2=left 3=right 7=front 8=behind (outermost of 3-D is channels)
  const last = r - 1;
  p.set(0, int(r >= 3 ? before[last - 1] : 0));
  p.set(1, int(r >= 3 ? after[last - 1] : 0));
  p.set(2, int(before[last]));
  p.set(3, int(after[last]));
  p.set(4, int(type!));
  p.set(5, float(value));
  if (r >= 4) {
    p.set(7, int(before[last - 2]));
    p.set(8, int(after[last - 2]));
  }
  if (r > 4 && (before[1] || after[1])) c.fail('Pad of a 5-D tensor along axis 1');
  return one('Padding', c, p, r);
}

function gemm(c: LowerContext): LowerResult {
  const n = c.node;
  const alpha = attrFloat(n, 'alpha', 1), beta = attrFloat(n, 'beta', 1);
  const tA = attrInt(n, 'transA', 0), tB = attrInt(n, 'transB', 0);
  if (tA || c.isActivation(c.inputName(1)) || !c.known(1)) c.fail('Gemm is converted only as InnerProduct (constant B, no transA)');
  const bd = c.constDims(1);
  const B = c.weight(1, 'B');
  const [K, N] = tB ? [bd[1], bd[0]] : [bd[0], bd[1]];
  const W = new Float32Array(N * K);
  for (let o = 0; o < N; o++) for (let k = 0; k < K; k++) W[o * K + k] = alpha * (tB ? B[o * K + k] : B[k * N + o]);
  const weights = [{ data: W, tagged: true }];
  let hasBias = 0;
  if (c.hasInput(2)) {
    const C = c.weight(2, 'C');
    if (C.length !== N && C.length !== 1) c.fail(`Gemm C of ${C.length} values (need ${N} or 1)`);
    const bias = new Float32Array(N);
    for (let o = 0; o < N; o++) bias[o] = beta * C[C.length === 1 ? 0 : o];
    weights.push({ data: bias, tagged: false });
    hasBias = 1;
  }
  return one('InnerProduct', c, P([0, int(N)], [1, int(hasBias)], [2, int(W.length)]), 2, { weights });
}

function matmul(c: LowerContext): LowerResult {
  const r = c.rank(0);
  const k1 = c.isActivation(c.inputName(1)) ? undefined : c.known(1);
  if (k1 && k1.dims.length === 2 && (r === 2 || r === 3)) {
    const [K, N] = k1.dims;
    const B = c.weight(1, 'B');
    const W = new Float32Array(N * K);
    for (let o = 0; o < N; o++) for (let k = 0; k < K; k++) W[o * K + k] = B[k * N + o];
    return one('InnerProduct', c, P([0, int(N)], [1, int(0)], [2, int(W.length)]), r, { weights: [{ data: W, tagged: true }] });
  }
  const r1 = k1 ? k1.dims.length : c.rank(1);
  const outRank = Math.max(r, r1);
  return { layers: [{ type: 'MatMul', params: P(), inputs: [c.blob(0, outRank), c.blob(1, outRank)] }], ranks: [outRank] };
}

function batchnorm(c: LowerContext): LowerResult {
  const eps = attrFloat(c.node, 'epsilon', 1e-5);
  if (c.node.outputs.filter(Boolean).length > 1) c.fail('BatchNormalization in training mode');
  const scale = c.weight(1, 'scale'), bias = c.weight(2, 'B'), mean = c.weight(3, 'mean'), v = c.weight(4, 'var');
  const varEps = Float32Array.from(v, (x) => x + eps);
  return one('BatchNorm', c, P([0, int(scale.length)]), c.rank(0), {
    weights: [scale, mean, varEps, bias].map((data) => ({ data, tagged: false })),
  });
}

function instancenorm(c: LowerContext): LowerResult {
  const gamma = c.weight(1, 'scale'), beta = c.weight(2, 'B');
  return one('InstanceNorm', c, P([0, int(gamma.length)], [1, float(attrFloat(c.node, 'epsilon', 1e-5))], [2, int(1)]), c.rank(0), {
    weights: [gamma, beta].map((data) => ({ data, tagged: false })),
  });
}

function prelu(c: LowerContext): LowerResult {
  const slope = c.weight(1, 'slope');
  const dims = c.constDims(1);
  const r = c.rank(0);
  // per-channel slopes are [C] / [C,1,1]; one slope is shared
  if (slope.length > 1 && !(dims.length === r - 1 && dims.slice(1).every((d) => d === 1)) && !(dims.length === 1 && r === 2))
    c.fail(`PRelu slope of shape [${dims}] is not per-channel`);
  return one('PReLU', c, P([0, int(slope.length)]), r, { weights: [{ data: slope, tagged: false }] });
}

const REDUCE: Record<string, number> = { ReduceSum: 0, ReduceSumSquare: 2, ReduceMean: 3, ReduceMax: 4, ReduceMin: 5, ReduceProd: 6, ReduceL1: 7, ReduceL2: 8, ReduceLogSum: 9, ReduceLogSumExp: 10 };
function reduce(c: LowerContext): LowerResult {
  const r = c.rank(0);
  const axesFromInput = (c.opset >= 18 || (c.node.opType === 'ReduceSum' && c.opset >= 13)) && c.hasInput(1);
  let axes = axesFromInput ? c.constNumbers(1, 'axes') : attrInts(c.node, 'axes');
  const keep = attrInt(c.node, 'keepdims', 1);
  if (!axes || axes.length === 0) {
    if (attrInt(c.node, 'noop_with_empty_axes', 0)) return { alias: 0 };
    c.fail('reduction over all axes includes the batch axis', 'batch');
  }
  axes = axes.map((a) => axisOf(c, a, r));
  return one('Reduction', c, P([0, int(REDUCE[c.node.opType])], [1, int(0)], [3, ints(axes)], [4, int(keep)], [5, int(1)]), keep ? r : r - axes.length);
}

// ---------------------------------------------------------------------------------------------

const act = (type: string, params: (c: LowerContext) => Map<number, ParamValue> = () => P()): OpEntry => ({
  ncnn: type,
  lower: (c) => one(type, c, params(c), c.rank(0)),
});

export const OP_TABLE: Record<string, OpEntry> = {
  Conv: { ncnn: 'Convolution / ConvolutionDepthWise', lower: (c) => convLike(c, false) },
  ConvTranspose: { ncnn: 'Deconvolution / DeconvolutionDepthWise', lower: (c) => convLike(c, true) },
  Gemm: { ncnn: 'InnerProduct', lower: gemm },
  MatMul: { ncnn: 'InnerProduct / MatMul', lower: matmul },
  BatchNormalization: { ncnn: 'BatchNorm', lower: batchnorm },
  InstanceNormalization: { ncnn: 'InstanceNorm', lower: instancenorm },
  MaxPool: { ncnn: 'Pooling', lower: (c) => pooling(c, 0) },
  AveragePool: { ncnn: 'Pooling', lower: (c) => pooling(c, 1) },
  GlobalMaxPool: { ncnn: 'Pooling', lower: (c) => globalPool(c, 0) },
  GlobalAveragePool: { ncnn: 'Pooling', lower: (c) => globalPool(c, 1) },
  Relu: act('ReLU'),
  LeakyRelu: act('ReLU', (c) => P([0, float(attrFloat(c.node, 'alpha', 0.01))])),
  PRelu: { ncnn: 'PReLU', lower: prelu },
  Sigmoid: act('Sigmoid'),
  Tanh: act('TanH'),
  Elu: act('ELU', (c) => P([0, float(attrFloat(c.node, 'alpha', 1))])),
  Selu: act('SELU', (c) => P([0, float(attrFloat(c.node, 'alpha', 1.67326319217681884765625))], [1, float(attrFloat(c.node, 'gamma', 1.05070102214813232421875))])),
  HardSigmoid: act('HardSigmoid', (c) => P([0, float(attrFloat(c.node, 'alpha', 0.2))], [1, float(attrFloat(c.node, 'beta', 0.5))])),
  HardSwish: act('HardSwish', () => P([0, float(1 / 6)], [1, float(0.5)])),
  Softplus: act('Softplus'),
  Mish: act('Mish'),
  Clip: { ncnn: 'Clip', lower: clip },
  Add: { ncnn: 'BinaryOp', lower: binary },
  Sub: { ncnn: 'BinaryOp', lower: binary },
  Mul: { ncnn: 'BinaryOp', lower: binary },
  Div: { ncnn: 'BinaryOp', lower: binary },
  Max: { ncnn: 'BinaryOp', lower: binary },
  Min: { ncnn: 'BinaryOp', lower: binary },
  Pow: { ncnn: 'BinaryOp', lower: binary },
  Sum: { ncnn: 'BinaryOp', lower: binary },
  ...Object.fromEntries(Object.keys(UNARY).map((k) => [k, { ncnn: 'UnaryOp', lower: unary } satisfies OpEntry])),
  Concat: { ncnn: 'Concat', lower: concat },
  Softmax: { ncnn: 'Softmax', lower: softmax },
  Reshape: { ncnn: 'Reshape', lower: reshape },
  Flatten: { ncnn: 'Flatten', lower: flatten },
  Transpose: { ncnn: 'Permute', lower: transpose },
  Squeeze: { ncnn: 'Squeeze', lower: (c) => squeezeLike(c, true) },
  Unsqueeze: { ncnn: 'ExpandDims', lower: (c) => squeezeLike(c, false) },
  Slice: { ncnn: 'Crop', lower: slice },
  Split: { ncnn: 'Slice', lower: split },
  Resize: { ncnn: 'Interp', lower: resize },
  Upsample: { ncnn: 'Interp', lower: resize },
  Pad: { ncnn: 'Padding', lower: pad },
  DepthToSpace: {
    ncnn: 'PixelShuffle',
    lower: (c) => one('PixelShuffle', c, P([0, int(attrInt(c.node, 'blocksize', 1))], [1, int(attrString(c.node, 'mode', 'DCR') === 'DCR' ? 1 : 0)]), c.rank(0)),
  },
  LRN: {
    ncnn: 'LRN',
    lower: (c) => one('LRN', c, P([0, int(0)], [1, int(attrInt(c.node, 'size', 1))], [2, float(attrFloat(c.node, 'alpha', 1e-4))], [3, float(attrFloat(c.node, 'beta', 0.75))], [4, float(attrFloat(c.node, 'bias', 1))]), c.rank(0)),
  },
  ...Object.fromEntries(Object.keys(REDUCE).map((k) => [k, { ncnn: 'Reduction', lower: reduce } satisfies OpEntry])),
  Dropout: { ncnn: '(removed)', lower: () => ({ alias: 0 }) },
  Identity: { ncnn: '(removed)', lower: () => ({ alias: 0 }) },
  ...NEW_OPS,
};
