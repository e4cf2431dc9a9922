/**
 * Output shape/dtype rules per ONNX op (default domain), opset-aware where the attribute/input
 * form changed (Slice 10, Pad 11, Clip 11, Squeeze/Unsqueeze/Split/ReduceSum 13, Reduce* 18...).
 * A rule only needs constant input values for shape-carrying inputs (Reshape's shape, Slice's
 * starts...); when those are unknown the affected dims become symbolic names.
 */
import { attrInt, attrInts, attrString, attrTensor } from '../model.js';
import { dtypeFromCode, type DType } from '../tensor.js';
import { axis, dimMap, dimsProduct, isStatic, req, type OpContext, type ShapeRule, type TensorInfo } from './context.js';
import type { Dim } from './value.js';

const same: ShapeRule = (c) => {
  const x = req(c, 0);
  return [{ dtype: x.dtype, shape: [...x.shape] }];
};

/** Numpy-style broadcast of possibly symbolic shapes. */
export function broadcastShapes(c: OpContext, shapes: Dim[][]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = new Array(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      const cur = out[o];
      if (d === 1 || d === cur) continue;
      if (cur === 1) out[o] = d;
      else if (typeof cur === 'number' && typeof d === 'number') c.fail(`shapes ${shapes.map((x) => `[${x}]`).join(' and ')} do not broadcast`);
      else if (typeof cur === 'string' && typeof d === 'number') out[o] = d; // the known size wins
    }
  }
  return out;
}

const broadcast = (outType?: DType): ShapeRule => (c) => {
  const ins: TensorInfo[] = [];
  for (let i = 0; i < c.node.inputs.length; i++) if (c.input(i)) ins.push(c.input(i)!);
  if (!ins.length) return c.fail('no inputs');
  return [{ dtype: outType ?? ins[0].dtype, shape: broadcastShapes(c, ins.map((t) => t.shape)) }];
};

/** Integer list from a constant input, or undefined when not known. */
function intsOf(c: OpContext, i: number): number[] | undefined {
  const v = c.value(i);
  return v ? Array.from(v.data) : undefined;
}

// ---------------------------------------------------------------------------------------------
// convolution and pooling geometry

interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
  autoPad: string;
}

function windowOf(c: OpContext, spatial: number, kernel: number[]): Window {
  const n = c.node;
  const strides = attrInts(n, 'strides') ?? new Array(spatial).fill(1);
  const dilations = attrInts(n, 'dilations') ?? new Array(spatial).fill(1);
  const pads = attrInts(n, 'pads') ?? new Array(spatial * 2).fill(0);
  if (kernel.length !== spatial) return c.fail(`kernel rank ${kernel.length} does not match ${spatial} spatial dims`);
  return { kernel, strides, dilations, padsBegin: pads.slice(0, spatial), padsEnd: pads.slice(spatial), autoPad: attrString(n, 'auto_pad', 'NOTSET') };
}

function windowOut(w: Window, i: number, d: Dim, ceilMode: boolean): Dim {
  const s = w.strides[i];
  const eff = (w.kernel[i] - 1) * w.dilations[i] + 1;
  if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER')
    return dimMap(d, (x) => Math.ceil(x / s), (x) => `ceil(${x}/${s})`);
  if (w.autoPad === 'VALID')
    return dimMap(d, (x) => Math.floor((x - eff) / s) + 1, (x) => `floor((${x}-${eff})/${s})+1`);
  const pad = w.padsBegin[i] + w.padsEnd[i];
  if (!ceilMode) return dimMap(d, (x) => Math.floor((x + pad - eff) / s) + 1, (x) => `floor((${x}+${pad - eff})/${s})+1`);
  return dimMap(d, (x) => {
    let o = Math.ceil((x + pad - eff) / s) + 1;
    if ((o - 1) * s >= x + w.padsBegin[i]) o--; // the last window must start inside the input or left pad
    return o;
  }, (x) => `ceil((${x}+${pad - eff})/${s})+1`);
}

