/**
 * Constant folding and shape-glue evaluation.
 *
 * PyTorch exports compute reshape targets and resize sizes at run time:
 *   Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), -1, 2))
 * ncnn has no Shape/Gather/Unsqueeze on integer tensors, so these subgraphs are evaluated here,
 * symbolically: an element is either a number or "dim `axis` of tensor `ref` (times `scale`)".
 * The batch dim is always 1 (ncnn has no batch). The consumer (Reshape, Resize, Slice...) then gets
 * a target whose unknown entries become ncnn's dynamic forms (0 = copy, -1 = infer, Interp sized
 * like a reference blob), so a dynamic ONNX graph stays dynamic in ncnn.
 *
 * Nodes whose every output was evaluated are "glue": they produce no ncnn layer.
 *
 * A node whose inputs are all plain numbers is evaluated by the constant folder's own shape rules
 * and evaluators (src/onnx/ops), so there is one implementation of each op's arithmetic; the
 * switch below only handles what those cannot: elements that are still symbolic dims.
 */
import type { Node } from '../../../onnx/model.js';
import { attrInt, attrInts } from '../../../onnx/model.js';
import type { Tensor } from '../../../onnx/tensor.js';
import { SHAPE_RULES } from '../../../onnx/ops/shape-rules.js';
import { EVALUATORS, SHAPE_ONLY_INPUTS } from '../../../onnx/ops/evaluators.js';
import { isFloatType, makeVal, size as valSize } from '../../../onnx/ops/value.js';
import type { OpContext, TensorInfo } from '../../../onnx/ops/context.js';

export type SymEl = number | { ref: string; axis: number; scale: number };
/** A symbolically known tensor: dims are concrete, elements row-major. */
export interface SymTensor {
  dims: number[];
  els: SymEl[];
  float: boolean;
}

export const isNum = (e: SymEl): e is number => typeof e === 'number';
export const allNumeric = (t: SymTensor) => t.els.every(isNum);

export function symFromTensor(t: Tensor): SymTensor | undefined {
  if (t.dtype === 'string' || t.dtype === 'complex64' || t.dtype === 'complex128' || t.dtype === 'undefined') return undefined;
  const float = t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'float64' || t.dtype === 'bfloat16';
  const els: number[] = float ? Array.from(t.toFloat32()) : t.toNumbers();
  return { dims: [...t.dims], els, float };
}

const size = (d: number[]) => d.reduce((a, b) => a * b, 1);
/** Glue is small (shape vectors); anything bigger is not glue, and evaluating it could exhaust memory (issue #15, item 8). */
const GLUE_MAX = 1 << 20;
const capped = (dims: number[]): number[] => {
  if (size(dims) > GLUE_MAX) throw new NotGlue();
  return dims;
};

class NotGlue extends Error {}

function bcastShape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new NotGlue();
    out.push(Math.max(x, y));
  }
  return out;
}
function bcastIndex(idx: number, out: number[], dims: number[]): number {
  let rem = idx;
  let off = 0;
  let stride = 1;
  const coords: number[] = [];
  for (let i = out.length - 1; i >= 0; i--) {
    coords[i] = rem % out[i];
    rem = Math.floor(rem / out[i]);
  }
  for (let i = dims.length - 1, j = out.length - 1; i >= 0; i--, j--) {
    off += (dims[i] === 1 ? 0 : coords[j]) * stride;
    stride *= dims[i];
  }
  return off;
}

function arith(op: string, a: SymEl, b: SymEl, float: boolean): SymEl {
  if (isNum(a) && isNum(b)) {
    switch (op) {
      case 'Add': return a + b;
      case 'Sub': return a - b;
      case 'Mul': return a * b;
      case 'Div': return float ? Math.fround(a / b) : Math.trunc(a / b);
      case 'Max': return Math.max(a, b);
      case 'Min': return Math.min(a, b);
      case 'Pow': return a ** b;
    }
  }
  // dim * constant and dim / constant stay symbolic (e.g. Resize sizes = 2 * H)
  if (!isNum(a) && isNum(b) && op === 'Mul') return { ...a, scale: a.scale * b };
  if (isNum(a) && !isNum(b) && op === 'Mul') return { ...b, scale: b.scale * a };
  if (!isNum(a) && isNum(b) && op === 'Div') return { ...a, scale: a.scale / b };
  throw new NotGlue();
}

