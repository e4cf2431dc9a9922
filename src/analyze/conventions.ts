/**
 * Per-op counting rules for ONNX nodes, one table per convention.
 *
 * thop — the convention behind the seed's published table (thop 0.1.x hooks on PyTorch modules):
 *   only module-backed ops count; Conv = out × (Cin/groups × ∏k) (+ out if bias), BN = 4 × elems,
 *   Linear (Gemm / MatMul with a constant weight) = in_features × out elems, AvgPool = (∏k + 1) ×
 *   out, adaptive/global AvgPool = (∏(in/out) + 1) × out; activations, pooling by max, resize,
 *   softmax, concat, add/mul... (functional in PyTorch) count 0. Params: Conv/ConvTranspose/Gemm/
 *   MatMul weights and biases, PRelu slopes, BN scale+bias (running mean/var are buffers, not params).
 *
 * onnx-tool — its Node.profile rules (onnx_tool/node.py, v1.0): every node counts with a
 *   per-element cost (ADD=MUL=CMP=1, DIV=4, EXP=32, LOG=43, SQRT=24, SIN/COS=39, ...), e.g.
 *   Conv = out × ∏W.shape[1:] (+ out if bias), BN = 31 × out, Relu = out, Softmax = 36 × out.
 *   Params: every initializer any node consumes, counted once, scalars count 0 (its volume(()) = 0).
 */
import { attrInt, attrInts, attrString, type Node } from '../onnx/model.js';
import type { Convention } from './types.js';

export interface CostContext {
  node: Node;
  /** Shapes of the node's inputs (undefined for omitted optional inputs). */
  inShapes: (number[] | undefined)[];
  outShapes: number[][];
  /** True when input i is a graph initializer (a weight). */
  isWeight(i: number): boolean;
}

export interface Cost {
  macs: number;
  /** Indices of the inputs whose elements count as this layer's parameters. */
  paramInputs: number[];
}

const vol = (s: number[] | undefined) => (s ? s.reduce((a, b) => a * b, 1) : 0);
/** onnx-tool's volume(): a scalar (shape ()) has volume 0. */
const otVol = (s: number[] | undefined) => (s && s.length ? s.reduce((a, b) => a * b, 1) : 0);
const present = (c: CostContext) => c.node.inputs.map((n, i) => (n ? i : -1)).filter((i) => i >= 0);
const weightInputs = (c: CostContext, idx: number[]) => idx.filter((i) => c.node.inputs[i] && c.isWeight(i));

// ---------------------------------------------------------------------------------------------
// thop

function thopCost(c: CostContext): Cost {
  const n = c.node;
  const out = vol(c.outShapes[0]);
  switch (n.opType) {
    case 'Conv': {
      const w = c.inShapes[1]!;
      const k = vol(w.slice(1)); // Cin/groups × ∏kernel
      const bias = n.inputs[2] ? out : 0;
      return { macs: out * k + bias, paramInputs: weightInputs(c, [1, 2]) };
    }
    case 'ConvTranspose': {
      const x = c.inShapes[0]!;
      const w = c.inShapes[1]!;
      const group = attrInt(n, 'group', 1);
      const k = (x[1] / group) * vol(w.slice(2));
      return { macs: out * k + (n.inputs[2] ? out : 0), paramInputs: weightInputs(c, [1, 2]) };
    }
    case 'BatchNormalization':
      return { macs: 4 * out, paramInputs: weightInputs(c, [1, 2]) };
    case 'Gemm': {
      if (!c.isWeight(1)) return { macs: 0, paramInputs: [] };
      const b = c.inShapes[1]!;
      const inFeatures = attrInt(n, 'transB', 0) ? b[1] : b[0];
      return { macs: inFeatures * out, paramInputs: weightInputs(c, [1, 2]) };
    }
    case 'MatMul': {
      if (!c.isWeight(1)) return { macs: 0, paramInputs: [] };
      const b = c.inShapes[1]!;
      return { macs: b[b.length - 2] * out, paramInputs: [1] };
    }
    case 'AveragePool': {
      const k = vol(attrInts(n, 'kernel_shape') ?? []);
      return { macs: (k + 1) * out, paramInputs: [] };
    }
    case 'GlobalAveragePool': {
      const x = c.inShapes[0]!;
      const y = c.outShapes[0];
      const k = vol(x.slice(2)) / Math.max(1, vol(y.slice(2)));
      return { macs: (k + 1) * out, paramInputs: [] };
    }
    case 'PRelu':
      return { macs: 0, paramInputs: weightInputs(c, [1]) };
    case 'LSTM':
    case 'GRU':
    case 'RNN':
      return { macs: thopRecurrent(c), paramInputs: weightInputs(c, [1, 2, 3]) };
    default:
      return { macs: 0, paramInputs: [] };
  }
}

