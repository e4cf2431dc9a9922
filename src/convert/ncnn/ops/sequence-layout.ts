/**
 * Sequence-major -> batch-major re-layout, run before lowering.
 *
 * Also covers the batch-merging views of attention code (nn.MultiheadAttention works on
 * [L, N, E] and views it as [L, N*heads, hd]): a tensor that has lost its unit batch axis gets a
 * virtual one in front (VIRTUAL below), which again does not move a byte.
 *
 * PyTorch exports nn.LSTM/GRU/RNN as ONNX layout 0: X [T, B, I], Y [T, D, B, H], states
 * [D, B, H], with Transposes around them. The ncnn converter drops axis 0 as the batch, which
 * for these tensors is the sequence. With batch 1 a tensor whose unit batch axis sits at position
 * b holds the same bytes as the tensor with that axis moved to the front, so this pass tracks b
 * for every such tensor and rewrites the nodes that touch them to work on the moved form
 * (recurrent ops get layout 1, Transpose perms / Squeeze axes / Reshape targets / Concat and
 * Softmax axes are re-numbered). Nothing is computed differently; graph outputs keep their data
 * and get the batch-major shape. An op it cannot re-number stops the conversion, naming the node.
 */
import type { Attr, Model, Node } from '../../../onnx/model.js';
import { attrInt, attrInts, opsetVersion } from '../../../onnx/model.js';
import { inferShapes, type TensorInfo } from '../../../onnx/shape-inference.js';
import { Tensor } from '../../../onnx/tensor.js';
import { FdkError } from '../../../util/errors.js';
import { nodeLabel } from '../lower.js';
import { scaled, transposed } from '../lowering-helpers.js';