const conv: ShapeRule = (c) => {
  const x = req(c, 0);
  const w = req(c, 1);
  const spatial = x.shape.length - 2;
  if (spatial < 1) return c.fail(`input rank ${x.shape.length} < 3`);
  const kernel = attrInts(c.node, 'kernel_shape') ?? w.shape.slice(2).map((d) => (typeof d === 'number' ? d : c.fail('kernel shape unknown')));
  const group = attrInt(c.node, 'group', 1);
  const cin = x.shape[1], wc = w.shape[1];
  if (typeof cin === 'number' && typeof wc === 'number' && cin !== wc * group)
    c.fail(`input has ${cin} channels, weight [${w.shape}] with group ${group} expects ${wc * group}`);
  const win = windowOf(c, spatial, kernel);
  const out: Dim[] = [x.shape[0], w.shape[0]];
  for (let i = 0; i < spatial; i++) out.push(windowOut(win, i, x.shape[2 + i], false));
  return [{ dtype: x.dtype, shape: out }];
};

const convTranspose: ShapeRule = (c) => {
  const x = req(c, 0);
  const w = req(c, 1);
  const spatial = x.shape.length - 2;
  const group = attrInt(c.node, 'group', 1);
  const kernel = attrInts(c.node, 'kernel_shape') ?? w.shape.slice(2).map((d) => (typeof d === 'number' ? d : c.fail('kernel shape unknown')));
  const win = windowOf(c, spatial, kernel);
  const outPad = attrInts(c.node, 'output_padding') ?? new Array(spatial).fill(0);
  const outputShape = attrInts(c.node, 'output_shape');
  const oc = dimMap(w.shape[1], (d) => d * group, (d) => `${d}*${group}`);
  const out: Dim[] = [x.shape[0], oc];
  for (let i = 0; i < spatial; i++) {
    if (outputShape) {
      out.push(outputShape[outputShape.length - spatial + i]);
      continue;
    }
    const s = win.strides[i];
    const eff = (kernel[i] - 1) * win.dilations[i] + 1;
    if (win.autoPad === 'SAME_UPPER' || win.autoPad === 'SAME_LOWER') out.push(dimMap(x.shape[2 + i], (d) => d * s, (d) => `${d}*${s}`));
    else {
      const k = outPad[i] + eff - win.padsBegin[i] - win.padsEnd[i];
      out.push(dimMap(x.shape[2 + i], (d) => s * (d - 1) + k, (d) => `${s}*(${d}-1)+${k}`));
    }
  }
  return [{ dtype: x.dtype, shape: out }];
};

const pool: ShapeRule = (c) => {
  const x = req(c, 0);
  const spatial = x.shape.length - 2;
  const kernel = attrInts(c.node, 'kernel_shape');
  if (!kernel) return c.fail('kernel_shape attribute missing');
  const win = windowOf(c, spatial, kernel);
  const ceilMode = attrInt(c.node, 'ceil_mode', 0) === 1;
  const out: Dim[] = [x.shape[0], x.shape[1]];
  for (let i = 0; i < spatial; i++) out.push(windowOut(win, i, x.shape[2 + i], ceilMode));
  const res: TensorInfo[] = [{ dtype: x.dtype, shape: out }];
  if (c.node.outputs.length > 1) res.push({ dtype: 'int64', shape: [...out] }); // MaxPool indices
  return res;
};

const globalPool: ShapeRule = (c) => {
  const x = req(c, 0);
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i < 2 ? d : 1)) }];
};

// ---------------------------------------------------------------------------------------------
// shape manipulation

