/**
 * Conv / ConvTranspose (1-D, 2-D, 3-D) -> ncnn Convolution* / Deconvolution* (DepthWise when
 * grouped). ConvTranspose's output_shape and auto_pad are resolved into explicit pads plus
 * output padding (ncnn adds output padding at the end, as ONNX does).
 */
import { attrInt, attrInts, attrString } from '../../../onnx/model.js';
import { int, type ParamValue } from '../format/param.js';
import type { LowerContext } from '../lower.js';
import { one, type LowerResult } from '../lowering-helpers.js';

/** Per spatial axis (ONNX order D, H, W): kernel, dilation, stride, pad before, pad after, output pad. */
const AXIS_KEYS: Record<string, number[]> = { D: [21, 22, 23, 24, 17, 20], H: [11, 12, 13, 14, 16, 19], W: [1, 2, 3, 4, 15, 18] };
const AXES: Record<number, string[]> = { 1: ['W'], 2: ['H', 'W'], 3: ['D', 'H', 'W'] };
const SUFFIX: Record<number, string> = { 1: '1D', 2: '', 3: '3D' };

/** ConvTranspose pads (begin, end) and output padding per axis, from pads / auto_pad / output_shape. */
function transposePads(c: LowerContext, nd: number, k: number[], d: number[], s: number[]): { pb: number[]; pe: number[]; op: number[] } {
  const n = c.node;
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  const pads = attrInts(n, 'pads') ?? new Array(2 * nd).fill(0);
  const op = [...(attrInts(n, 'output_padding') ?? new Array(nd).fill(0))];
  const outShape = attrInts(n, 'output_shape');
  let pb = pads.slice(0, nd), pe = pads.slice(nd);
  if (outShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const dims = c.dimsOf(c.inputName(0));
    const spatial = dims?.slice(2);
    const total = k.map((kk, i) => {
      const span = d[i] * (kk - 1) + 1;
      if (!outShape) return op[i] + span - s[i]; // SAME: output = input * stride, whatever the input
      const inSize = spatial?.[i];
      if (typeof inSize !== 'number' || inSize <= 0) c.fail('ConvTranspose output_shape needs static input sizes (fix them with --input NAME:1x3xHxW)');
      return s[i] * (inSize - 1) + op[i] + span - outShape[outShape.length - nd + i];
    });
    pb = total.map((t) => (t < 0 ? 0 : autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : t - Math.floor(t / 2)));
    pe = total.map((t, i) => (t < 0 ? 0 : t - pb[i]));
    // a negative total padding extends the output at the end
    total.forEach((t, i) => t < 0 && (op[i] += -t));
  } else if (autoPad === 'VALID') pb = pe = new Array(nd).fill(0);
  return { pb, pe, op };
}

export function lowerConv(c: LowerContext, transpose: boolean): LowerResult {
  const n = c.node;
  const W = c.weight(1, 'weight');
  const wdims = c.constDims(1);
  const nd = wdims.length - 2;
  if (!AXES[nd]) c.fail(`only 1-D, 2-D and 3-D ${n.opType} is supported (weight rank ${wdims.length})`);
  if (c.rank(0) !== nd + 2) c.fail(`input rank ${c.rank(0)} does not match the ${nd}-D weight`);
  const group = attrInt(n, 'group', 1);
  const hasBias = c.hasInput(2);
  const outCh = transpose ? wdims[1] * group : wdims[0];
  const k = attrInts(n, 'kernel_shape') ?? wdims.slice(2);
  const d = attrInts(n, 'dilations') ?? new Array(nd).fill(1);
  const s = attrInts(n, 'strides') ?? new Array(nd).fill(1);
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  // params in onnx2ncnn's order: num_output, kernels, dilations, strides, pads, then the rest
  const inner = [...AXES[nd]].reverse(); // W first
  const idx = (axis: string) => AXES[nd].indexOf(axis);
  const params: [number, ParamValue][] = [[0, int(outCh)]];
  for (const [slot, values] of [[0, k], [1, d], [2, s]] as [number, number[]][]) for (const a of inner) params.push([AXIS_KEYS[a][slot], int(values[idx(a)])]);
  let outPad: number[] | undefined;
  if (transpose) {
    const t = transposePads(c, nd, k, d, s);
    for (const a of inner) params.push([AXIS_KEYS[a][3], int(t.pb[idx(a)])]);
    for (const a of inner) params.push([AXIS_KEYS[a][4], int(t.pe[idx(a)])]);
    outPad = t.op;
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    params.push([4, int(autoPad === 'SAME_UPPER' ? -233 : -234)]);
  } else {
    const pads = autoPad === 'VALID' ? new Array(2 * nd).fill(0) : attrInts(n, 'pads') ?? new Array(2 * nd).fill(0);
    for (const a of inner) params.push([AXIS_KEYS[a][3], int(pads[idx(a)])]);
    for (const a of inner) params.push([AXIS_KEYS[a][4], int(pads[nd + idx(a)])]);
  }
  params.push([5, int(hasBias ? 1 : 0)], [6, int(W.length)]);
  if (group > 1) params.push([7, int(group)]);
  if (outPad?.some(Boolean)) for (const a of inner) params.push([AXIS_KEYS[a][5], int(outPad[idx(a)])]);
  const type = `${transpose ? 'Deconvolution' : 'Convolution'}${group > 1 ? 'DepthWise' : ''}${SUFFIX[nd]}`;
  let data = W;
  if (transpose) {
    // ONNX ConvTranspose weights are [in, out/g, k...]; ncnn wants [g][out/g][in/g][k...]
    const [cin, coutG] = wdims;
    const ksize = wdims.slice(2).reduce((a, b) => a * b, 1);
    const cinG = cin / group;
    data = new Float32Array(W.length);
    let o = 0;
    for (let g = 0; g < group; g++)
      for (let oc = 0; oc < coutG; oc++)
        for (let ic = 0; ic < cinG; ic++) for (let q = 0; q < ksize; q++) data[o++] = W[((g * cinG + ic) * coutG + oc) * ksize + q];
  }
  const weights = [{ data, tagged: true }];
  if (hasBias) weights.push({ data: c.weight(2, 'bias'), tagged: false });
  return one(type, c, new Map(params), nd + 2, { weights });
}
