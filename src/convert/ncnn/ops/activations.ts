/**
 * Transformer-era elementwise and normalisation ops: Gelu -> GELU, Erf -> Erf,
 * LayerNormalization -> LayerNorm, LogSoftmax -> Softmax + UnaryOp(log), Swish -> Swish.
 *
 * ncnn LayerNorm (src/layer/layernorm.cpp) normalises each row (affine_size = w) or each channel
 * plane (affine_size = w*h of a 3-D/4-D Mat) and loads gamma and beta raw (type 1): an ONNX
 * LayerNormalization over the last one or two axes maps onto it.
 */
import { attrFloat, attrInt, attrString } from '../../../onnx/model.js';
import { float, int } from '../format/param.js';
import type { LowerContext } from '../lower.js';
import type { LowerResult, OpEntry } from '../op-table.js';
import { P, axisOf, single, UNARY_LOG } from './emit.js';

function layerNorm(c: LowerContext): LowerResult {
  const r = c.rank(0);
  let a = attrInt(c.node, 'axis', -1);
  if (a < 0) a += r;
  const normalised = r - a;
  if (a === 0) c.fail('LayerNormalization over the batch axis', 'batch');
  if (normalised > 2 || (normalised === 2 && r < 4)) c.fail(`LayerNormalization over ${normalised} axes of a rank-${r} tensor (ncnn LayerNorm covers a row or a plane of a 3-D/4-D Mat)`);
  if (c.node.outputs.slice(1).some(Boolean)) c.fail('LayerNormalization Mean / InvStdDev outputs');
  if (attrInt(c.node, 'stash_type', 1) !== 1) c.fail('stash_type other than float32');
  const gamma = c.weight(1, 'Scale');
  const size = gamma.length;
  const dims = c.dimsOf(c.inputName(0));
  const want = dims?.slice(a).reduce<number | undefined>((p, d) => (p !== undefined && typeof d === 'number' ? p * d : undefined), 1);
  if (want !== undefined && want !== size) c.fail(`Scale of ${size} values for ${want} normalised elements (broadcast Scale is not supported)`);
  const beta = c.hasInput(2) ? c.weight(2, 'B') : new Float32Array(size);
  if (beta.length !== size) c.fail(`B of ${beta.length} values (need ${size})`);
  return single('LayerNorm', c, P([0, int(size)], [1, float(attrFloat(c.node, 'epsilon', 1e-5))], [2, int(1)]), r, {
    weights: [{ data: gamma, tagged: false }, { data: beta, tagged: false }],
  });
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
  LayerNormalization: { ncnn: 'LayerNorm', lower: layerNorm },
  Gelu: { ncnn: 'GELU', lower: gelu },
  Erf: { ncnn: 'Erf', lower: (c) => single('Erf', c, P(), c.rank(0)) },
  LogSoftmax: { ncnn: 'Softmax / UnaryOp', lower: logSoftmax },
  // x * sigmoid(x), fused by ops/fuse-patterns.ts (ONNX 24's Swish with alpha 1)
  Swish: { ncnn: 'Swish', lower: (c) => (attrFloat(c.node, 'alpha', 1) === 1 ? single('Swish', c, P(), c.rank(0)) : c.fail('Swish alpha other than 1')) },
};