const reshape: ShapeRule = (c) => {
  const x = req(c, 0);
  const target = intsOf(c, 1);
  if (!target) {
    const s = req(c, 1);
    const r = s.shape[0];
    if (typeof r !== 'number') return c.fail('target shape has unknown rank');
    return [{ dtype: x.dtype, shape: Array.from({ length: r }, (_, i) => c.unknownDim(`d${i}`)) }];
  }
  const allowZero = attrInt(c.node, 'allowzero', 0) === 1;
  const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
  const neg = out.findIndex((d) => d === -1);
  if (neg >= 0) {
    const known = out.filter((_, i) => i !== neg);
    if (isStatic(x.shape) && isStatic(known)) {
      const total = x.shape.reduce((a, b) => a * b, 1);
      const part = known.reduce((a, b) => a * b, 1);
      if (part === 0 || total % part !== 0) return c.fail(`cannot reshape [${x.shape}] to [${target}]`);
      out[neg] = total / part;
    } else out[neg] = c.unknownDim('reshape');
  } else if (isStatic(x.shape) && isStatic(out)) {
    const a = x.shape.reduce((p, q) => p * q, 1);
    const b = out.reduce((p, q) => p * q, 1);
    if (a !== b) return c.fail(`cannot reshape [${x.shape}] (${a} elements) to [${target}] (${b} elements)`);
  }
  return [{ dtype: x.dtype, shape: out }];
};

const transpose: ShapeRule = (c) => {
  const x = req(c, 0);
  const perm = attrInts(c.node, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i);
  if (perm.length !== x.shape.length) return c.fail(`perm [${perm}] does not match rank ${x.shape.length}`);
  return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
};

const flatten: ShapeRule = (c) => {
  const x = req(c, 0);
  let a = attrInt(c.node, 'axis', 1);
  if (a < 0) a += x.shape.length;
  return [{ dtype: x.dtype, shape: [dimsProduct(x.shape.slice(0, a)), dimsProduct(x.shape.slice(a))] }];
};

function axesInput(c: OpContext, attrName = 'axes', inputIndex = 1, fromOpset = 13): number[] | undefined {
  if (c.opset >= fromOpset && c.node.inputs.length > inputIndex && c.node.inputs[inputIndex]) {
    const v = intsOf(c, inputIndex);
    if (!v) return c.fail(`${attrName} input is not a constant`);
    return v;
  }
  return attrInts(c.node, attrName);
}

const squeeze: ShapeRule = (c) => {
  const x = req(c, 0);
  const axes = axesInput(c);
  if (!axes) {
    if (!isStatic(x.shape)) return c.fail('squeeze without axes needs static input dims');
    return [{ dtype: x.dtype, shape: x.shape.filter((d) => d !== 1) }];
  }
  const norm = new Set(axes.map((a) => axis(c, a, x.shape.length)));
  return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !norm.has(i)) }];
};

const unsqueeze: ShapeRule = (c) => {
  const x = req(c, 0);
  const axes = axesInput(c);
  if (!axes) return c.fail('axes missing');
  const rank = x.shape.length + axes.length;
  const norm = new Set(axes.map((a) => axis(c, a, rank)));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(norm.has(i) ? 1 : x.shape[j++]);
  return [{ dtype: x.dtype, shape: out }];
};

const concat: ShapeRule = (c) => {
  const ins: TensorInfo[] = [];
  for (let i = 0; i < c.node.inputs.length; i++) if (c.input(i)) ins.push(c.input(i)!);
  if (!ins.length) return c.fail('no inputs');
  const rank = ins[0].shape.length;
  const a = axis(c, attrInt(c.node, 'axis', 0), rank);
  const out = [...ins[0].shape];
  let total: Dim = 0;
  for (const t of ins) {
    if (t.shape.length !== rank) return c.fail(`inputs of rank ${rank} and ${t.shape.length}`);
    const d = t.shape[a];
    total = typeof total === 'number' && typeof d === 'number' ? total + d : `${total}+${d}`;
  }
  out[a] = total;
  return [{ dtype: ins[0].dtype, shape: out }];
};

