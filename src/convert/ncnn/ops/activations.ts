/**
 * Transformer-era elementwise and normalisation ops: Gelu -> GELU, Erf -> Erf,
 * LayerNormalization -> LayerNorm, LogSoftmax -> Softmax + UnaryOp(log), Swish -> Swish.
 *
 * ncnn LayerNorm (src/layer/layernorm.cpp) normalises each row (affine_size = w) or each channel
 * plane (affine_size = w*h of a 3-D/4-D Mat) and loads gamma and beta raw (type 1): an ONNX
 * LayerNormalization over the last one or two axes maps onto it; other axes and the Mean /
 * InvStdDev outputs go through a rows view (layerNormRows).
 */
import { attrFloat, attrInt, attrString } from '../../../onnx/model.js';
import { float, int, ints, type ParamValue } from '../format/param.js';
import { reshapeParams } from '../passes/batch-axis.js';
import type { EmittedLayer, LowerContext } from '../lower.js';
import type { LowerResult, OpEntry } from '../op-table.js';
import { P, axisOf, single, UNARY_LOG } from './emit.js';

/** ncnn op_type numbers used by the decomposed statistics. */
const BINARY_SUB = 1;
const BINARY_ADD = 0;
const UNARY_SQUARE = 4;
const UNARY_RSQRT = 6;
const REDUCTION_MEAN = 3;

const reshapeTo = (dims: number[], input: string, output: string, suffix: string): EmittedLayer => {
  const pm = reshapeParams([1, ...dims], dims.length + 1);
  return { type: 'Reshape', params: P(...[...pm.entries()].sort((x, y) => x[0] - y[0]).map(([k, v]) => [k, int(v)] as [number, ParamValue])), inputs: [input], outputs: [output], suffix };
};

function layerNorm(c: LowerContext): LowerResult {
  const r = c.rank(0);
  let a = attrInt(c.node, 'axis', -1);
  if (a < 0) a += r;
  const normalised = r - a;
  // ncnn has no batch axis, so statistics across it (axis 0) cannot be expressed: the conformance
  // harness runs such tests with a unit batch axis added, which turns axis 0 into axis 1
  if (a === 0) c.fail('LayerNormalization over the batch axis', 'batch');
  if (attrInt(c.node, 'stash_type', 1) !== 1) c.fail('stash_type other than float32');
  const gamma = c.weight(1, 'Scale');
  const size = gamma.length;
  const dims = c.dimsOf(c.inputName(0));
  const want = dims?.slice(a).reduce<number | undefined>((p, d) => (p !== undefined && typeof d === 'number' ? p * d : undefined), 1);
  if (want !== undefined && want !== size) c.fail(`Scale of ${size} values for ${want} normalised elements (broadcast Scale is not supported)`);
  const beta = c.hasInput(2) ? c.weight(2, 'B') : new Float32Array(size);
  if (beta.length !== size) c.fail(`B of ${beta.length} values (need ${size})`);
  const eps = attrFloat(c.node, 'epsilon', 1e-5);
  const lnParams = P([0, int(size)], [1, float(eps)], [2, int(1)]);
  const weights = [{ data: gamma, tagged: false }, { data: beta, tagged: false }];
  const [, meanOut, invOut] = c.node.outputs;
  // a row (affine_size = w) or a plane (w*h of a 3-D/4-D Mat) is one ncnn LayerNorm as it is
  if (!meanOut && !invOut && (normalised === 1 || (normalised === 2 && r >= 4))) return single('LayerNorm', c, lnParams, r, { weights });
  return layerNormRows(c, a, dims, size, lnParams, weights, eps);
}

/**
 * LayerNormalization over any trailing axes, and its Mean / InvStdDev outputs: the input is viewed
 * as rows [outer, N] (N = the normalised elements), ncnn LayerNorm normalises each row, and the
 * statistics are recomputed from the same rows (mean; mean of squared deviations; + eps; rsqrt),
 * each viewed back to its ONNX shape ([outer dims, 1, ..., 1] for the statistics).
 */