export interface GlueContext {
  /** Symbolic value of a tensor, if known (constants, initializers, evaluated glue). */
  get(name: string): SymTensor | undefined;
  /** ONNX rank of a non-constant tensor, if known. */
  rank(name: string): number | undefined;
  /** Static ONNX dims of a tensor, when known (entries < 0 or strings = unknown). */
  dims?(name: string): (number | string)[] | undefined;
  /** A run-time tensor (no value to know): cheaper to ask than `get`, which turns a constant's elements into numbers. */
  isActivation?(name: string): boolean;
  opset: number;
}

const GLUE_OPS = new Set(['Constant', 'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Slice', 'Cast', 'Identity', 'Add', 'Sub', 'Mul', 'Div', 'Floor', 'Ceil', 'Reshape', 'ConstantOfShape', 'Range', 'Max', 'Min', 'Equal', 'Where', 'Neg', 'Sqrt', 'Transpose', 'Expand', 'Pow', 'Abs']);

/**
 * Evaluates `node` when all its inputs are symbolically known (Shape: when the input's rank is).
 * Returns the outputs, or undefined when the node is a real computation.
 */
export function evalGlue(node: Node, c: GlueContext): SymTensor[] | undefined {
  if (node.domain && node.domain !== 'ai.onnx') return undefined;
  if (!GLUE_OPS.has(node.opType)) return undefined;
  // only Shape reads a run-time tensor (its rank); any other op with one is a real computation,
  // known before `get` turns a constant operand (a mask, a bias table) into numbers
  if (node.opType !== 'Shape' && c.isActivation && node.inputs.some((n) => n && c.isActivation!(n))) return undefined;
  try {
    return evalNumeric(node, c) ?? evalNode(node, c);
  } catch (e) {
    if (e instanceof NotGlue) return undefined;
    throw e;
  }
}

/** Largest constant the glue pass materialises through the evaluators. */
const EVAL_LIMIT = 1 << 20;

/** All inputs plain numbers: the shape rule + evaluator of src/onnx/ops, or undefined. */
function evalNumeric(node: Node, c: GlueContext): SymTensor[] | undefined {
  const rule = SHAPE_RULES[node.opType], ev = EVALUATORS[node.opType];
  if (!rule || !ev || SHAPE_ONLY_INPUTS.has(node.opType)) return undefined;
  const ins = node.inputs.map((n) => (n ? c.get(n) : undefined));
  if (node.inputs.some((n, i) => n && (!ins[i] || !allNumeric(ins[i]!)))) return undefined;
  const info = (t: SymTensor): TensorInfo => ({ dtype: t.float ? 'float32' : 'int64', shape: t.dims });
  const ctx: OpContext = {
    node,
    opset: c.opset,
    input: (i) => (ins[i] ? info(ins[i]!) : undefined),
    value: (i) => (ins[i] ? makeVal(ins[i]!.float ? 'float32' : 'int64', ins[i]!.dims, ins[i]!.els as number[]) : undefined),
    fail: () => {
      throw new NotGlue();
    },
    unknownDim: () => {
      throw new NotGlue();
    },
  };
  try {
    const outs = rule(ctx);
    if (!outs.every((o) => o.shape.every((d) => typeof d === 'number') && valSize(o.shape as number[]) <= EVAL_LIMIT)) return undefined;
    return ev(ctx, outs).map((v) => ({ dims: [...v.dims], els: Array.from(v.data), float: isFloatType(v.dtype) }));
  } catch {
    return undefined; // not evaluable here: the symbolic rules below may still apply
  }
}