/**
 * thop's count_lstm / count_gru / count_rnn (thop/rnn_hooks.py): per step, batch element and
 * direction one cell: LSTM 4 x ((I + H) x H + H [+ 2H bias]) + 4H, GRU 3 x ((I + H) x H + H
 * [+ 2H]) + 4H, RNN (I + H) x H + H [+ 2H]. One ONNX node is one layer of the PyTorch module.
 */
function thopRecurrent(c: CostContext): number {
  const n = c.node;
  const [d, gh, inSize] = c.inShapes[1]!;
  const gates = n.opType === 'LSTM' ? 4 : n.opType === 'GRU' ? 3 : 1;
  const h = gh / gates;
  const bias = n.inputs[3] ? 2 * h : 0;
  const gate = (inSize + h) * h + h + bias;
  const cell = n.opType === 'LSTM' ? 4 * gate + 4 * h : n.opType === 'GRU' ? 3 * gate + 4 * h : gate;
  const x = c.inShapes[0]!;
  const layout = attrInt(n, 'layout', 0);
  const [steps, batch] = layout ? [x[1], x[0]] : [x[0], x[1]];
  return cell * d * steps * batch;
}

// ---------------------------------------------------------------------------------------------
// onnx-tool

const ADD = 1, MUL = 1, CMP = 1, DIV = 4, EXP = 32, LOG = 43, SQRT = 24, SINCOS = 39;
const TANH = EXP + 2 * ADD + DIV;

/** Pointwise ops: [cost per output element, ratio rule]. 'n-1' = max(1, inputs - 1). */
const POINTWISE: Record<string, [number, 'one' | 'n-1' | 'two' | 'n-1-exact']> = {
  Add: [ADD, 'n-1'], Sub: [ADD, 'n-1'], Min: [CMP, 'n-1'], Max: [CMP, 'n-1'], Neg: [CMP, 'n-1'], Div: [DIV, 'n-1'],
  Mod: [ADD, 'n-1'], Mul: [MUL, 'n-1'], Abs: [CMP, 'n-1'], Ceil: [ADD, 'n-1'],
  Exp: [EXP, 'one'], Softmax: [EXP + DIV, 'one'], Softplus: [EXP + ADD + LOG, 'one'], Sigmoid: [EXP, 'one'],
  Log: [LOG, 'n-1'], ImageScaler: [ADD + MUL, 'n-1'], InstanceNormalization: [ADD + MUL + ADD + DIV, 'n-1'],
  LpNormalization: [EXP + ADD, 'n-1'], Sqrt: [SQRT, 'n-1'], Pow: [EXP, 'n-1'], Sin: [SINCOS, 'n-1'], Cos: [SINCOS, 'n-1'],
  Tanh: [TANH, 'two'], LogSoftmax: [EXP + DIV + ADD + LOG, 'n-1'], Sign: [CMP, 'n-1'],
  HardSigmoid: [MUL + ADD + 2 * CMP, 'n-1'], HardSwish: [2 * MUL + ADD + 2 * CMP, 'n-1'], Relu: [CMP, 'n-1'],
  Elu: [CMP + EXP + ADD + MUL, 'n-1'], Gelu: [EXP + 2 * MUL, 'n-1'], PRelu: [CMP + MUL, 'n-1'], LeakyRelu: [MUL + CMP, 'n-1'],
  Sum: [ADD, 'n-1-exact'], Clip: [2 * CMP, 'one'], Reciprocal: [DIV, 'n-1'], Hardmax: [ADD, 'n-1'], CumSum: [ADD, 'one'],
  DequantizeLinear: [MUL + ADD, 'one'], QuantizeLinear: [MUL + ADD, 'one'],
};
const PER_OUTPUT_CMP = new Set(['Less', 'LessOrEqual', 'Round', 'Not', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'GreaterOrEqual', 'NonZero', 'Floor']);

