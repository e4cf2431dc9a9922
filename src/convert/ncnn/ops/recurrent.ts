/**
 * ONNX LSTM / GRU / RNN -> ncnn LSTM / GRU / RNN.
 *
 * ncnn's recurrent layers take a 2-D Mat (h = T steps, w = features) and write (h = T, w = D*H),
 * the forward and reverse halves side by side, which is ONNX's batch-major (layout 1) Y
 * [1, T, D, H] with the batch dropped. Sequence-major graphs (layout 0, PyTorch's default) are
 * turned batch-major before lowering by `ops/sequence-layout.ts`.
 *
 * Weights (ncnn src/layer/lstm.cpp, gru.cpp, rnn.cpp, read for the layout, not copied): per
 * direction, one block of rows per gate, all loaded with ModelBin type 0 (tagged):
 *   weight_xc [D][G*H][I], bias_c [D][rows][H], weight_hc [D][G*H][H].
 * Gate order differs: ONNX LSTM is i,o,f,c and ncnn I,F,O,G; ONNX GRU is z,r,h and ncnn R,U,N.
 * ONNX keeps input and recurrence biases apart (Wb, Rb); ncnn sums them, except GRU's new gate,
 * whose two biases stay apart because the reset gate scales only the recurrent one (that is
 * ONNX's linear_before_reset=1, PyTorch's GRU; linear_before_reset=0 has no ncnn equivalent).
 */
import { attrFloat, attrInt, attrString, type Node } from '../../../onnx/model.js';
import { allNumeric } from '../passes/shape-glue.js';
import { int, type ParamValue } from '../format/param.js';
import type { EmittedLayer, LowerContext } from '../lower.js';
import type { LowerResult, OpEntry } from '../op-table.js';
import { weightDims } from './emit.js';

interface Kind {
  /** ncnn gate k takes ONNX gate block ONNX_OF[k]. */
  onnxOf: number[];
  defaultActs: string[];
  /** Index of the initial_h input; LSTM also has initial_c at +1 and peepholes at 7. */
  states: number;
}

const KINDS: Record<string, Kind> = {
  LSTM: { onnxOf: [0, 2, 1, 3], defaultActs: ['Sigmoid', 'Tanh', 'Tanh'], states: 2 },
  GRU: { onnxOf: [1, 0, 2], defaultActs: ['Sigmoid', 'Tanh'], states: 1 },
  RNN: { onnxOf: [0], defaultActs: ['Tanh'], states: 1 },
};

function attrStrings(n: Node, name: string): string[] | undefined {
  const a = n.attrs[name];
  return a && a.type === 'strings' ? a.value : undefined;
}

const DIRECTIONS: Record<string, number> = { forward: 0, reverse: 1, bidirectional: 2 };

/** Reorders gate blocks of a [D][G*H][K] tensor into ncnn gate order. */
function reorderGates(src: Float32Array, dirs: number, onnxOf: number[], h: number, k: number): Float32Array {
  const g = onnxOf.length;
  const out = new Float32Array(src.length);
  let o = 0;
  for (let d = 0; d < dirs; d++)
    for (const og of onnxOf) {
      const from = (d * g + og) * h * k;
      out.set(src.subarray(from, from + h * k), o);
      o += h * k;
    }
  return out;
}

/** ncnn bias rows per direction from ONNX B [D][2*G*H] (Wb then Rb), zeros when absent. */
function ncnnBias(op: string, B: Float32Array | undefined, dirs: number, kind: Kind, h: number): Float32Array {
  const g = kind.onnxOf.length;
  const rows = op === 'GRU' ? 4 : g;
  const out = new Float32Array(dirs * rows * h);
  if (!B) return out;
  for (let d = 0; d < dirs; d++) {
    const wb = (gate: number, j: number) => B[d * 2 * g * h + gate * h + j];
    const rb = (gate: number, j: number) => B[d * 2 * g * h + (g + gate) * h + j];
    const base = d * rows * h;
    for (let j = 0; j < h; j++) {
      if (op === 'GRU') {
        // rows R, U, WN, BN; ONNX gates z=0, r=1, h=2
        out[base + j] = wb(1, j) + rb(1, j);
        out[base + h + j] = wb(0, j) + rb(0, j);
        out[base + 2 * h + j] = wb(2, j);
        out[base + 3 * h + j] = rb(2, j);
      } else kind.onnxOf.forEach((og, k) => (out[base + k * h + j] = wb(og, j) + rb(og, j)));
    }
  }
  return out;
}