function layerNormRows(c: LowerContext, a: number, dims: (number | string)[] | undefined, size: number, lnParams: Map<number, ParamValue>, weights: EmittedLayer['weights'], eps: number): LowerResult {
  const r = c.rank(0);
  if (!dims || !dims.every((d): d is number => typeof d === 'number')) c.fail('LayerNormalization over several axes or with Mean / InvStdDev outputs needs a static input shape');
  const outer = dims.slice(1, a).reduce((p, d) => p * d, 1);
  const rows = a > 1 ? [outer, size] : [size];
  const statDims = [...dims.slice(0, a), ...new Array<number>(r - a).fill(1)];
  const [y, meanOut, invOut] = c.node.outputs;
  const base = c.node.name || y || meanOut || invOut;
  const b = (s: string) => `${base}_${s}`;
  const layers: EmittedLayer[] = [reshapeTo(rows, c.blob(0), b('rows'), 'rows')];
  if (y) layers.push({ type: 'LayerNorm', params: lnParams, inputs: [b('rows')], outputs: [b('normed')], suffix: 'normed', weights }, reshapeTo(dims.slice(1), b('normed'), y, 'out'));
  if (meanOut || invOut) {
    const lastAxis = rows.length - 1;
    const mean = (input: string, output: string): EmittedLayer => ({
      type: 'Reduction', params: P([0, int(REDUCTION_MEAN)], [1, int(0)], [3, ints([lastAxis])], [4, int(1)], [5, int(1)]), inputs: [input], outputs: [output], suffix: output.slice(base.length + 1),
    });
    layers.push(mean(b('rows'), b('mean')));
    if (meanOut) layers.push(reshapeTo(statDims.slice(1), b('mean'), meanOut, 'mean_out'));
    if (invOut) {
      layers.push(
        { type: 'BinaryOp', params: P([0, int(BINARY_SUB)]), inputs: [b('rows'), b('mean')], outputs: [b('dev')], suffix: 'dev' },
        { type: 'UnaryOp', params: P([0, int(UNARY_SQUARE)]), inputs: [b('dev')], outputs: [b('sq')], suffix: 'sq' },
        mean(b('sq'), b('var')),
        { type: 'BinaryOp', params: P([0, int(BINARY_ADD)], [1, int(1)], [2, float(eps)]), inputs: [b('var')], outputs: [b('var_eps')], suffix: 'var_eps' },
        { type: 'UnaryOp', params: P([0, int(UNARY_RSQRT)]), inputs: [b('var_eps')], outputs: [b('inv')], suffix: 'inv' },
        reshapeTo(statDims.slice(1), b('inv'), invOut, 'inv_out'),
      );
    }
  }
  return { layers, ranks: [r, r, r] };
}

function gelu(c: LowerContext): LowerResult {
  const approx = attrString(c.node, 'approximate', 'none');
  if (approx !== 'none' && approx !== 'tanh') c.fail(`Gelu approximate '${approx}'`);
  return single('GELU', c, P([0, int(approx === 'tanh' ? 1 : 0)]), c.rank(0));
}

function logSoftmax(c: LowerContext): LowerResult {
  const r = c.rank(0);
  let a = attrInt(c.node, 'axis', c.opset >= 13 ? -1 : 1);
  if (a < 0) a += r;
  if (c.opset < 13 && a !== r - 1) {
    const rest = c.dimsOf(c.inputName(0))?.slice(a + 1);
    if (!rest || !rest.every((d) => d === 1)) c.fail(`LogSoftmax (opset ${c.opset}) over axes ${a}..${r - 1} is not a single-axis softmax`);
  }
  const sm = `${c.node.outputs[0]}_softmax`;
  return {
    layers: [
      { type: 'Softmax', params: P([0, int(axisOf(c, a, r))], [1, int(1)]), inputs: [c.blob(0)], outputs: [sm], suffix: 'softmax' },
      { type: 'UnaryOp', params: P([0, int(UNARY_LOG)]), inputs: [sm] },
    ],
    ranks: [r],
  };
}

export const ACTIVATION_OPS: Record<string, OpEntry> = {
  LayerNormalization: { ncnn: 'LayerNorm / Reshape / Reduction / BinaryOp / UnaryOp', lower: layerNorm },
  Gelu: { ncnn: 'GELU', lower: gelu },
  Erf: { ncnn: 'Erf', lower: (c) => single('Erf', c, P(), c.rank(0)) },
  LogSoftmax: { ncnn: 'Softmax / UnaryOp', lower: logSoftmax },
  // x * sigmoid(x), fused by ops/fuse-patterns.ts (ONNX 24's Swish with alpha 1)
  Swish: { ncnn: 'Swish', lower: (c) => (attrFloat(c.node, 'alpha', 1) === 1 ? single('Swish', c, P(), c.rank(0)) : c.fail('Swish alpha other than 1')) },
};