const split: ShapeRule = (c) => {
  const x = req(c, 0);
  const a = axis(c, attrInt(c.node, 'axis', 0), x.shape.length);
  const n = c.node.outputs.length;
  let parts = c.opset >= 13 ? (c.node.inputs[1] ? intsOf(c, 1) : undefined) : attrInts(c.node, 'split');
  if (c.opset >= 13 && c.node.inputs[1] && !parts) return c.fail('split sizes are not constant');
  const d = x.shape[a];
  if (!parts) {
    if (typeof d !== 'number') return c.node.outputs.map(() => ({ dtype: x.dtype, shape: x.shape.map((v, i) => (i === a ? c.unknownDim('split') : v)) }));
    const chunk = Math.ceil(d / n);
    parts = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, d - i * chunk)));
  }
  return parts.map((p) => ({ dtype: x.dtype, shape: x.shape.map((v, i) => (i === a ? p : v)) }));
};

function sliceDim(d: number, start: number, end: number, step: number): number {
  if (step === 0) throw new Error('slice step 0');
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) {
    s = clamp(s, 0, d);
    e = clamp(e, 0, d);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  s = clamp(s, -1, d - 1);
  e = clamp(e, -1, d - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

/** Resolved Slice parameters (attr form before opset 10, inputs after); undefined if not constant. */
export function sliceParams(c: OpContext, rank: number): { starts: number[]; ends: number[]; axes: number[]; steps: number[] } | undefined {
  let starts: number[] | undefined, ends: number[] | undefined, axes: number[] | undefined, steps: number[] | undefined;
  if (c.opset < 10) {
    starts = attrInts(c.node, 'starts');
    ends = attrInts(c.node, 'ends');
    axes = attrInts(c.node, 'axes');
  } else {
    starts = intsOf(c, 1);
    ends = intsOf(c, 2);
    axes = c.node.inputs[3] ? intsOf(c, 3) : undefined;
    steps = c.node.inputs[4] ? intsOf(c, 4) : undefined;
    if ((c.node.inputs[3] && !axes) || (c.node.inputs[4] && !steps)) return undefined;
  }
  if (!starts || !ends) return undefined;
  axes = (axes ?? starts.map((_, i) => i)).map((a) => axis(c, a, rank));
  steps = steps ?? starts.map(() => 1);
  return { starts, ends, axes, steps };
}

const slice: ShapeRule = (c) => {
  const x = req(c, 0);
  const p = sliceParams(c, x.shape.length);
  if (!p) {
    const axes = c.opset >= 10 && c.node.inputs[3] ? intsOf(c, 3) : undefined;
    const affected = axes ? new Set(axes.map((a) => axis(c, a, x.shape.length))) : undefined;
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (!affected || affected.has(i) ? c.unknownDim('slice') : d)) }];
  }
  const out = [...x.shape];
  p.axes.forEach((a, i) => {
    const d = x.shape[a];
    out[a] = typeof d === 'number' ? sliceDim(d, p.starts[i], p.ends[i], p.steps[i]) : c.unknownDim('slice');
  });
  return [{ dtype: x.dtype, shape: out }];
};
export { sliceDim };

const gather: ShapeRule = (c) => {
  const x = req(c, 0);
  const idx = req(c, 1);
  const a = axis(c, attrInt(c.node, 'axis', 0), x.shape.length);
  return [{ dtype: x.dtype, shape: [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)] }];
};

