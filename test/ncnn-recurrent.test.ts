/**
 * LSTM / GRU / RNN, forward, reverse and bidirectional, built in TS the way PyTorch exports them
 * (sequence-major, Transposes around), converted to ncnn and run in real ncnn vs onnxruntime.
 */
import { describe, it, expect } from 'vitest';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import { ortVsNcnn, seeded, expectWithinTolerance } from './newops-helpers.js';

const GATES = { LSTM: 4, GRU: 3, RNN: 1 } as const;
type Op = keyof typeof GATES;

/** One recurrent node with random W, R, B; returns its Y and state outputs. */
function recurrent(b: GraphBuilder, op: Op, x: string, I: number, H: number, direction: string, seed: number, states = 0): string[] {
  const D = direction === 'bidirectional' ? 2 : 1;
  const G = GATES[op];
  const W = b.constFloat(`${op}_W`, [D, G * H, I], seeded(seed, D * G * H * I, 0.5));
  const R = b.constFloat(`${op}_R`, [D, G * H, H], seeded(seed + 1, D * G * H * H, 0.5));
  const B = b.constFloat(`${op}_B`, [D, 2 * G * H], seeded(seed + 2, D * 2 * G * H, 0.5));
  const attrs: Record<string, ReturnType<typeof A.int>> = { hidden_size: A.int(H), direction: A.string(direction) };
  if (op === 'GRU') attrs.linear_before_reset = A.int(1);
  const nOut = 1 + states;
  return b.node(op, [x, W, R, B], { attrs, outputs: nOut });
}

/** batch_first=True: x [1,T,I] -> Transpose -> op -> Transpose/Reshape -> [1,T,D*H]. */
function batchFirst(op: Op, direction: string, T = 7, I = 5, H = 6) {
  const D = direction === 'bidirectional' ? 2 : 1;
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('x', 'float32', [1, T, I]);
  const xt = b.op('Transpose', [x], { perm: A.ints([1, 0, 2]) });
  const [y] = recurrent(b, op, xt, I, H, direction, 11);
  const yt = b.op('Transpose', [y], { perm: A.ints([2, 0, 1, 3]) }); // [1,T,D,H]
  const out = b.op('Reshape', [yt, b.constInt64('shape', [3], [1, T, D * H])]);
  b.addOutput(out, 'y', 'float32', [1, T, D * H]);
  return b;
}

describe('recurrent ops -> ncnn LSTM/GRU/RNN (real ncnn vs onnxruntime)', () => {
  for (const op of ['LSTM', 'GRU', 'RNN'] as Op[])
    for (const direction of ['forward', 'reverse', 'bidirectional'])
      it(`${op} ${direction}, batch_first export`, async () => {
        const p = await ortVsNcnn(batchFirst(op, direction), `${op}-${direction}`, { x: [1, 7, 5] });
        expect(p.layerTypes[op]).toBe(1);
        expectWithinTolerance(p);
      });

  it('CRNN-style: conv features [1,C,W] -> (W,1,C) -> bidirectional LSTM x2 -> Linear, sequence-major output', async () => {
    const b = new GraphBuilder({ opset: 11 });
    const C = 8, W = 9, H = 5, K = 4;
    const x = b.addInput('feat', 'float32', [1, C, W]);
    let s = b.op('Transpose', [x], { perm: A.ints([2, 0, 1]) }); // [W,1,C]
    let inSize = C;
    for (let l = 0; l < 2; l++) {
      const [y] = recurrent(b, 'LSTM', s, inSize, H, 'bidirectional', 20 + l * 5);
      const yt = b.op('Transpose', [y], { perm: A.ints([0, 2, 1, 3]) }); // [W,1,2,H]
      s = b.op('Reshape', [yt, b.constInt64('shape', [3], [W, 1, 2 * H])]);
      inSize = 2 * H;
    }
    const logits = b.op('Add', [b.op('MatMul', [s, b.constFloat('fc_w', [2 * H, K], seeded(3, 2 * H * K))]), b.constFloat('fc_b', [K], seeded(4, K))]);
    b.addOutput(b.op('LogSoftmax', [logits], { axis: A.int(2) }), 'logits', 'float32', [W, 1, K]);
    const p = await ortVsNcnn(b, 'crnn-head', { feat: [1, C, W] });
    expect(p.layerTypes.LSTM).toBe(2);
    expectWithinTolerance(p);
  });

  it('LSTM hidden and cell outputs (Y_h, Y_c) and a unidirectional Squeeze of Y', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const T = 6, I = 4, H = 3;
    const x = b.addInput('x', 'float32', [1, T, I]);
    const xt = b.op('Transpose', [x], { perm: A.ints([1, 0, 2]) });
    const [y, yh, yc] = recurrent(b, 'LSTM', xt, I, H, 'forward', 31, 2);
    const ys = b.op('Squeeze', [y, b.constInt64('axes', [1], [1])]); // [T,1,H]
    b.addOutput(b.op('Transpose', [ys], { perm: A.ints([1, 0, 2]) }), 'y', 'float32', [1, T, H]);
    b.addOutput(yh, 'h', 'float32', [1, 1, H]);
    b.addOutput(yc, 'c', 'float32', [1, 1, H]);
    const p = await ortVsNcnn(b, 'lstm-states', { x: [1, T, I] });
    expectWithinTolerance(p);
    expect(p.param).toMatch(/^LSTM +\S+ +1 3 /m); // the states are graph outputs: kept
  });

  it('Y_h and Y_c named but read by nobody (as torch exports CRNN): the ncnn LSTM has its sequence output only', async () => {
    const b = new GraphBuilder({ opset: 13 });
    const T = 6, I = 4, H = 3;
    const x = b.addInput('x', 'float32', [1, T, I]);
    const xt = b.op('Transpose', [x], { perm: A.ints([1, 0, 2]) });
    const [y] = recurrent(b, 'LSTM', xt, I, H, 'bidirectional', 41, 2);
    const yt = b.op('Transpose', [y], { perm: A.ints([2, 0, 1, 3]) });
    b.addOutput(b.op('Reshape', [yt, b.constInt64('shape', [3], [1, T, 2 * H])]), 'y', 'float32', [1, T, 2 * H]);
    const p = await ortVsNcnn(b, 'lstm-unread-states', { x: [1, T, I] });
    expectWithinTolerance(p);
    expect(p.param).toMatch(/^LSTM +\S+ +1 1 /m);
    const o = await ortVsNcnn(b, 'lstm-unread-states-noopt', { x: [1, T, I] }, 1, { optimize: false });
    expect(o.param).toMatch(/^LSTM +\S+ +1 3 /m); // --no-optimize: as the ONNX node has them
  });
});
