/**
 * The ONNX -> ncnn op mapping, as a table: for each ONNX op, the ncnn layer type(s) it becomes and
 * a small function building params and weights. Every op listed here has ONNX backend node tests
 * run against real ncnn by `npm run conformance:ncnn` (docs/conformance.md). An op that is not
 * listed stops the conversion with an error naming op and node; nothing is ever written verbatim.
 * Lowerings longer than a few lines live in ops/*.ts (resize, pooling, conv, slice); ops whose
 * opset versions differ have one entry per version (`versions`).
 */
import { attrFloat, attrInt, attrInts, attrString } from '../../onnx/model.js';
import { float, int, ints, type ParamValue } from './format/param.js';
import { BatchAxisError, ncnnAxis, permuteOrderType, reshapeParams } from './passes/batch-axis.js';
import { isNum, type SymEl } from './passes/shape-glue.js';
import type { EmittedLayer, LowerContext } from './lower.js';
import { P, memoryData, one, scaled, transposed, type Lower, type LowerResult } from './lowering-helpers.js';
import { RESIZE_VERSIONS, UPSAMPLE_VERSIONS } from './ops/resize.js';
import { lowerPooling } from './ops/pooling.js';
import { lowerConv } from './ops/conv.js';
import { SLICE_VERSIONS } from './ops/slice.js';
import { NEW_OPS } from './ops/index.js';

export type { LowerResult } from './lowering-helpers.js';

/**
 * One op of the table. `lower` serves every opset; an op whose opset versions differ lists
 * `versions` instead, keyed by the opset the lowering applies from (like onnx2torch's
 * `@add_converter(operation_type, version)`): the newest entry not newer than the model's opset
 * is used, and a model older than every entry is refused.
 */
export interface OpEntry {
  /** The ncnn layer types this op can become, ' / '-separated exact type names ('(removed)' for none): docs, and the test that every one has a layer record. */
  ncnn: string;
  lower?: Lower;
  versions?: Record<number, Lower>;
  /** Reads inputs whose dropped unit axis is not axis 0 (see LowerContext.unitAxisOf). */
  unitAxisAnywhere?: boolean;
}

/** The lowering of `entry` for a model of opset `opset`, if any. */
export function lowerFor(entry: OpEntry, opset: number): Lower | undefined {
  if (!entry.versions) return entry.lower;
  const since = Object.keys(entry.versions).map(Number).filter((v) => v <= opset);
  return since.length ? entry.versions[Math.max(...since)] : undefined;
}
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
    // (constant operands become MemoryData blobs shaped for the widest operand)
    const r = Math.max(...c.node.inputs.map((n) => c.rankOf(n) ?? 0));
    const layers: EmittedLayer[] = [];
    let acc = c.blob(0, r);
    for (let i = 1; i < c.inputCount; i++) {
      const last = i === c.inputCount - 1;
      const out = last ? undefined : [`${c.node.outputs[0]}_acc${i}`];
      layers.push({ type: 'BinaryOp', params: P([0, int(op)]), inputs: [acc, c.blob(i, r)], outputs: out, suffix: last ? undefined : `acc${i}` });
      if (out) acc = out[0];
    }
    return { layers, ranks: [r] };
  }
  // dims first: a constant operand's elements are read only when it is a single value
  const d0 = c.knownDims(0), d1 = c.knownDims(1);
  if (d0 && d1)
    c.fail('both operands depend only on tensor sizes known at run time (e.g. priors generated from the input size), which ncnn cannot compute; fix the input size with --input NAME:1x3xHxW', 'runtime-weight');
  const scalar = (i: number, d?: number[]): number | undefined => {
    const k = d && d.every((x) => x === 1) ? c.known(i) : undefined;
    return k && k.els.length === 1 && isNum(k.els[0]) ? k.els[0] : undefined;
  };
  const s1 = scalar(1, d1);
  if (s1 !== undefined) return one('BinaryOp', c, P([0, int(op)], [1, int(1)], [2, float(s1)]), c.rank(0));
  const s0 = scalar(0, d0);
  if (s0 !== undefined) return { layers: [{ type: 'BinaryOp', params: P([0, int(rop)], [1, int(1)], [2, float(s0)]), inputs: [c.blob(1)] }], ranks: [c.rank(1)] };
  const r = Math.max(d0 ? 0 : c.rank(0), d1 ? 0 : c.rank(1));
  return { layers: [{ type: 'BinaryOp', params: P([0, int(op)]), inputs: [c.blob(0, r), c.blob(1, r)] }], ranks: [r] };
}