const shapeOp: ShapeRule = (c) => {
  const x = req(c, 0);
  const r = x.shape.length;
  let start = attrInt(c.node, 'start', 0);
  let end = attrInt(c.node, 'end', r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = Math.min(Math.max(start, 0), r);
  end = Math.min(Math.max(end, 0), r);
  return [{ dtype: 'int64', shape: [Math.max(0, end - start)] }];
};

const constant: ShapeRule = (c) => {
  const t = attrTensor(c.node, 'value');
  if (t) return [{ dtype: t.dtype, shape: [...t.dims] }];
  if (c.node.attrs.value_float) return [{ dtype: 'float32', shape: [] }];
  if (c.node.attrs.value_int) return [{ dtype: 'int64', shape: [] }];
  const fl = attrFloats(c);
  if (fl) return [{ dtype: 'float32', shape: [fl.length] }];
  const il = attrInts(c.node, 'value_ints');
  if (il) return [{ dtype: 'int64', shape: [il.length] }];
  return c.fail('unsupported Constant form (sparse or string value)');
};
function attrFloats(c: OpContext): number[] | undefined {
  const a = c.node.attrs.value_floats;
  return a && a.type === 'floats' ? a.value : undefined;
}

const constantOfShape: ShapeRule = (c) => {
  const s = intsOf(c, 0);
  const t = attrTensor(c.node, 'value');
  const dtype = t?.dtype ?? 'float32';
  if (!s) {
    const n = req(c, 0).shape[0];
    if (typeof n !== 'number') return c.fail('shape input has unknown length');
    return [{ dtype, shape: Array.from({ length: n }, () => c.unknownDim('cos')) }];
  }
  return [{ dtype, shape: s }];
};

const pad: ShapeRule = (c) => {
  const x = req(c, 0);
  const r = x.shape.length;
  let pads: number[] | undefined;
  let axes: number[] = x.shape.map((_, i) => i);
  if (c.opset < 11) pads = attrInts(c.node, 'pads');
  else {
    pads = intsOf(c, 1);
    if (c.node.inputs[3]) {
      const a = intsOf(c, 3);
      if (!a) return c.fail('axes input is not a constant');
      axes = a.map((v) => axis(c, v, r));
    }
  }
  if (!pads) return [{ dtype: x.dtype, shape: x.shape.map(() => c.unknownDim('pad')) }];
  const n = axes.length;
  const out = [...x.shape];
  axes.forEach((a, i) => {
    const add = pads![i] + pads![i + n];
    out[a] = dimMap(out[a], (d) => d + add, (d) => `${d}+${add}`);
  });
  return [{ dtype: x.dtype, shape: out }];
};

function scaleDim(d: Dim, s: number): Dim {
  return dimMap(d, (v) => Math.floor(v * s), (v) => `floor(${v}*${s})`);
}

const resize: ShapeRule = (c) => {
  const x = req(c, 0);
  const r = x.shape.length;
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (c.node.opType === 'Upsample' && c.opset < 9) scales = attrFloatsOf(c, 'scales');
  else if (c.node.opType === 'Upsample' || c.opset === 10) scales = c.value(1) ? Array.from(c.value(1)!.data) : undefined;
  else {
    if (c.node.inputs[3]) sizes = intsOf(c, 3);
    if (c.node.inputs[2] && !sizes) {
      const v = c.value(2);
      if (v && v.data.length) scales = Array.from(v.data);
    }
  }
  const axesAttr = attrInts(c.node, 'axes');
  const axes = axesAttr ? axesAttr.map((a) => axis(c, a, r)) : x.shape.map((_, i) => i);
  const out = [...x.shape];
  if (sizes) {
    const policy = attrString(c.node, 'keep_aspect_ratio_policy', 'stretch');
    if (policy !== 'stretch') {
      const ratios = axes.map((a, i) => (typeof x.shape[a] === 'number' ? sizes![i] / (x.shape[a] as number) : NaN));
      const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((a) => (out[a] = dimMap(x.shape[a], (d) => Math.round(d * s), (d) => `round(${d}*${s})`)));
    } else axes.forEach((a, i) => (out[a] = sizes![i]));
  } else if (scales) {
    axes.forEach((a, i) => (out[a] = scaleDim(x.shape[a], scales![i])));
  } else return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i < 2 ? d : c.unknownDim('resize'))) }];
  return [{ dtype: x.dtype, shape: out }];
};
function attrFloatsOf(c: OpContext, name: string): number[] | undefined {
  const a = c.node.attrs[name];
  return a && a.type === 'floats' ? a.value : undefined;
}

const reduce: ShapeRule = (c) => {
  const x = req(c, 0);
  const r = x.shape.length;
  const keep = attrInt(c.node, 'keepdims', 1) === 1;
  const fromOpset = c.node.opType === 'ReduceSum' ? 13 : 18;
  let axes = axesInput(c, 'axes', 1, fromOpset);
  if (!axes || axes.length === 0) {
    if (attrInt(c.node, 'noop_with_empty_axes', 0) === 1) return [{ dtype: x.dtype, shape: [...x.shape] }];
    axes = x.shape.map((_, i) => i);
  }
  const set = new Set(axes.map((a) => axis(c, a, r)));
  const out: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return [{ dtype: x.dtype, shape: out }];
};