function onnxToolMacs(c: CostContext): number {
  const n = c.node;
  const outShape = c.outShapes[0] ?? [];
  const out = otVol(outShape);
  const nIn = n.inputs.length;
  const pw = POINTWISE[n.opType];
  if (pw) {
    const ratio = pw[1] === 'one' ? 1 : pw[1] === 'two' ? 2 : pw[1] === 'n-1-exact' ? nIn - 1 : Math.max(1, nIn - 1);
    return out * ratio * pw[0];
  }
  if (PER_OUTPUT_CMP.has(n.opType)) return out * CMP;
  switch (n.opType) {
    case 'Conv':
    case 'ConvTranspose': {
      if (nIn !== 2 && nIn !== 3) return 0;
      return out * otVol(c.inShapes[1]!.slice(1)) * MUL + (nIn > 2 ? out * ADD : 0);
    }
    case 'Gemm':
    case 'MatMul': {
      const w = c.inShapes[1]!;
      let macs = out;
      if (n.opType === 'Gemm') macs *= attrInt(n, 'transB', 0) ? w[w.length - 1] : w[w.length - 2];
      else if (w.length > 1) macs *= w[w.length - 2];
      if (nIn === 3) macs += out * ADD;
      return macs;
    }
    case 'BatchNormalization':
      return out * (ADD + SQRT + DIV + ADD + MUL);
    case 'Resize':
    case 'Upsample': {
      const mode = attrString(n, 'mode', 'nearest');
      return mode === 'linear' || mode === 'bilinear' ? out * 4 : mode === 'cubic' ? out * 8 : 0;
    }
    case 'AveragePool':
    case 'MaxPool': {
      const k = attrInts(n, 'kernel_shape') ?? [1];
      return out * CMP * k[0] * (k.length === 2 ? k[1] : 1);
    }
    case 'GlobalAveragePool':
      return otVol(c.inShapes[0]) * ADD + out * DIV;
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceProd':
    case 'ReduceMin':
    case 'ReduceMax':
      return otVol(c.inShapes[0]) * ADD;
    case 'ReduceL2':
      return otVol(c.inShapes[0]) * (ADD + SQRT);
    case 'LRN':
      return out * (DIV + EXP + ADD + attrInt(n, 'size', 1) * MUL);
    case 'LSTM':
    case 'GRU': {
      // onnx_tool LSTMNode / GRUNode.profile (it has no RNN rule): gate GEMMs over all weights,
      // then per hidden element of [batch, seq, H] (directions not counted there)
      const x = c.inShapes[0]!;
      const lstm = n.opType === 'LSTM';
      const layout = attrInt(n, 'layout', 0);
      const [seq, batch] = layout ? [x[1], x[0]] : [x[0], x[1]];
      const w = c.inShapes[1]!;
      const ht = batch * seq * (w[1] / (lstm ? 4 : 3));
      const gemm = (otVol(w) + otVol(c.inShapes[2])) * batch * seq + otVol(c.inShapes[3]) * ADD * batch * seq;
      return lstm
        ? gemm + ht * ADD * 4 + ht * EXP * 3 + ht * TANH * 2 + ht * (ADD + 3 * MUL)
        : gemm + ht * ADD * 3 + ht * EXP * 2 + ht * TANH + ht * (2 * ADD + 3 * MUL);
    }
    case 'Einsum': {
      // onnx_tool EinsumNode.profile: the product of every letter's size
      const eq = (attrString(n, 'equation', '') ?? '').replace(/\s+/g, '');
      const [lhs] = eq.split('->');
      const size = new Map<string, number>();
      lhs.split(',').forEach((t, i) => [...t].forEach((l, k) => size.set(l, c.inShapes[i]?.[k] ?? 1)));
      return [...size.values()].reduce((a, b) => a * b, 1);
    }
    case 'LayerNormalization': {
      const x = [...c.inShapes[0]!];
      let a = attrInt(n, 'axis', -1);
      if (a < 0) a += x.length;
      const v1 = otVol(x);
      x[a] = 1;
      return v1 * (3 * MUL + 4 * ADD) + otVol(x) * (ADD + SQRT + DIV);
    }
    default:
      return 0;
  }
}

function onnxToolCost(c: CostContext): Cost {
  return { macs: onnxToolMacs(c), paramInputs: weightInputs(c, present(c)) };
}

export function nodeCost(convention: Convention, c: CostContext): Cost {
  return convention === 'thop' ? thopCost(c) : onnxToolCost(c);
}

/** Parameter count of an input under a convention (onnx-tool counts scalars as 0). */
export function paramCount(convention: Convention, shape: number[]): number {
  return convention === 'onnx-tool' ? otVol(shape) : vol(shape);
}