const UNARY: Record<string, number> = { Abs: 0, Neg: 1, Floor: 2, Ceil: 3, Sqrt: 5, Exp: 7, Log: 8, Sin: 9, Cos: 10, Tan: 11, Asin: 12, Acos: 13, Atan: 14, Reciprocal: 15, Round: 18 };
const unary = (c: LowerContext) => one('UnaryOp', c, P([0, int(UNARY[c.node.opType])]), c.rank(0));

const FLT_MAX = 3.4028234663852886e38;
const clipBetween = (c: LowerContext, min: number, max: number) => one('Clip', c, P([0, float(min)], [1, float(max)]), c.rank(0));
/** Clip-1/6 take min/max attributes; Clip-11 takes them as (optional) inputs. */
const CLIP_VERSIONS: Record<number, Lower> = {
  1: (c) => clipBetween(c, attrFloat(c.node, 'min', -FLT_MAX), attrFloat(c.node, 'max', FLT_MAX)),
  11: (c) => clipBetween(c, c.hasInput(1) ? c.constNumbers(1, 'min')[0] : -FLT_MAX, c.hasInput(2) ? c.constNumbers(2, 'max')[0] : FLT_MAX),
};

// ---------------------------------------------------------------------------------------------
// shape ops

/** Resolves an ONNX Reshape target (with 0/-1 and symbolic dims) to numbers ncnn understands. */
function reshapeTarget(c: LowerContext, els: SymEl[], input: string, inRank: number): number[] {
  const allowzero = attrInt(c.node, 'allowzero', 0);
  const dims = c.dimsOf(input);
  const out: number[] = [];
  let unknown = 0;
  els.forEach((e, i) => {
    if (isNum(e)) {
      if (e === 0 && allowzero) c.fail('Reshape allowzero=1 with a 0 dim makes an empty tensor; ncnn has no empty Mats');
      if (e === -1) unknown++;
      // ncnn copies a 0 dim by name (w, h, c): exact only when the rank is kept, so a known size is written instead
      const known = dims?.[i];
      if (e === 0 && els.length !== inRank && typeof known === 'number' && known > 0) out.push(known);
      else out.push(e);
    } else if (e.ref === input && e.axis === i && e.scale === 1 && els.length === inRank) out.push(0); // copy
    else {
      unknown++;
      out.push(-1);
    }
  });
  if (unknown > 1) c.fail(`Reshape target [${els.map((e) => (isNum(e) ? e : `${e.ref}[${e.axis}]`))}] has ${unknown} dims only known at run time; ncnn can infer one`);
  return out;
}

function reshapeTo(c: LowerContext, els: SymEl[]): LowerResult {
  const inRank = c.rank(0);
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
  const dims = c.dimsOf(c.inputName(0));
  const staticDims = dims?.every((d) => typeof d === 'number' && d > 0) ? (dims as number[]) : undefined;
  if (c.unitAxisOf(c.inputName(0)) !== 0) {
    if (!staticDims) c.fail('Transpose of a tensor whose batch axis was moved needs static sizes');
    return transposeUnitAxes(c, perm, staticDims);
  }
  let order: number;
  try {
    order = permuteOrderType(perm);
  } catch (e) {
    if (perm[0] !== 0 && staticDims) return transposeUnitAxes(c, perm, staticDims);
    c.fail((e as Error).message, 'batch');
  }
  if (order! === -1 || (order! === 0)) return { alias: 0 };
  return one('Permute', c, P([0, int(order!)]), r);
}

/**
 * A perm that moves the batch axis, on static sizes: unit axes carry no data, so the transpose is
 * a permutation of the other axes: Reshape to the non-unit axes -> Permute -> Reshape to the
 * output without one unit axis. That dropped axis is the output's axis 0 when it is 1; otherwise
 * (attention's [1,N,3,H,D] perm [2,0,3,1,4] -> [3,1,H,N,D]) the first unit axis, recorded so that
 * only ops that know about it (Split, Squeeze, Transpose) read the result.
 */
