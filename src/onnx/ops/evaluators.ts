/**
 * Evaluators for the ops that appear in constant subgraphs: shape glue (Shape, Gather, Unsqueeze,
 * Concat, Reshape...), constants and small elementwise arithmetic (prior tails, scale factors).
 * Each receives the node's output infos already computed by its shape rule (all static here),
 * so layout-only ops just relabel the data.
 */
import { attrFloat, attrInt, attrInts, attrTensor } from '../model.js';
import { sliceParams } from './shape-rules.js';
import type { OpContext, TensorInfo } from './context.js';
import { broadcastTo, isFloatType, makeVal, size, stridedGather, strides, valFromTensor, type Val } from './value.js';

export type EvalFn = (c: OpContext, out: TensorInfo[]) => Val[];

function v(c: OpContext, i: number): Val {
  const x = c.value(i);
  if (!x) return c.fail(`input ${i} has no constant value`);
  return x;
}
function outDims(out: TensorInfo[], i = 0): number[] {
  return out[i].shape as number[];
}

/** Layout-only ops: same data, new dims. */
const relabel: EvalFn = (c, out) => {
  const x = v(c, 0);
  return [{ dtype: out[0].dtype, dims: outDims(out), data: x.data }];
};

const constant: EvalFn = (c, out) => {
  const t = attrTensor(c.node, 'value');
  if (t) return [valFromTensor(t)];
  const a = c.node.attrs;
  if (a.value_float?.type === 'float') return [makeVal('float32', [], [a.value_float.value])];
  if (a.value_int?.type === 'int') return [makeVal('int64', [], [a.value_int.value])];
  if (a.value_floats?.type === 'floats') return [makeVal('float32', outDims(out), a.value_floats.value)];
  if (a.value_ints?.type === 'ints') return [makeVal('int64', outDims(out), a.value_ints.value)];
  return c.fail('unsupported Constant form');
};

const shape: EvalFn = (c, out) => {
  const x = c.input(0)!;
  const r = x.shape.length;
  let start = attrInt(c.node, 'start', 0);
  if (start < 0) start += r;
  start = Math.min(Math.max(start, 0), r);
  const n = outDims(out)[0];
  return [makeVal('int64', [n], (x.shape as number[]).slice(start, start + n))];
};

const sizeOp: EvalFn = (c) => [makeVal('int64', [], [size(c.input(0)!.shape as number[])])];

const cast: EvalFn = (c, out) => {
  const x = v(c, 0);
  const to = out[0].dtype;
  if (isFloatType(to)) return [makeVal(to, [...x.dims], x.data)];
  const res = makeVal(to, [...x.dims]); // makeVal truncates; bool is 0/1
  const r = res.data, d = x.data;
  if (to === 'bool') for (let i = 0; i < d.length; i++) r[i] = d[i] ? 1 : 0;
  else for (let i = 0; i < d.length; i++) r[i] = Math.trunc(d[i]);
  return [res];
};

const gather: EvalFn = (c, out) => {
  const x = v(c, 0);
  const idx = v(c, 1);
  const a = (attrInt(c.node, 'axis', 0) + x.dims.length) % x.dims.length;
  const outer = size(x.dims.slice(0, a));
  const inner = size(x.dims.slice(a + 1));
  const dimA = x.dims[a];
  const res = makeVal(x.dtype, outDims(out));
  let o = 0;
  for (let p = 0; p < outer; p++)
    for (let k = 0; k < idx.data.length; k++) {
      let j = idx.data[k];
      if (j < 0) j += dimA;
      if (j < 0 || j >= dimA) return c.fail(`index ${idx.data[k]} out of range for axis of size ${dimA}`);
      const base = (p * dimA + j) * inner;
      for (let q = 0; q < inner; q++) res.data[o++] = x.data[base + q];
    }
  return [res];
};

const concat: EvalFn = (c, out) => {
  const dims = outDims(out);
  const a = (attrInt(c.node, 'axis', 0) + dims.length) % dims.length;
  const ins: Val[] = [];
  for (let i = 0; i < c.node.inputs.length; i++) if (c.node.inputs[i]) ins.push(v(c, i));
  const res = makeVal(out[0].dtype, dims);
  const outer = size(dims.slice(0, a));
  const chunks = ins.map((x) => size(x.dims.slice(a)));
  const r = res.data;
  let o = 0;
  for (let p = 0; p < outer; p++)
    for (let k = 0; k < ins.length; k++) {
      const chunk = chunks[k], d = ins[k].data;
      // short pieces (a mask built along its last axis) by a loop: a subarray per piece cost more than the copy
      if (chunk < 64) for (let q = 0, from = p * chunk; q < chunk; q++) r[o + q] = d[from + q];
      else r.set(d.subarray(p * chunk, (p + 1) * chunk), o);
      o += chunk;
    }
  return [res];
};