const argReduce: ShapeRule = (c) => {
  const x = req(c, 0);
  const a = axis(c, attrInt(c.node, 'axis', 0), x.shape.length);
  const keep = attrInt(c.node, 'keepdims', 1) === 1;
  const out = keep ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  return [{ dtype: 'int64', shape: out }];
};

const gemm: ShapeRule = (c) => {
  const a = req(c, 0);
  const b = req(c, 1);
  if (a.shape.length !== 2 || b.shape.length !== 2) return c.fail(`Gemm needs 2-D inputs, got [${a.shape}] and [${b.shape}]`);
  const ka = attrInt(c.node, 'transA', 0) ? a.shape[0] : a.shape[1];
  const kb = attrInt(c.node, 'transB', 0) ? b.shape[1] : b.shape[0];
  if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) c.fail(`inner dims differ: [${a.shape}] x [${b.shape}]`);
  const m = attrInt(c.node, 'transA', 0) ? a.shape[1] : a.shape[0];
  const n = attrInt(c.node, 'transB', 0) ? b.shape[0] : b.shape[1];
  return [{ dtype: a.dtype, shape: [m, n] }];
};

const matmul: ShapeRule = (c) => {
  const a = req(c, 0);
  const b = req(c, 1);
  const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const ka = as[as.length - 1], kb = bs[bs.length - 2];
  if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) c.fail(`inner dims differ: [${a.shape}] x [${b.shape}]`);
  const batch = broadcastShapes(c, [as.slice(0, -2), bs.slice(0, -2)]);
  const out: Dim[] = [...batch];
  if (a.shape.length !== 1) out.push(as[as.length - 2]);
  if (b.shape.length !== 1) out.push(bs[bs.length - 1]);
  return [{ dtype: a.dtype, shape: out }];
};

const cast: ShapeRule = (c) => {
  const x = req(c, 0);
  return [{ dtype: dtypeFromCode(attrInt(c.node, 'to', 1)), shape: [...x.shape] }];
};

const batchNorm: ShapeRule = (c) => {
  const x = req(c, 0);
  const res: TensorInfo[] = [{ dtype: x.dtype, shape: [...x.shape] }];
  for (let i = 1; i < c.node.outputs.length; i++) res.push({ dtype: x.dtype, shape: [x.shape[1]] });
  return res;
};

const dropout: ShapeRule = (c) => {
  const x = req(c, 0);
  const res: TensorInfo[] = [{ dtype: x.dtype, shape: [...x.shape] }];
  if (c.node.outputs.length > 1) res.push({ dtype: 'bool', shape: [...x.shape] });
  return res;
};

const expand: ShapeRule = (c) => {
  const x = req(c, 0);
  const s = intsOf(c, 1);
  if (!s) {
    const n = req(c, 1).shape[0];
    if (typeof n !== 'number') return c.fail('shape input has unknown length');
    return [{ dtype: x.dtype, shape: Array.from({ length: Math.max(n, x.shape.length) }, () => c.unknownDim('expand')) }];
  }
  return [{ dtype: x.dtype, shape: broadcastShapes(c, [x.shape, s]) }];
};

const tile: ShapeRule = (c) => {
  const x = req(c, 0);
  const reps = intsOf(c, 1);
  if (!reps) return [{ dtype: x.dtype, shape: x.shape.map(() => c.unknownDim('tile')) }];
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => dimMap(d, (v) => v * reps[i], (v) => `${v}*${reps[i]}`)) }];
};

const range: ShapeRule = (c) => {
  const s = c.value(0), l = c.value(1), d = c.value(2);
  const dtype = req(c, 0).dtype;
  if (s && l && d) return [{ dtype, shape: [Math.max(0, Math.ceil((l.data[0] - s.data[0]) / d.data[0]))] }];
  return [{ dtype, shape: [c.unknownDim('range')] }];
};