function transposeUnitAxes(c: LowerContext, perm: number[], dims: number[]): LowerResult {
  const out = perm.map((p) => dims[p]);
  const unit = out.indexOf(1);
  if (unit < 0) c.fail(`perm [${perm}] of [${dims}] leaves no unit axis for ncnn to drop (batch 1)`, 'batch');
  const kept = dims.map((d, i) => (d !== 1 ? i : -1)).filter((i) => i >= 0);
  const order = perm.filter((p) => dims[p] !== 1).map((p) => kept.indexOf(p));
  if (kept.length > 4) c.fail(`perm [${perm}] of [${dims}] permutes ${kept.length} axes; ncnn Permute handles 4`);
  const base = c.node.outputs[0];
  const reshapeTo = (target: number[], input: string, output?: string): EmittedLayer => ({
    type: 'Reshape',
    params: new Map([...reshapeParams([1, ...target], target.length + 1).entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, int(v)] as [number, ParamValue])),
    inputs: [input],
    outputs: output ? [output] : undefined,
    suffix: output ? output.slice(base.length + 1) : undefined,
  });
  const squeezed = kept.map((i) => dims[i]);
  const outNcnn = out.filter((_, i) => i !== unit);
  if (order.every((o, i) => o === i)) return { layers: [reshapeTo(outNcnn, c.blob(0))], ranks: [perm.length], unitAxes: [unit] };
  const layers: EmittedLayer[] = [reshapeTo(squeezed.length ? squeezed : [1], c.blob(0), `${base}_squeezed`)];
  let pt: number;
  try {
    pt = permuteOrderType([0, ...order.map((o) => o + 1)]);
  } catch (e) {
    c.fail((e as Error).message, 'batch');
  }
  layers.push({ type: 'Permute', params: P([0, int(pt!)]), inputs: [`${base}_squeezed`], outputs: [`${base}_permuted`], suffix: 'permuted' });
  layers.push(reshapeTo(outNcnn, `${base}_permuted`));
  return { layers, ranks: [perm.length], unitAxes: [unit] };
}

function concat(c: LowerContext): LowerResult {
  const r = Math.max(...c.node.inputs.map((n) => c.rankOf(n) ?? 0));
  const axis = axisOf(c, attrInt(c.node, 'axis', 1), r);
  return { layers: [{ type: 'Concat', params: P([0, int(axis)]), inputs: c.node.inputs.map((_, i) => c.blob(i, r)) }], ranks: [r] };
}

function softmaxAlong(c: LowerContext, axis: number, flattensFromAxis: boolean): LowerResult {
  const r = c.rank(0);
  const a = axis < 0 ? axis + r : axis;
  if (flattensFromAxis && a !== r - 1) {
    // Softmax-1/11 flattens all dims from `axis`; equal to a one-axis softmax only on the last axis
    const dims = c.dimsOf(c.inputName(0));
    const rest = dims?.slice(a + 1);
    if (!rest || !rest.every((d) => d === 1)) c.fail(`Softmax (opset ${c.opset}) over axes ${a}..${r - 1} is not a single-axis softmax`);
  }
  return one('Softmax', c, P([0, int(axisOf(c, a, r))], [1, int(1)]), r);
}
/** Softmax-1/11: axis default 1, all dims from axis flattened; Softmax-13: one axis, default -1. */
const SOFTMAX_VERSIONS: Record<number, Lower> = {
  1: (c) => softmaxAlong(c, attrInt(c.node, 'axis', 1), true),
  13: (c) => softmaxAlong(c, attrInt(c.node, 'axis', -1), false),
};

function squeezeLike(c: LowerContext, squeeze: boolean, axesIn: number[] | undefined): LowerResult {
  const r = c.rank(0);
  let axes = axesIn;
  const outRank = squeeze ? r - (axes?.length ?? 0) : r + (axes?.length ?? 0);
  if (!axes) {
    if (!squeeze) c.fail('Unsqueeze without axes');
    const dims = c.dimsOf(c.inputName(0));
    if (!dims || dims.some((d) => typeof d !== 'number')) c.fail('Squeeze without axes needs static dims');
    axes = dims!.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  }
  let norm = axes.map((a) => (a < 0 ? a + (squeeze ? r : outRank) : a));
  if (squeeze && norm.includes(0)) {
    // squeezing axis 0 of [1, 1, ...] equals squeezing another unit axis, which ncnn has
    const dims = c.dimsOf(c.inputName(0));
    const other = dims?.findIndex((d, i) => i > 0 && d === 1 && !norm.includes(i)) ?? -1;
    if (other > 0) norm = norm.map((a) => (a === 0 ? other : a));
  }
  if (norm.includes(0)) c.fail(`${c.node.opType} on the batch axis`, 'batch');
  return one(squeeze ? 'Squeeze' : 'ExpandDims', c, P([3, ints(norm.map((a) => a - 1))]), squeeze ? r - norm.length : outRank);
}

