/**
 * Elementwise records: BinaryOp (with ncnn's own broadcasting), UnaryOp, Eltwise, the activations
 * (the ones a convolution can absorb say so in `activation`), Softmax, Dropout, Noop, Split, Cast.
 */
import { COST, layer, perElement, type Dims, type LayerRecord } from './types.js';

const FLT_MAX = 3.4028234663852886e38;
const TANH = COST.EXP + 2 * COST.ADD + COST.DIV;

/**
 * Output dims of a two-input BinaryOp, by ncnn's rules (src/layer/binaryop.cpp, forward): the
 * operand of lower rank is first given the other's rank —
 *   1-D of size n: along the outermost axis (per row of a 2-D, per channel of a 3-D/4-D) when n
 *     equals the other's outermost size, otherwise along w;
 *   2-D (h,w) → (c=h, h=w, w=1) in 3-D, (c=h, d=w, 1, 1) in 4-D; 3-D (c,h,w) → (c, d=h, h=w, w=1) —
 * then every axis is the larger of the two, which must be equal or 1. So a [192] blob against
 * a (192,20,20) blob is a per-channel operand, not numpy's trailing-axis broadcast.
 */
export function binaryOpDims(a: Dims, b: Dims): Dims {
  const rank = Math.max(a.length, b.length);
  const A = toRank(a, b, rank), B = toRank(b, a, rank);
  return A.map((d, i) => {
    const e = B[i];
    if (d !== e && d !== 1 && e !== 1) throw new Error(`BinaryOp operands (${a.join(',')}) and (${b.join(',')}) do not broadcast by ncnn's rules (as (${A.join(',')}) and (${B.join(',')}))`);
    return Math.max(d, e);
  });
}

function toRank(x: Dims, other: Dims, rank: number): Dims {
  if (x.length === rank) return x;
  const ones = (n: number) => new Array<number>(n).fill(1);
  if (x.length === 1) return x[0] === other[0] ? [x[0], ...ones(rank - 1)] : [...ones(rank - 1), x[0]];
  return [...x, ...ones(rank - x.length)];
}

/** onnx-tool units per output element, by BinaryOp op_type (add sub mul div max min pow rsub rdiv rpow). */
const BINARY_COST = [COST.ADD, COST.ADD, COST.MUL, COST.DIV, COST.CMP, COST.CMP, COST.EXP, COST.ADD, COST.DIV, COST.EXP];
const UNARY_COST: Record<number, number> = {
  0: COST.CMP, 1: COST.CMP, 2: COST.CMP, 3: COST.ADD, 4: COST.MUL, 5: COST.SQRT, 6: COST.SQRT + COST.DIV, 7: COST.EXP, 8: COST.LOG,
  9: COST.SINCOS, 10: COST.SINCOS, 15: COST.DIV, 16: TANH,
};

/** A one-in one-out layer with no weights and the given onnx-tool cost per element. */
const act = (type: string, units: number, params: [number, string, number][] = [], extra: Partial<LayerRecord> = {}): LayerRecord =>
  layer(type, params, { cost: perElement(units), ...extra });

export const ELEMENTWISE_LAYERS: LayerRecord[] = [
  layer('BinaryOp', [[0, 'op_type', 0], [1, 'with_scalar', 0], [2, 'b', 0]], {
    shape: (p, ins) => [ins.length >= 2 && !p.num('with_scalar') ? binaryOpDims(ins[0], ins[1]) : [...ins[0]]],
    cost: (c) => perElement(BINARY_COST[c.p.num('op_type')] ?? 1)(c),
  }),
  layer('UnaryOp', [[0, 'op_type', 0]], { cost: (c) => perElement(UNARY_COST[c.p.num('op_type')] ?? 1)(c) }),
  layer('Eltwise', [[0, 'op_type', 0], [1, 'coeffs', []]], { cost: (c) => perElement(COST.ADD * Math.max(1, c.ins.length - 1))(c) }),
  act('ReLU', COST.CMP, [[0, 'slope', 0]], {
    cost: (c) => perElement(c.p.num('slope') ? COST.MUL + COST.CMP : COST.CMP)(c),
    activation: (p) => (p.num('slope') === 0 ? [1, []] : [2, [p.num('slope')]]),
  }),
  act('Clip', 2 * COST.CMP, [[0, 'min', -FLT_MAX], [1, 'max', FLT_MAX]], { activation: (p) => [3, [p.num('min'), p.num('max')]] }),
  act('Sigmoid', COST.EXP, [], { activation: () => [4, []] }),
  act('Mish', COST.EXP + COST.LOG, [], { activation: () => [5, []] }),
  act('HardSwish', 2 * COST.MUL + COST.ADD + 2 * COST.CMP, [[0, 'alpha', 0.2], [1, 'beta', 0.5]], { activation: (p) => [6, [p.num('alpha'), p.num('beta')]] }),
  act('HardSigmoid', COST.MUL + COST.ADD + 2 * COST.CMP, [[0, 'alpha', 0.2], [1, 'beta', 0.5]]),
  act('Swish', COST.EXP + COST.MUL),
  act('GELU', COST.EXP + 2 * COST.MUL, [[0, 'fast_gelu', 0]]),
  act('Erf', COST.EXP),
  act('TanH', 2 * TANH),
  act('ELU', COST.CMP + COST.EXP + COST.ADD + COST.MUL, [[0, 'alpha', 0.1]]),
  act('SELU', COST.CMP + COST.EXP + COST.ADD + COST.MUL, [[0, 'alpha', 1.67326324], [1, 'lambda', 1.050700987]]),
  act('CELU', COST.CMP + COST.EXP + COST.ADD + COST.MUL, [[0, 'alpha', 1]]),
  act('Softplus', COST.EXP + COST.ADD + COST.LOG),
  act('BNLL', COST.EXP + COST.ADD + COST.LOG),
  act('Exp', COST.EXP, [[0, 'base', -1], [1, 'scale', 1], [2, 'shift', 0]]),
  act('Log', COST.LOG, [[0, 'base', -1], [1, 'scale', 1], [2, 'shift', 0]]),
  act('Power', COST.EXP, [[0, 'power', 1], [1, 'scale', 1], [2, 'shift', 0]]),
  act('AbsVal', COST.CMP),
  act('Threshold', COST.CMP, [[0, 'threshold', 0]]),
  act('Shrink', 2 * COST.CMP, [[0, 'bias', 0], [1, 'lambd', 0.5]]),
  act('Softmax', COST.EXP + COST.DIV, [[0, 'axis', 0], [1, 'fixbug0', 0]]),
  act('CumulativeSum', COST.ADD, [[0, 'axis', 0]]),
  layer('Dropout', [[0, 'scale', 1]]),
  layer('Cast', [[0, 'type_from', 0], [1, 'type_to', 0]]),
  // Split copies its input to every output; Noop passes each input through
  layer('Split', [], { shape: (_p, ins, n) => Array.from({ length: n }, () => [...ins[0]]) }),
  layer('Noop', [], { shape: (_p, ins, n) => Array.from({ length: n }, (_, i) => [...(ins[i] ?? ins[0])]) }),
];