const where: ShapeRule = (c) => {
  const cond = req(c, 0), a = req(c, 1), b = req(c, 2);
  return [{ dtype: a.dtype, shape: broadcastShapes(c, [cond.shape, a.shape, b.shape]) }];
};

const topk: ShapeRule = (c) => {
  const x = req(c, 0);
  const a = axis(c, attrInt(c.node, 'axis', -1), x.shape.length);
  const k = c.opset >= 10 ? intsOf(c, 1)?.[0] : attrInt(c.node, 'k');
  const out = x.shape.map((d, i) => (i === a ? k ?? c.unknownDim('k') : d));
  return [{ dtype: x.dtype, shape: out }, { dtype: 'int64', shape: [...out] }];
};

const depthToSpace: ShapeRule = (c) => {
  const x = req(c, 0);
  const b = attrInt(c.node, 'blocksize', 1);
  const [n, ch, h, w] = x.shape;
  return [{ dtype: x.dtype, shape: [n, dimMap(ch, (v) => v / (b * b), (v) => `${v}/${b * b}`), dimMap(h, (v) => v * b, (v) => `${v}*${b}`), dimMap(w, (v) => v * b, (v) => `${v}*${b}`)] }];
};
const spaceToDepth: ShapeRule = (c) => {
  const x = req(c, 0);
  const b = attrInt(c.node, 'blocksize', 1);
  const [n, ch, h, w] = x.shape;
  return [{ dtype: x.dtype, shape: [n, dimMap(ch, (v) => v * b * b, (v) => `${v}*${b * b}`), dimMap(h, (v) => v / b, (v) => `${v}/${b}`), dimMap(w, (v) => v / b, (v) => `${v}/${b}`)] }];
};

const nonZero: ShapeRule = (c) => [{ dtype: 'int64', shape: [req(c, 0).shape.length, c.unknownDim('nonzero')] }];
const size: ShapeRule = () => [{ dtype: 'int64', shape: [] }];
const layerNorm: ShapeRule = (c) => {
  const x = req(c, 0);
  const res: TensorInfo[] = [{ dtype: x.dtype, shape: [...x.shape] }];
  const a = axis(c, attrInt(c.node, 'axis', -1), x.shape.length);
  for (let i = 1; i < c.node.outputs.length; i++) res.push({ dtype: 'float32', shape: x.shape.map((d, j) => (j < a ? d : 1)) });
  return res;
};

const UNARY = [
  'Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Reciprocal',
  'Neg', 'Abs', 'Floor', 'Ceil', 'Round', 'Sign', 'Erf', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Mish', 'Gelu',
  'ThresholdedRelu', 'Sin', 'Cos', 'Identity', 'Softmax', 'LogSoftmax', 'Hardmax', 'LRN', 'InstanceNormalization',
  'GroupNormalization', 'MeanVarianceNormalization', 'CumSum', 'Shrink', 'IsNaN', 'IsInf', 'Not',
];
const BINARY = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Mod', 'BitShift'];
const COMPARE = ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor'];