function splitInto(c: LowerContext, sizesIn: number[] | undefined): LowerResult {
  const r = c.rank(0);
  const unit = c.unitAxisOf(c.inputName(0));
  let a = attrInt(c.node, 'axis', 0);
  if (a < 0) a += r;
  let axis: number;
  if (unit === 0) axis = axisOf(c, a, r);
  else {
    // the input's dropped unit axis is `unit` (a moved batch axis): ONNX axis a is ncnn axis a or a-1
    if (a === unit) c.fail(`Split along axis ${a}, the unit axis ncnn drops`, 'batch');
    axis = a < unit ? a : a - 1;
  }
  let sizes = sizesIn;
  const n = c.node.outputs.length;
  const d = c.dimsOf(c.inputName(0))?.[a];
  if (!sizes) {
    // opset 18 num_outputs: chunks of ceil(dim / n), the last one smaller; ncnn's -233 splits evenly
    if (typeof d === 'number' && d > 0 && d % n !== 0) sizes = new Array(n).fill(Math.ceil(d / n));
  }
  const slices = sizes ? [...sizes.slice(0, -1), -233] : new Array(n).fill(-233);
  if (!sizes && attrInt(c.node, 'num_outputs', n) !== n) c.fail('Split num_outputs mismatch');
  // unit pieces along axis 0 (attention's q, k, v) put a unit axis back in front
  const unitPieces = a === 0 && (sizes ? sizes.every((x) => x === 1) : d === n);
  const unitAxes = new Array(n).fill(unitPieces ? 0 : unit);
  return { layers: [{ type: 'Slice', params: P([0, ints(slices)], [1, int(axis)]), inputs: [c.blob(0)], outputs: c.node.outputs }], ranks: new Array(n).fill(r), unitAxes };
}
/** Split-1/2/11: split attribute; Split-13: split input; Split-18: adds num_outputs. */
const SPLIT_VERSIONS: Record<number, Lower> = {
  1: (c) => splitInto(c, attrInts(c.node, 'split')),
  13: (c) => splitInto(c, c.hasInput(1) ? c.constNumbers(1, 'split') : undefined),
};

/** Pad on already-read operands; negative pads crop first (Crop), positive ones pad (Padding). */
function padWith(c: LowerContext, pads: number[], value: number, axes?: number[]): LowerResult {
  const r = c.rank(0);
  const mode = attrString(c.node, 'mode', 'constant');
  const type = ({ constant: 0, edge: 1, reflect: 2 } as Record<string, number>)[mode];
  if (type === undefined) c.fail(`Pad mode '${mode}' has no ncnn Padding type (constant, edge, reflect)`);
  let before = pads.slice(0, pads.length / 2), after = pads.slice(pads.length / 2);
  if (axes) {
    // opset 18: pads only for the listed axes
    const b = new Array(r).fill(0), e = new Array(r).fill(0);
    axes.forEach((a, i) => {
      const aa = a < 0 ? a + r : a;
      b[aa] = before[i];
      e[aa] = after[i];
    });
    before = b;
    after = e;
  }
  if (before.length !== r) c.fail(`Pad has ${pads.length} pads for a rank-${r} input`);
  if (before[0] !== 0 || after[0] !== 0) c.fail('Pad on the batch axis', 'batch');
  if (r > 4 && (before[1] || after[1])) c.fail('Pad of a 5-D tensor along axis 1 (ncnn pads at most 3 axes)');
  const layers: EmittedLayer[] = [];
  let x = c.blob(0);
  const crop = [...before.keys()].filter((a) => a > 0 && (before[a] < 0 || after[a] < 0));
  if (crop.length) {
    // negative pads remove cells: Crop with ends counted from the end
    const out = `${c.node.outputs[0]}_crop`;
    layers.push({ type: 'Crop', params: P([9, ints(crop.map((a) => Math.max(0, -before[a])))], [10, ints(crop.map((a) => (after[a] < 0 ? after[a] : 2147483647)))], [11, ints(crop.map((a) => a - 1))]), inputs: [x], outputs: [out], suffix: 'crop' });
    x = out;
    before = before.map((v) => Math.max(0, v));
    after = after.map((v) => Math.max(0, v));
  }
  if ([...before, ...after].every((v) => v === 0)) {
    if (!layers.length) return { alias: 0 };
    layers[layers.length - 1] = { ...layers[layers.length - 1], outputs: undefined, suffix: undefined };
    return { layers, ranks: [r] };
  }
  // ncnn Padding: 0=top 1=bottom 2=left 3=right 7=front 8=behind (outermost of 3-D is channels)
  const last = r - 1;
  const p = P([0, int(r >= 3 ? before[last - 1] : 0)], [1, int(r >= 3 ? after[last - 1] : 0)], [2, int(before[last])], [3, int(after[last])], [4, int(type)], [5, float(value)]);
  if (r >= 4) p.set(7, int(before[last - 2])).set(8, int(after[last - 2]));
  layers.push({ type: 'Padding', params: p, inputs: [x] });
  return { layers, ranks: [r] };
}