/**
 * Copies `x` into a new value of `dims`, reading output index (i0, i1, ...) from
 * x.data[offset + Σ ik * step[k]]: one walk serves Transpose (steps = input strides permuted)
 * and Slice (offset = start, steps = input strides times the slice steps).
 */
function stridedCopy(x: Val, dims: number[], offset: number, step: number[]): Val {
  const res = makeVal(x.dtype, dims);
  stridedGather(x.data, dims, offset, step, res.data);
  return res;
}

const transpose: EvalFn = (c, out) => {
  const x = v(c, 0);
  const r = x.dims.length;
  const perm = attrInts(c.node, 'perm') ?? x.dims.map((_, i) => r - 1 - i);
  const inStr = strides(x.dims);
  return [stridedCopy(x, outDims(out), 0, perm.map((p) => inStr[p]))];
};

const slice: EvalFn = (c, out) => {
  const x = v(c, 0);
  const p = sliceParams(c, x.dims.length)!;
  const r = x.dims.length;
  const start = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  p.axes.forEach((a, i) => {
    const d = x.dims[a];
    let s = p.starts[i];
    if (s < 0) s += d;
    step[a] = p.steps[i];
    start[a] = step[a] > 0 ? Math.min(Math.max(s, 0), d) : Math.min(Math.max(s, -1), d - 1);
  });
  const inStr = strides(x.dims);
  const offset = start.reduce((acc, st, k) => acc + st * inStr[k], 0);
  return [stridedCopy(x, outDims(out), offset, step.map((st, k) => st * inStr[k]))];
};

/**
 * Folds the inputs left to right into the output. The common arithmetic has its own loop: a loop
 * calling `f` is shared by every op, so V8 cannot inline the call (Swin's window masks run
 * Equal/Sub/Where over 1.3 M elements at conversion time).
 */
function elementwise(f: (a: number, b: number, intMode: boolean) => number, op?: 'add' | 'sub' | 'mul' | 'eq'): EvalFn {
  return (c, out) => {
    const ins: Val[] = [];
    for (let i = 0; i < c.node.inputs.length; i++) if (c.node.inputs[i]) ins.push(v(c, i));
    const dims = outDims(out);
    const res = makeVal(out[0].dtype, dims);
    const intMode = !isFloatType(ins[0].dtype);
    const r = res.data;
    const n = r.length;
    r.set(broadcastTo(ins[0], dims, n));
    for (let k = 1; k < ins.length; k++) {
      const b = broadcastTo(ins[k], dims, n);
      switch (op) {
        case 'add': for (let o = 0; o < n; o++) r[o] += b[o]; break;
        case 'sub': for (let o = 0; o < n; o++) r[o] -= b[o]; break;
        case 'mul': for (let o = 0; o < n; o++) r[o] *= b[o]; break;
        case 'eq': for (let o = 0; o < n; o++) r[o] = r[o] === b[o] ? 1 : 0; break;
        default: for (let o = 0; o < n; o++) r[o] = f(r[o], b[o], intMode);
      }
    }
    return [res];
  };
}

function unary(f: (a: number, c: OpContext) => number): EvalFn {
  return (c, out) => {
    const x = v(c, 0);
    const res = makeVal(out[0].dtype, [...x.dims]);
    for (let i = 0; i < x.data.length; i++) res.data[i] = f(x.data[i], c);
    return [res];
  };
}

const where: EvalFn = (c, out) => {
  const cond = v(c, 0), a = v(c, 1), b = v(c, 2);
  const dims = outDims(out);
  const res = makeVal(out[0].dtype, dims);
  const n = res.data.length;
  const r = res.data, cd = broadcastTo(cond, dims, n), ad = broadcastTo(a, dims, n), bd = broadcastTo(b, dims, n);
  for (let o = 0; o < n; o++) r[o] = cd[o] ? ad[o] : bd[o];
  return [res];
};

const constantOfShape: EvalFn = (c, out) => {
  const t = attrTensor(c.node, 'value');
  const fill = t ? valFromTensor(t).data[0] : 0;
  const res = makeVal(out[0].dtype, outDims(out));
  res.data.fill(fill);
  return [res];
};

const range: EvalFn = (c, out) => {
  const s = v(c, 0).data[0], d = v(c, 2).data[0];
  const n = outDims(out)[0];
  return [makeVal(out[0].dtype, [n], Array.from({ length: n }, (_, i) => s + i * d))];
};

const expand: EvalFn = (c, out) => {
  const x = v(c, 0);
  const dims = outDims(out);
  return [{ dtype: x.dtype, dims, data: broadcastTo(x, dims, size(dims)) }];
};

const reduceProdSum = (prod: boolean): EvalFn => (c, out) => {
  const x = v(c, 0);
  // Only the common "all axes" or 1-D case shows up in shape glue.
  if (x.dims.length > 1 && size(outDims(out)) !== 1) return c.fail('partial reduction not evaluated');
  let acc = prod ? 1 : 0;
  for (const e of x.data) acc = prod ? acc * e : acc + e;
  return [makeVal(x.dtype, outDims(out), [acc])];
};

