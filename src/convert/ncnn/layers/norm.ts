/**
 * Normalisation and per-channel affine records: BatchNorm, Scale, Bias, PReLU, LayerNorm,
 * GroupNorm, InstanceNorm, Normalize, MVN, LRN, and the int8 Quantize / Dequantize / Requantize.
 * All keep the input's dims; their buffers are raw fp32 (ModelBin type 1).
 */
import { COST, layer, perElement, raw, vol, type LayerRecord, type WeightSpec } from './types.js';

/** gamma + beta of `count` values when `affine` is set. */
const affine = (count: string, flag: string) => (p: import('./types.js').Params): WeightSpec[] =>
  p.num(flag) ? [raw('gamma_data', p.num(count)), raw('beta_data', p.num(count))] : [];

export const NORM_LAYERS: LayerRecord[] = [
  layer('BatchNorm', [[0, 'channels', 0], [1, 'eps', 0]], {
    weights: (p) => ['slope_data', 'mean_data', 'var_data', 'bias_data'].map((n) => raw(n, p.num('channels'))),
    // thop: 4 per element, params = scale + bias (running mean / var are buffers)
    cost: ({ p, outs, thop }) => {
      const out = vol(outs[0]);
      const c = p.num('channels');
      return thop ? { macs: 4 * out, params: 2 * c } : { macs: out * (COST.ADD + COST.SQRT + COST.DIV + COST.ADD + COST.MUL), params: 4 * c };
    },
  }),
  layer('Scale', [[0, 'scale_data_size', 0], [1, 'bias_term', 0]], {
    // scale_data_size -233: the scale is the second input blob
    weights: (p) => {
      const n = p.num('scale_data_size');
      if (n === -233) return [];
      return p.num('bias_term') ? [raw('scale_data', n), raw('bias_data', n)] : [raw('scale_data', n)];
    },
    cost: perElement(COST.MUL + COST.ADD),
  }),
  layer('Bias', [[0, 'bias_data_size', 0]], { weights: (p) => [raw('bias_data', p.num('bias_data_size'))], cost: perElement(COST.ADD) }),
  layer('PReLU', [[0, 'num_slope', 0]], {
    weights: (p) => [raw('slope_data', p.num('num_slope'))],
    cost: ({ outs, thop, weights }) => ({ macs: thop ? 0 : vol(outs[0]) * (COST.CMP + COST.MUL), params: weights }),
  }),
  layer('LayerNorm', [[0, 'affine_size', 0], [1, 'eps', 0.001], [2, 'affine', 1]], { weights: affine('affine_size', 'affine'), cost: perElement(3 * COST.MUL + 4 * COST.ADD) }),
  layer('GroupNorm', [[0, 'group', 1], [1, 'channels', 0], [2, 'eps', 0.001], [3, 'affine', 1]], { weights: affine('channels', 'affine'), cost: perElement(3 * COST.MUL + 4 * COST.ADD) }),
  layer('InstanceNorm', [[0, 'channels', 0], [1, 'eps', 0.001], [2, 'affine', 1], [3, 'activation', 0]], { weights: affine('channels', 'affine'), cost: perElement(2 * COST.ADD + COST.MUL + COST.DIV) }),
  layer('RMSNorm', [[0, 'affine_size', 0], [1, 'eps', 0.001], [2, 'affine', 1]], {
    weights: (p) => (p.num('affine') ? [raw('gamma_data', p.num('affine_size'))] : []),
    cost: perElement(2 * COST.MUL + COST.ADD),
  }),
  layer('Normalize', [[0, 'across_spatial', 0], [1, 'channel_shared', 0], [2, 'eps', 0.0001], [3, 'scale_data_size', 0], [4, 'across_channel', 0], [9, 'eps_mode', 0]], {
    weights: (p) => [raw('scale_data', p.num('scale_data_size'))],
    cost: perElement(COST.EXP + COST.ADD),
  }),
  layer('MVN', [[0, 'normalize_variance', 0], [1, 'across_channels', 0], [2, 'eps', 0.0001]], { cost: perElement(2 * COST.ADD + COST.DIV) }),
  layer('LRN', [[0, 'region_type', 0], [1, 'local_size', 5], [2, 'alpha', 1], [3, 'beta', 0.75], [4, 'bias', 1]], {
    cost: ({ p, outs, thop }) => ({ macs: thop ? 0 : vol(outs[0]) * (COST.DIV + COST.EXP + COST.ADD + p.num('local_size') * COST.MUL), params: 0 }),
  }),
  layer('Quantize', [[0, 'scale_data_size', 1]], { weights: (p) => [raw('scale_data', p.num('scale_data_size'))], cost: perElement(COST.MUL + COST.ADD) }),
  layer('Dequantize', [[0, 'scale_data_size', 1], [1, 'bias_data_size', 0]], {
    weights: (p) => [raw('scale_data', p.num('scale_data_size')), ...(p.num('bias_data_size') ? [raw('bias_data', p.num('bias_data_size'))] : [])],
    cost: perElement(COST.MUL + COST.ADD),
  }),
  layer('Requantize', [[0, 'scale_in_data_size', 1], [1, 'scale_out_data_size', 1], [2, 'bias_data_size', 0], [3, 'activation_type', 0], [4, 'activation_params', []]], {
    weights: (p) => [
      raw('scale_in_data', p.num('scale_in_data_size')), raw('scale_out_data', p.num('scale_out_data_size')),
      ...(p.num('bias_data_size') ? [raw('bias_data', p.num('bias_data_size'))] : []),
    ],
    cost: perElement(2 * COST.MUL + COST.ADD),
  }),
];