const RECURRENT = new Set(['LSTM', 'GRU', 'RNN']);
const SAME_LAYOUT = new Set(['Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Elu', 'Selu', 'HardSigmoid', 'HardSwish', 'Softplus', 'Mish', 'Clip', 'Dropout', 'Identity', 'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Erf', 'Gelu', 'Cast']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min']);

/** b for a tensor with no unit batch axis of its own: its batch-major form is [1, ...dims]. */
const VIRTUAL = -1;
/** Position of axis a once the unit batch axis at b moves to the front (or is added there). */
const canon = (a: number, b: number) => (b === VIRTUAL ? a + 1 : a === b ? 0 : a < b ? a + 1 : a);

export function relayoutSequenceMajor(model: Model, inputShapes?: Record<string, number[]>): Model {
  const g = model.graph;
  const movesBatch = (n: Node) => n.opType === 'Transpose' && (attrInts(n, 'perm') ?? [1])[0] !== 0;
  // a Reshape to a constant target whose first dim is not the batch (Swin's windows: [1,8,8,7,7,96]
  // -> [64,49,96]) may merge the unit batch axis away; confirmed with the shapes below
  const mayMergeBatch = (n: Node) => n.opType === 'Reshape' && ![0, 1].includes(g.initializers.get(n.inputs[1])?.toNumbers()[0] ?? 1);
  if (!g.nodes.some((n) => (RECURRENT.has(n.opType) && attrInt(n, 'layout', 0) === 0) || movesBatch(n) || mayMergeBatch(n))) return model;
  let infos: Map<string, TensorInfo> | undefined;
  try {
    infos = inferShapes(model, { inputShapes, allowSymbolic: true });
  } catch {
    infos = undefined;
  }
  const opset = opsetVersion(model);
  const dims = (t: string) => infos?.get(t)?.shape;
  const initializers = new Map(g.initializers);
  const bax = new Map<string, number>(); // tensors whose unit batch axis is not axis 0
  const fail = (n: Node, why: string): never => {
    throw new FdkError(`${nodeLabel(n)}: ${why}`, { file: model.path });
  };
  const constInts = (n: Node, i: number): number[] | undefined => {
    const t = initializers.get(n.inputs[i]);
    return t ? t.toNumbers() : undefined;
  };
  const newInts = (base: string, values: number[]) => {
    let name = `${base}_bm`;
    for (let k = 1; initializers.has(name); k++) name = `${base}_bm${k}`;
    initializers.set(name, Tensor.int64(name, [values.length], values));
    return name;
  };
  const newFloats = (base: string, d: number[], values: Float32Array) => {
    let name = `${base}_bm`;
    for (let k = 1; initializers.has(name); k++) name = `${base}_bm${k}`;
    initializers.set(name, Tensor.float32(name, d, values));
    return name;
  };
  const setAttr = (n: Node, name: string, a: Attr) => (n.attrs = { ...n.attrs, [name]: a });
  /** Static output whose first dim is not 1: the batch axis is merged into another (or moved). */
  const mergesBatch = (n: Node) => {
    const od = dims(n.outputs[0]);
    return !!od && od.every((d) => typeof d === 'number') && od[0] !== 1;
  };

  const nodes = g.nodes.flatMap((orig): Node | Node[] => {
    const n: Node = { ...orig, inputs: [...orig.inputs], attrs: { ...orig.attrs } };
    const seqIn = n.inputs.filter((i) => i && bax.has(i));
    const b = seqIn.length ? bax.get(seqIn[0])! : 0;
    const rank = (t: string) => dims(t)?.length ?? fail(n, `rank of '${t}' is unknown`);
    if (RECURRENT.has(n.opType) && attrInt(n, 'layout', 0) === 0) {
      const x = n.inputs[0];
      const xd = dims(x);
      // X [T, 1, I] from a re-laid tensor, or T = 1 where both layouts coincide
      if (bax.get(x) !== 1 && !(xd && xd[0] === 1 && xd[1] === 1)) fail(n, `sequence-major input '${x}' [${xd ?? '?'}] is a graph input or has its batch elsewhere; give the graph a batch-major input`);
      for (const s of n.inputs.slice(5)) if (s && bax.has(s)) fail(n, `initial state '${s}' computed from a sequence-major tensor`);
      setAttr(n, 'layout', { type: 'int', value: 1 });
      n.outputs.forEach((o, k) => o && bax.set(o, k === 0 ? 2 : 1));
      return n;
    }
    // a Transpose moving the batch axis of a batch-major tensor starts a sequence-major region
    const entering = !seqIn.length && dims(n.inputs[0])?.[0] === 1 && (movesBatch(n) || (mayMergeBatch(n) && mergesBatch(n)));
    if (!seqIn.length && !entering) return n;
    if (seqIn.some((i) => bax.get(i) !== b)) fail(n, 'mixes tensors with the batch at different axes');
    const out = n.outputs[0];
    const op = n.opType;
    if (op === 'Transpose') {
      const r = rank(n.inputs[0]);
      const perm = attrInts(n, 'perm') ?? [...Array(r).keys()].reverse();
      if (b === VIRTUAL) {
        setAttr(n, 'perm', { type: 'ints', value: [0, ...perm.map((a) => a + 1)] });
        bax.set(out, VIRTUAL);
      } else {
        const bo = perm.indexOf(b);
        setAttr(n, 'perm', { type: 'ints', value: [perm[bo], ...perm.filter((_, j) => j !== bo)].map((a) => canon(a, b)) });
        if (bo !== 0) bax.set(out, bo);
      }
    } else if (op === 'Squeeze' || op === 'Unsqueeze') {
      const fromInput = n.inputs.length > 1 && n.inputs[1];
      const axes = (fromInput ? constInts(n, 1) : attrInts(n, 'axes')) ?? fail(n, `${op} axes are not constant`);
      const r = rank(n.inputs[0]);
      const outRank = op === 'Squeeze' ? r - axes.length : r + axes.length;
      const norm = axes.map((a) => (a < 0 ? a + (op === 'Squeeze' ? r : outRank) : a));
      let bo: number;
      if (b === VIRTUAL) bo = VIRTUAL;
      else if (op === 'Squeeze') {
        // squeezing the unit batch axis leaves a tensor with a virtual one
        bo = norm.includes(b) ? VIRTUAL : b - norm.filter((a) => a < b).length;
      } else {
        bo = b;
        for (const a of [...norm].sort((x, y) => x - y)) if (a <= bo) bo++;
      }
      const moved = norm.filter((a) => !(op === 'Squeeze' && a === b)).map((a) => canon(a, op === 'Squeeze' ? b : bo));
      if (!moved.length) {
        // only the batch axis was squeezed: same bytes, same batch-major form
        n.opType = 'Identity';
        n.inputs = [n.inputs[0]];
        n.attrs = {};
        bax.set(out, VIRTUAL);
        return n;
      }
      if (fromInput) n.inputs[1] = newInts(n.inputs[1], moved);
      else setAttr(n, 'axes', { type: 'ints', value: moved });
      if (bo !== 0) bax.set(out, bo);
    } else if (op === 'Reshape') {
      const id = dims(n.inputs[0]), od = dims(out);
      if (!id || !od || ![...id, ...od].every((d) => typeof d === 'number')) fail(n, 'Reshape of a sequence-major tensor needs static shapes (give --input)');
      const inD = id as number[], outD = od as number[];
      // dropping any unit axis keeps the bytes: prefer the output's unit axis with as many elements
      // before it as the input's batch axis had, else the first unit axis; none (the batch merged
      // into another dim): the output gets a virtual batch axis
      const before = b === VIRTUAL ? -1 : inD.slice(0, b).reduce((p, q) => p * q, 1);
      let bo = VIRTUAL;
      for (let j = 0, p = 1; j < outD.length; p *= outD[j], j++) if (outD[j] === 1 && p === before) { bo = j; break; }
      if (bo === VIRTUAL) bo = outD.indexOf(1);
      n.inputs[1] = newInts(n.inputs[1], [1, ...outD.filter((_, j) => j !== bo)]);
      if (bo !== 0) bax.set(out, bo);
    } else if (op === 'Softmax' || op === 'LogSoftmax' || op === 'Concat') {
      const r = rank(n.inputs[0]);
      const a0 = attrInt(n, 'axis', op === 'Concat' ? 0 : opset >= 13 ? -1 : 1);
      const a = a0 < 0 ? a0 + r : a0;
      // before opset 13 Softmax flattens the axes from `axis` on: one axis only when it is the last
      if (op !== 'Concat' && opset < 13 && a !== r - 1) fail(n, `${op} (opset ${opset}) over axes ${a}..${r - 1} of a sequence-major tensor`);
      if (op === 'Concat' && n.inputs.some((i) => !bax.has(i))) fail(n, 'concatenates sequence-major with other tensors');
      setAttr(n, 'axis', { type: 'int', value: canon(a, b) });
      bax.set(out, b);
    } else if (SAME_LAYOUT.has(op)) {
      bax.set(out, b);
    } else if (op === 'Gather') {
      const r = rank(n.inputs[0]);
      const idx = constInts(n, 1);
      const idxRank = initializers.get(n.inputs[1])?.dims.length;
      if (!idx || idxRank === undefined || idxRank > 1 || n.inputs[1] === seqIn[0]) fail(n, 'Gather of a sequence-major tensor needs constant scalar or 1-D indices');
      const a0 = attrInt(n, 'axis', 0);
      const a = a0 < 0 ? a0 + r : a0;
      if (a === b) fail(n, 'gathers along the batch axis of a sequence-major tensor');
      setAttr(n, 'axis', { type: 'int', value: canon(a, b) });
      const bo = b === VIRTUAL || idxRank === 1 || a > b ? b : b - 1;
      if (bo !== 0) bax.set(out, bo);
    } else if (op === 'Gemm' && b === VIRTUAL && n.inputs[0] === seqIn[0] && initializers.has(n.inputs[1]) && (!n.inputs[2] || initializers.has(n.inputs[2]))) {
      // a Linear on [L, E] viewed rows: as MatMul (+ Add), which works on the batch-major [1, L, E]
      const B = initializers.get(n.inputs[1])!;
      if (attrInt(n, 'transA', 0) || B.dims.length !== 2) fail(n, 'Gemm with transA on a sequence-major tensor');
      const [r0, c0] = B.dims;
      const src = B.toFloat32();
      const alpha = n.attrs.alpha?.type === 'float' ? n.attrs.alpha.value : 1;
      const tB = attrInt(n, 'transB', 0);
      const [K, N] = tB ? [c0, r0] : [r0, c0];
      // MatMul's [K, N] from Gemm's B ([N, K] when transB)
      const w = tB ? transposed(src, N, K, alpha) : scaled(src, alpha);
      const wName = newFloats(`${n.inputs[1]}`, [K, N], w);
      bax.set(out, VIRTUAL);
      if (!n.inputs[2]) return { ...n, opType: 'MatMul', inputs: [n.inputs[0], wName], attrs: {} };
      const beta = n.attrs.beta?.type === 'float' ? n.attrs.beta.value : 1;
      const C = initializers.get(n.inputs[2])!;
      const cName = newFloats(`${n.inputs[2]}`, C.dims, C.toFloat32().map((x) => beta * x));
      const mm = `${out}_mm`;
      bax.set(mm, VIRTUAL);
      return [{ ...n, name: `${n.name}_mm`, opType: 'MatMul', inputs: [n.inputs[0], wName], outputs: [mm], attrs: {} }, { ...n, opType: 'Add', inputs: [mm, cName], attrs: {} }];
    } else if ((BINARY.has(op) || op === 'MatMul') && b === VIRTUAL) {
      const r = rank(out);
      const ins = n.inputs.slice(0, 2);
      // a virtual-batch tensor meets a batch-major one of one more rank: the result is batch-major
      const regular = ins.filter((t) => !bax.has(t) && !initializers.has(t));
      if (regular.length && !(BINARY.has(op) && regular.every((t) => rank(t) === r && ins.every((u) => bax.has(u) ? rank(u) === r - 1 : true)))) fail(n, `mixes a tensor without its batch axis and a batch-major one`);
      if (op === 'MatMul' && ins.some((t) => initializers.has(t) && (rank(t) > 2 || t === ins[0]))) fail(n, 'MatMul of a sequence-major tensor with a constant of rank > 2');
      if (!regular.length) bax.set(out, VIRTUAL);
    } else if (BINARY.has(op) || op === 'MatMul') {
      const r = rank(out);
      for (let i = 0; i < 2; i++) {
        const t = n.inputs[i];
        if (bax.has(t)) {
          if (rank(t) !== r) fail(n, `broadcasts sequence-major '${t}' to a higher rank`);
          continue;
        }
        const tr = rank(t);
        // an operand that does not reach the batch axis broadcasts the same way after the move;
        // a 2-D MatMul weight treats every row alike, so only the contracted last axis matters
        if (op === 'MatMul' ? i === 0 || tr > 2 || b >= r - 1 : tr >= r - b) fail(n, `operand '${t}' reaches the batch axis of a sequence-major tensor`);
      }
      bax.set(out, b);
    } else fail(n, `reads a sequence-major tensor '${seqIn[0]}' (batch at axis ${b}); fdk re-lays only Transpose, Reshape, Squeeze, Unsqueeze, Gather, Concat, Softmax, MatMul, Gemm, elementwise and recurrent ops`);
    return n;
  });
  const outputs = g.outputs.map((o) => {
    const b = bax.get(o.name);
    if (b === undefined || !o.shape) return o;
    if (b === VIRTUAL) return { ...o, shape: [1, ...o.shape] };
    return { ...o, shape: [o.shape[b], ...o.shape.filter((_, j) => j !== b)] };
  });
  return { ...model, graph: { ...g, nodes, outputs, initializers } };
}