export const SHAPE_RULES: Record<string, ShapeRule> = {
  Conv: conv, ConvTranspose: convTranspose,
  MaxPool: pool, AveragePool: pool, LpPool: pool,
  GlobalAveragePool: globalPool, GlobalMaxPool: globalPool, GlobalLpPool: globalPool,
  BatchNormalization: batchNorm, Dropout: dropout,
  Reshape: reshape, Transpose: transpose, Flatten: flatten, Squeeze: squeeze, Unsqueeze: unsqueeze,
  Concat: concat, Split: split, Slice: slice, Gather: gather, Shape: shapeOp, Size: size,
  Constant: constant, ConstantOfShape: constantOfShape, Pad: pad, Resize: resize, Upsample: resize,
  ReduceMean: reduce, ReduceSum: reduce, ReduceMax: reduce, ReduceMin: reduce, ReduceProd: reduce,
  ReduceL1: reduce, ReduceL2: reduce, ReduceSumSquare: reduce, ReduceLogSumExp: reduce,
  ArgMax: argReduce, ArgMin: argReduce,
  Gemm: gemm, MatMul: matmul, Cast: cast, Expand: expand, Tile: tile, Range: range, Where: where, TopK: topk,
  DepthToSpace: depthToSpace, SpaceToDepth: spaceToDepth, NonZero: nonZero, LayerNormalization: layerNorm,
};
for (const op of UNARY) SHAPE_RULES[op] = op === 'IsNaN' || op === 'IsInf' ? (c) => [{ dtype: 'bool', shape: [...req(c, 0).shape] }] : same;
for (const op of BINARY) SHAPE_RULES[op] = broadcast();
for (const op of COMPARE) SHAPE_RULES[op] = broadcast('bool');

// ---------------------------------------------------------------------------------------------
// recurrent ops and Einsum (engineer newops). Recurrent shapes follow the `layout` attribute:
// 0 = sequence-major (X [T,B,I], Y [T,D,B,H], Y_h [D,B,H]), 1 = batch-major (X [B,T,I],
// Y [B,T,D,H], Y_h [B,D,H]). D is 2 for direction 'bidirectional', else 1.

const recurrent: ShapeRule = (c) => {
  const x = req(c, 0);
  if (x.shape.length !== 3) return c.fail(`${c.node.opType} input must be 3-D, got [${x.shape}]`);
  const w = req(c, 1);
  const dirs = attrString(c.node, 'direction', 'forward') === 'bidirectional' ? 2 : 1;
  const gates = c.node.opType === 'LSTM' ? 4 : c.node.opType === 'GRU' ? 3 : 1;
  const fromW = typeof w.shape[1] === 'number' ? w.shape[1] / gates : c.unknownDim('hidden');
  const h: Dim = c.node.attrs.hidden_size ? attrInt(c.node, 'hidden_size', 0) : fromW;
  const layout = attrInt(c.node, 'layout', 0);
  const [t, b] = (layout ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]]) as [Dim, Dim];
  const y: Dim[] = layout ? [b, t, dirs, h] : [t, dirs, b, h];
  const state: Dim[] = layout ? [b, dirs, h] : [dirs, b, h];
  return c.node.outputs.map((_, i) => ({ dtype: x.dtype, shape: i === 0 ? y : [...state] }));
};

/** Parses an explicit Einsum equation ("bij,bjk->bik"); no ellipsis. */
export function parseEinsum(eq: string): { inputs: string[]; output: string } | undefined {
  const m = /^([a-zA-Z,]+)->([a-zA-Z]*)$/.exec(eq.replace(/\s+/g, ''));
  if (!m) return undefined;
  return { inputs: m[1].split(','), output: m[2] };
}

const einsum: ShapeRule = (c) => {
  const eq = attrString(c.node, 'equation', '');
  const p = parseEinsum(eq);
  if (!p) return c.fail(`Einsum equation '${eq}' (only explicit 'ab,bc->ac' forms, without '...')`);
  const size = new Map<string, Dim>();
  p.inputs.forEach((s, i) => {
    const t = req(c, i);
    if (t.shape.length !== s.length) c.fail(`Einsum operand ${i} '${s}' has rank ${t.shape.length}`);
    [...s].forEach((l, k) => {
      const d = t.shape[k];
      if (!size.has(l) || size.get(l) === 1) size.set(l, d);
    });
  });
  return [{ dtype: req(c, 0).dtype, shape: [...p.output].map((l) => size.get(l) ?? c.fail(`Einsum output letter '${l}' is in no input`)) }];
};

// ScatterND / ScatterElements write into a copy of their data input (Swin's shifted-window mask)
Object.assign(SHAPE_RULES, { LSTM: recurrent, GRU: recurrent, RNN: recurrent, Einsum: einsum, Swish: same, ScatterND: same, ScatterElements: same });