const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));

export const EVALUATORS: Record<string, EvalFn> = {
  Constant: constant, Shape: shape, Size: sizeOp, Cast: cast, Gather: gather, Concat: concat,
  Reshape: relabel, Flatten: relabel, Squeeze: relabel, Unsqueeze: relabel, Identity: relabel,
  Transpose: transpose, Slice: slice, Where: where, ConstantOfShape: constantOfShape, Range: range, Expand: expand,
  ReduceProd: reduceProdSum(true), ReduceSum: reduceProdSum(false),
  Add: elementwise((a, b) => a + b, 'add'),
  Sub: elementwise((a, b) => a - b, 'sub'),
  Mul: elementwise((a, b) => a * b, 'mul'),
  Div: elementwise((a, b, int) => (int ? Math.trunc(a / b) : a / b)),
  Pow: elementwise((a, b) => Math.pow(a, b)),
  Max: elementwise((a, b) => Math.max(a, b)),
  Min: elementwise((a, b) => Math.min(a, b)),
  Sum: elementwise((a, b) => a + b, 'add'),
  Mod: elementwise((a, b) => a - b * Math.floor(a / b)),
  Equal: elementwise((a, b) => (a === b ? 1 : 0), 'eq'),
  Less: elementwise((a, b) => (a < b ? 1 : 0)),
  Greater: elementwise((a, b) => (a > b ? 1 : 0)),
  LessOrEqual: elementwise((a, b) => (a <= b ? 1 : 0)),
  GreaterOrEqual: elementwise((a, b) => (a >= b ? 1 : 0)),
  And: elementwise((a, b) => (a && b ? 1 : 0)),
  Or: elementwise((a, b) => (a || b ? 1 : 0)),
  Not: unary((a) => (a ? 0 : 1)),
  Neg: unary((a) => -a),
  Abs: unary((a) => Math.abs(a)),
  Exp: unary((a) => Math.exp(a)),
  Log: unary((a) => Math.log(a)),
  Sqrt: unary((a) => Math.sqrt(a)),
  Reciprocal: unary((a) => 1 / a),
  Floor: unary((a) => Math.floor(a)),
  Ceil: unary((a) => Math.ceil(a)),
  Relu: unary((a) => Math.max(0, a)),
  Sigmoid: unary(sigmoid),
  Clip: (c, out) => {
    // Clip < 11 uses attributes, later optional inputs.
    const lo = c.opset < 11 ? attrFloat(c.node, 'min', -Infinity) : c.node.inputs[1] ? v(c, 1).data[0] : -Infinity;
    const hi = c.opset < 11 ? attrFloat(c.node, 'max', Infinity) : c.node.inputs[2] ? v(c, 2).data[0] : Infinity;
    return unary((a) => Math.min(Math.max(a, lo), hi))(c, out);
  },
};

/** Inputs an evaluator does not need values of (Shape/Size read only the input's shape). */
export const SHAPE_ONLY_INPUTS = new Set(['Shape', 'Size']);

// ---------------------------------------------------------------------------------------------
// (engineer newops) Tile, Erf and ScatterND on constants, so they fold instead of reaching the converters.

const tile: EvalFn = (c, out) => {
  const x = v(c, 0);
  const dims = outDims(out);
  const xs = strides(x.dims), os = strides(dims);
  const data: number[] = new Array(size(dims));
  for (let i = 0; i < data.length; i++) {
    let src = 0;
    for (let k = 0; k < dims.length; k++) src += (Math.floor(i / os[k]) % dims[k] % x.dims[k]) * xs[k];
    data[i] = x.data[src];
  }
  return [makeVal(x.dtype, dims, data)];
};

/** erf: Maclaurin series below |x| = 2, Laplace's continued fraction for erfc above (both well below float32 error). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2) {
    let sum = x, term = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

/** ScatterND (reduction none) on constants: Swin's attention mask is built by slice assignment. */
const scatterND: EvalFn = (c, out) => {
  const x = v(c, 0), idx = v(c, 1), upd = v(c, 2);
  if ((c.node.attrs.reduction?.type === 'string' ? c.node.attrs.reduction.value : 'none') !== 'none') return c.fail('ScatterND reduction');
  const data = Array.from(x.data);
  const k = idx.dims[idx.dims.length - 1];
  const st = strides(x.dims);
  const slice = size(x.dims.slice(k));
  const n = size(idx.dims.slice(0, -1));
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let j = 0; j < k; j++) {
      const d = x.dims[j];
      off += ((idx.data[i * k + j] + d) % d) * st[j];
    }
    for (let e = 0; e < slice; e++) data[off + e] = upd.data[i * slice + e];
  }
  return [makeVal(x.dtype, outDims(out), data)];
};

Object.assign(EVALUATORS, { Tile: tile, Erf: unary(erf), ScatterND: scatterND });