function lowerRecurrent(c: LowerContext): LowerResult {
  const n = c.node;
  const op = n.opType;
  const kind = KINDS[op];
  const direction = DIRECTIONS[attrString(n, 'direction', 'forward')];
  if (direction === undefined) c.fail(`direction '${attrString(n, 'direction', '')}'`);
  const dirs = direction === 2 ? 2 : 1;
  if (c.rank(0) !== 3) c.fail(`X of rank ${c.rank(0)} (ONNX ${op} takes a rank-3 [batch, seq, input] or [seq, batch, input] X)`);
  if (attrInt(n, 'layout', 0) !== 1)
    c.fail('sequence-major input (layout 0) that fdk could not re-lay batch-major: the tensors around it go through ops the re-layout does not know');
  const acts = attrStrings(n, 'activations');
  if (acts && acts.some((a, i) => a.toLowerCase() !== kind.defaultActs[i % kind.defaultActs.length].toLowerCase()))
    c.fail(`activations [${acts}] (ncnn ${op} computes ${kind.defaultActs.join('/')} only)`);
  if (n.attrs.clip) c.fail(`clip=${attrFloat(n, 'clip', 0)} (ncnn ${op} does not clip)`);
  if (op === 'LSTM' && attrInt(n, 'input_forget', 0)) c.fail('input_forget=1 (coupled input and forget gates)');
  if (op === 'GRU' && !attrInt(n, 'linear_before_reset', 0))
    c.fail('linear_before_reset=0: ncnn GRU applies the reset gate after the recurrent product (PyTorch semantics, linear_before_reset=1)');
  if (c.hasInput(4)) {
    const lens = c.constNumbers(4, 'sequence_lens');
    const T = c.dimsOf(c.inputName(0))?.[1];
    if (typeof T !== 'number' || lens.some((l) => l !== T)) c.fail('sequence_lens shorter than the sequence (ncnn runs every step)');
  }
  if (op === 'LSTM' && c.hasInput(7) && c.weight(7, 'P').some((v) => v !== 0)) c.fail('peephole weights P (ncnn LSTM has none)');

  const wd = weightDims(c, 1);
  const g = kind.onnxOf.length;
  const H = wd[1] / g;
  const I = wd[2];
  if (wd[0] !== dirs || !Number.isInteger(H)) c.fail(`W of shape [${wd}] does not fit ${dirs} direction(s) of ${g} gates`);
  const W = reorderGates(c.weight(1, 'W'), dirs, kind.onnxOf, H, I);
  const R = reorderGates(c.weight(2, 'R'), dirs, kind.onnxOf, H, H);
  const B = c.hasInput(3) ? c.weight(3, 'B') : undefined;
  const weights = [W, ncnnBias(op, B, dirs, kind, H), R].map((data) => ({ data, tagged: true }));

  // initial states: absent or zero -> ncnn's zero start; else blobs (h = D, w = H)
  const layers: EmittedLayer[] = [];
  const base = n.name || n.outputs[0];
  const stateBlobs: (string | undefined)[] = [];
  for (let s = 0; s < kind.states; s++) {
    const i = 5 + s;
    if (!c.hasInput(i)) stateBlobs.push(undefined);
    else if (c.isActivation(c.inputName(i))) stateBlobs.push(c.blob(i));
    else {
      const k = c.known(i);
      if (!k || !allNumeric(k)) c.fail(`initial state (input '${c.inputName(i)}') is computed at run time from tensor sizes`, 'runtime-weight');
      const vals = k.els as number[];
      if (vals.length !== dirs * H) c.fail(`initial state of ${vals.length} values (need ${dirs}x${H})`);
      if (vals.every((v) => v === 0)) stateBlobs.push(undefined);
      else {
        const blob = `${base}_state${s}`;
        layers.push({ type: 'MemoryData', params: new Map<number, ParamValue>([[0, int(H)], [1, int(dirs)]]), weights: [{ data: Float32Array.from(vals), tagged: false }], inputs: [], outputs: [blob], suffix: `state${s}` });
        stateBlobs.push(blob);
      }
    }
  }
  const inputs = [c.blob(0)];
  if (stateBlobs.some(Boolean)) {
    for (let s = 0; s < kind.states; s++) {
      let b = stateBlobs[s];
      if (!b) {
        b = `${base}_zero${s}`;
        layers.push({ type: 'MemoryData', params: new Map<number, ParamValue>([[0, int(H)], [1, int(dirs)]]), weights: [{ data: new Float32Array(dirs * H), tagged: false }], inputs: [], outputs: [b], suffix: `zero${s}` });
      }
      inputs.push(b);
    }
  }

  const [y, ...states] = n.outputs;
  const wantStates = states.some(Boolean);
  const seq = `${base}_seq`;
  const tops = [seq, ...(wantStates ? states.slice(0, kind.states).map((s, k) => s || `${base}_unused${k}`) : [])];
  const params = new Map<number, ParamValue>([[0, int(H)], [1, int(W.length)], [2, int(direction)]]);
  layers.push({ type: op, params, weights, inputs, outputs: tops, suffix: 'seq' });
  // ncnn writes (T, D*H); ONNX Y is [1, T, D, H]: a Reshape to (c=T, h=D, w=H)
  if (y) layers.push({ type: 'Reshape', params: new Map<number, ParamValue>([[0, int(H)], [1, int(dirs)], [2, int(-1)]]), inputs: [seq], outputs: [y] });
  return { layers, ranks: [4, 3, 3] };
}

export const RECURRENT_OPS: Record<string, OpEntry> = {
  LSTM: { ncnn: 'LSTM', lower: lowerRecurrent },
  GRU: { ncnn: 'GRU', lower: lowerRecurrent },
  RNN: { ncnn: 'RNN', lower: lowerRecurrent },
};