function evalNode(node: Node, c: GlueContext): SymTensor[] {
  const inp = (i: number): SymTensor => {
    const n = node.inputs[i];
    const v = n ? c.get(n) : undefined;
    if (!v) throw new NotGlue();
    return v;
  };
  const opt = (i: number): SymTensor | undefined => (node.inputs[i] ? c.get(node.inputs[i]) : undefined);
  const ints = (t: SymTensor): number[] => {
    if (!allNumeric(t)) throw new NotGlue();
    return t.els as number[];
  };
  switch (node.opType) {
    case 'Shape': {
      const x = node.inputs[0];
      const known = c.get(x);
      let rank = known ? known.dims.length : c.rank(x);
      if (rank === undefined) throw new NotGlue();
      const staticDims = known ? known.dims : c.dims?.(x);
      let els: SymEl[] = [];
      for (let a = 0; a < rank; a++) {
        const d = staticDims?.[a];
        if (a === 0 && !known) els.push(1); // the batch axis: ncnn runs batch 1
        else if (typeof d === 'number' && d >= 0) els.push(d);
        else els.push({ ref: x, axis: a, scale: 1 });
      }
      let start = attrInt(node, 'start', 0);
      let end = attrInt(node, 'end', rank);
      if (start < 0) start += rank;
      if (end < 0) end += rank;
      els = els.slice(Math.max(0, start), Math.min(rank, end));
      rank = els.length;
      return [{ dims: [rank], els, float: false }];
    }
    case 'Identity':
    case 'Cast': {
      const x = inp(0);
      if (node.opType === 'Cast') {
        const to = attrInt(node, 'to', 1);
        const float = to === 1 || to === 10 || to === 11 || to === 16;
        return [{ dims: x.dims, els: float ? x.els : x.els.map((e) => (isNum(e) ? Math.trunc(e) : e)), float }];
      }
      return [x];
    }
    case 'Gather': {
      const x = inp(0);
      const idx = inp(1);
      const r = x.dims.length;
      let axis = attrInt(node, 'axis', 0);
      if (axis < 0) axis += r;
      const ii = ints(idx).map((i) => (i < 0 ? i + x.dims[axis] : i));
      const outer = size(x.dims.slice(0, axis));
      const inner = size(x.dims.slice(axis + 1));
      const els: SymEl[] = [];
      for (let o = 0; o < outer; o++) for (const i of ii) for (let k = 0; k < inner; k++) els.push(x.els[(o * x.dims[axis] + i) * inner + k]);
      return [{ dims: [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)], els, float: x.float }];
    }
    case 'Unsqueeze': {
      const x = inp(0);
      const axes = c.opset >= 13 && node.inputs[1] ? ints(inp(1)) : attrInts(node, 'axes') ?? [];
      const r = x.dims.length + axes.length;
      const norm = axes.map((a) => (a < 0 ? a + r : a)).sort((a, b) => a - b);
      const dims = [...x.dims];
      for (const a of norm) dims.splice(a, 0, 1);
      return [{ dims, els: x.els, float: x.float }];
    }
    case 'Squeeze': {
      const x = inp(0);
      const axes = c.opset >= 13 && node.inputs[1] ? ints(inp(1)) : attrInts(node, 'axes');
      const r = x.dims.length;
      const drop = new Set((axes ?? x.dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => (a < 0 ? a + r : a)));
      return [{ dims: x.dims.filter((_, i) => !drop.has(i)), els: x.els, float: x.float }];
    }
    case 'Reshape': {
      const x = inp(0);
      const shape = ints(inp(1));
      const n = size(x.dims);
      const dims = shape.map((d, i) => (d === 0 ? x.dims[i] : d));
      const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return [{ dims: dims.map((d) => (d === -1 ? n / known : d)), els: x.els, float: x.float }];
    }
    case 'Concat': {
      const xs = node.inputs.map((_, i) => inp(i));
      const r = xs[0].dims.length;
      let axis = attrInt(node, 'axis', 0);
      if (axis < 0) axis += r;
      const outer = size(xs[0].dims.slice(0, axis));
      const els: SymEl[] = [];
      for (let o = 0; o < outer; o++)
        for (const x of xs) {
          const chunk = size(x.dims.slice(axis));
          els.push(...x.els.slice(o * chunk, (o + 1) * chunk));
        }
      const dims = [...xs[0].dims];
      dims[axis] = xs.reduce((s, x) => s + x.dims[axis], 0);
      return [{ dims, els, float: xs.some((x) => x.float) }];
    }
    case 'Slice': {
      const x = inp(0);
      if (x.dims.length !== 1) throw new NotGlue();
      let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
      if (c.opset >= 10) {
        starts = ints(inp(1));
        ends = ints(inp(2));
        axes = opt(3) ? ints(inp(3)) : undefined;
        steps = opt(4) ? ints(inp(4)) : undefined;
      } else {
        starts = attrInts(node, 'starts') ?? [];
        ends = attrInts(node, 'ends') ?? [];
        axes = attrInts(node, 'axes');
      }
      if ((axes && axes.length !== 1) || starts.length !== 1) throw new NotGlue();
      const n = x.dims[0];
      const step = steps?.[0] ?? 1;
      const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));
      let s = starts[0] < 0 ? starts[0] + n : starts[0];
      let e = ends[0] < 0 ? ends[0] + n : ends[0];
      const els: SymEl[] = [];
      if (step > 0) {
        s = clamp(s, 0, n);
        e = clamp(e, 0, n);
        for (let i = s; i < e; i += step) els.push(x.els[i]);
      } else {
        s = clamp(s, -1, n - 1);
        e = clamp(e, -1, n - 1);
        for (let i = s; i > e; i += step) els.push(x.els[i]);
      }
      return [{ dims: [els.length], els, float: x.float }];
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Max': case 'Min': case 'Pow': {
      const a = inp(0), b = inp(1);
      const dims = capped(bcastShape(a.dims, b.dims));
      const float = a.float || b.float;
      const n = size(dims);
      const els: SymEl[] = [];
      for (let i = 0; i < n; i++) els.push(arith(node.opType, a.els[bcastIndex(i, dims, a.dims)], b.els[bcastIndex(i, dims, b.dims)], float));
      return [{ dims, els: float ? els.map((e) => (isNum(e) ? Math.fround(e) : e)) : els, float }];
    }
    case 'Floor': case 'Ceil': case 'Neg': case 'Sqrt': case 'Abs': {
      const x = inp(0);
      const f = { Floor: Math.floor, Ceil: Math.ceil, Neg: (v: number) => -v, Sqrt: Math.sqrt, Abs: Math.abs }[node.opType]!;
      // floor/ceil of a scaled dim keep the dim symbolic (ncnn sizes are integral anyway)
      const els = x.els.map((e) => {
        if (isNum(e)) return Math.fround(f(e));
        if (node.opType === 'Floor' || node.opType === 'Ceil') return e;
        throw new NotGlue();
      });
      return [{ dims: x.dims, els, float: x.float }];
    }
    case 'Where': {
      const cnd = inp(0), a = inp(1), b = inp(2);
      if (!allNumeric(cnd)) throw new NotGlue();
      const dims = capped(bcastShape(bcastShape(cnd.dims, a.dims), b.dims));
      const els: SymEl[] = [];
      for (let i = 0; i < size(dims); i++) els.push(cnd.els[bcastIndex(i, dims, cnd.dims)] ? a.els[bcastIndex(i, dims, a.dims)] : b.els[bcastIndex(i, dims, b.dims)]);
      return [{ dims, els, float: a.float }];
    }
    case 'Expand': {
      const x = inp(0);
      const dims = capped(bcastShape(x.dims, ints(inp(1))));
      const els: SymEl[] = [];
      for (let i = 0; i < size(dims); i++) els.push(x.els[bcastIndex(i, dims, x.dims)]);
      return [{ dims, els, float: x.float }];
    }
    case 'Transpose': {
      const x = inp(0);
      const r = x.dims.length;
      const perm = attrInts(node, 'perm') ?? [...Array(r).keys()].reverse();
      const dims = perm.map((p) => x.dims[p]);
      const n = size(dims);
      const inStrides = x.dims.map((_, i) => size(x.dims.slice(i + 1)));
      const els: SymEl[] = [];
      for (let i = 0; i < n; i++) {
        let rem = i, off = 0;
        for (let k = r - 1; k >= 0; k--) {
          const cidx = rem % dims[k];
          rem = Math.floor(rem / dims[k]);
          off += cidx * inStrides[perm[k]];
        }
        els.push(x.els[off]);
      }
      return [{ dims, els, float: x.float }];
    }
  }
  throw new NotGlue();
}