const PAD_VERSIONS: Record<number, Lower> = {
  2: (c) => padWith(c, attrInts(c.node, 'pads') ?? [], attrFloat(c.node, 'value', 0)),
  11: (c) => padWith(c, c.constNumbers(1, 'pads'), c.hasInput(2) ? c.constNumbers(2, 'constant_value')[0] : 0),
  18: (c) => padWith(c, c.constNumbers(1, 'pads'), c.hasInput(2) ? c.constNumbers(2, 'constant_value')[0] : 0, c.hasInput(3) ? c.constNumbers(3, 'axes') : undefined),
};

function gemm(c: LowerContext): LowerResult {
  const n = c.node;
  const alpha = attrFloat(n, 'alpha', 1), beta = attrFloat(n, 'beta', 1);
  const tA = attrInt(n, 'transA', 0), tB = attrInt(n, 'transB', 0);
  const bd = c.knownDims(1);
  if (tA || !bd) c.fail('Gemm is converted only as InnerProduct (constant B, no transA)');
  const B = c.weight(1, 'B');
  const [K, N] = tB ? [bd[1], bd[0]] : [bd[0], bd[1]];
  const W = tB ? scaled(B, alpha) : transposed(B, K, N, alpha);
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
  const d1 = c.knownDims(1);
  if (d1 && d1.length === 2 && (r === 2 || r === 3)) {
    const [K, N] = d1;
    const B = c.weight(1, 'B');
    const W = transposed(B, K, N);
    return one('InnerProduct', c, P([0, int(N)], [1, int(0)], [2, int(W.length)]), r, { weights: [{ data: W, tagged: true }] });
  }
  if (d1 && d1.length === 1 && r >= 3) {
    // x · v with a constant vector: v as a [K, 1] matrix, then the unit axis dropped
    const base = c.node.outputs[0];
    return {
      layers: [
        memoryData(`${base}_v`, [d1[0], 1], c.weight(1, 'B'), 'v'),
        { type: 'MatMul', params: P(), inputs: [c.blob(0), `${base}_v`], outputs: [`${base}_mm`], suffix: 'mm' },
        { type: 'Squeeze', params: P([3, ints([r - 2])]), inputs: [`${base}_mm`] },
      ],
      ranks: [r - 1],
    };
  }
  const r1 = d1 ? d1.length : c.rank(1);
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
function reduceOver(c: LowerContext, axesIn: number[] | undefined): LowerResult {
  const r = c.rank(0);
  let axes = axesIn;
  const keep = attrInt(c.node, 'keepdims', 1);
  if (!axes || axes.length === 0) {
    if (attrInt(c.node, 'noop_with_empty_axes', 0)) return { alias: 0 };
    c.fail('reduction over all axes includes the batch axis', 'batch');
  }
  axes = axes.map((a) => axisOf(c, a, r));
  return one('Reduction', c, P([0, int(REDUCE[c.node.opType])], [1, int(0)], [3, ints(axes)], [4, int(keep)], [5, int(1)]), keep ? r : r - axes.length);
}
/** Reductions take axes as an attribute until their axes-input version (ReduceSum 13, the others 18). */
const reduceVersions = (axesInputSince: number): Record<number, Lower> => ({
  1: (c) => reduceOver(c, attrInts(c.node, 'axes')),
  [axesInputSince]: (c) => reduceOver(c, c.hasInput(1) ? c.constNumbers(1, 'axes') : undefined),
});
/** Squeeze/Unsqueeze take axes as an attribute until opset 13, then as an input. */
const squeezeVersions = (squeeze: boolean): Record<number, Lower> => ({
  1: (c) => squeezeLike(c, squeeze, attrInts(c.node, 'axes')),
  13: (c) => squeezeLike(c, squeeze, c.hasInput(1) ? c.constNumbers(1, 'axes') : undefined),
});

// ---------------------------------------------------------------------------------------------

const act = (type: string, params: (c: LowerContext) => Map<number, ParamValue> = () => P()): OpEntry => ({
  ncnn: type,
  lower: (c) => one(type, c, params(c), c.rank(0)),
});

export const OP_TABLE: Record<string, OpEntry> = {
  Conv: { ncnn: 'Convolution / ConvolutionDepthWise / Convolution1D / ConvolutionDepthWise1D / Convolution3D / ConvolutionDepthWise3D', lower: (c) => lowerConv(c, false) },
  ConvTranspose: { ncnn: 'Deconvolution / DeconvolutionDepthWise / Deconvolution1D / DeconvolutionDepthWise1D / Deconvolution3D / DeconvolutionDepthWise3D', lower: (c) => lowerConv(c, true) },
  Gemm: { ncnn: 'InnerProduct', lower: gemm },
  MatMul: { ncnn: 'InnerProduct / MatMul', lower: matmul },
  BatchNormalization: { ncnn: 'BatchNorm', lower: batchnorm },
  InstanceNormalization: { ncnn: 'InstanceNorm', lower: instancenorm },
  MaxPool: { ncnn: 'Pooling1D / Pooling / Pooling3D', lower: (c) => lowerPooling(c, 0) },
  AveragePool: { ncnn: 'Pooling1D / Pooling / Pooling3D', lower: (c) => lowerPooling(c, 1) },
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
  Clip: { ncnn: 'Clip', versions: CLIP_VERSIONS },
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
  Softmax: { ncnn: 'Softmax', versions: SOFTMAX_VERSIONS },
  Reshape: {
    ncnn: 'Reshape',
    versions: {
      1: (c) => reshapeTo(c, attrInts(c.node, 'shape') ?? c.fail('Reshape without shape')),
      5: (c) => reshapeTo(c, c.symbolic(1, 'Reshape shape')),
    },
  },
  Flatten: { ncnn: 'Flatten', lower: flatten },
  Transpose: { ncnn: 'Permute / Reshape', lower: transpose, unitAxisAnywhere: true },
  Squeeze: { ncnn: 'Squeeze', versions: squeezeVersions(true) },
  Unsqueeze: { ncnn: 'ExpandDims', versions: squeezeVersions(false) },
  Slice: { ncnn: 'Crop / Reshape', versions: SLICE_VERSIONS },
  Split: { ncnn: 'Slice', versions: SPLIT_VERSIONS, unitAxisAnywhere: true },
  Resize: { ncnn: 'Interp / MatMul', versions: RESIZE_VERSIONS },
  Upsample: { ncnn: 'Interp / MatMul', versions: UPSAMPLE_VERSIONS },
  Pad: { ncnn: 'Padding / Crop', versions: PAD_VERSIONS },
  DepthToSpace: {
    ncnn: 'PixelShuffle',
    lower: (c) => one('PixelShuffle', c, P([0, int(attrInt(c.node, 'blocksize', 1))], [1, int(attrString(c.node, 'mode', 'DCR') === 'DCR' ? 1 : 0)]), c.rank(0)),
  },
  LRN: {
    ncnn: 'LRN',
    lower: (c) => one('LRN', c, P([0, int(0)], [1, int(attrInt(c.node, 'size', 1))], [2, float(attrFloat(c.node, 'alpha', 1e-4))], [3, float(attrFloat(c.node, 'beta', 0.75))], [4, float(attrFloat(c.node, 'bias', 1))]), c.rank(0)),
  },
  ...Object.fromEntries(Object.keys(REDUCE).map((k) => [k, { ncnn: 'Reduction', versions: reduceVersions(k === 'ReduceSum' ? 13 : 18) } satisfies OpEntry])),
  Dropout: { ncnn: '(removed)', lower: () => ({ alias: 0 }) },
  Identity: { ncnn: '(removed)', lower: () => ({ alias: 0 }) },
  ...NEW_OPS,
};
