/**
 * Convolution-family records: Convolution / ConvolutionDepthWise (2-D, 1-D, 3-D), Deconvolution /
 * DeconvolutionDepthWise (2-D, 1-D, 3-D) and Pooling.
 *
 * All of them count MACs the thop way as out × (weight_data_size / num_output) (= Cin/group × ∏k
 * for a convolution and for a deconvolution alike), plus one per output for the bias.
 */
import { layer, raw, tagged, vol, COST, type CostInput, type Dims, type LayerRecord, type ParamDefault, type Params, type WeightSpec } from './types.js';

/** onnx-tool cost of a fused activation_type (1 relu, 2 leaky, 3 clip, 4 sigmoid, 5 mish, 6 hardswish). */
export const FUSED_ACTIVATION_COST: Record<number, number> = {
  1: COST.CMP, 2: COST.MUL + COST.CMP, 3: 2 * COST.CMP, 4: COST.EXP, 5: COST.EXP + COST.LOG, 6: 2 * COST.MUL + COST.ADD + 2 * COST.CMP,
};

/** Output size of a convolution / pooling window along one axis (-233 / -234 = SAME padding). */
export function windowOut(inp: number, k: number, dilation: number, stride: number, padBefore: number, padAfter: number): number {
  if (padBefore === -233 || padBefore === -234) return Math.ceil(inp / stride);
  return Math.floor((inp + padBefore + padAfter - (dilation * (k - 1) + 1)) / stride) + 1;
}

function deconvOut(inp: number, k: number, dilation: number, stride: number, padBefore: number, padAfter: number, outPad: number, fixed: number): number {
  const full = (inp - 1) * stride + dilation * (k - 1) + 1 + outPad;
  // output_w/h > 0 asks ncnn to crop the full output to that size (pads then only place it)
  return fixed > 0 ? fixed : full - padBefore - padAfter;
}

const COMMON: [number, string, ParamDefault][] = [
  [0, 'num_output', 0], [1, 'kernel_w', 0], [2, 'dilation_w', 1], [3, 'stride_w', 1], [4, 'pad_left', 0],
  [5, 'bias_term', 0], [6, 'weight_data_size', 0], [9, 'activation_type', 0], [10, 'activation_params', []],
];
const HW: [number, string, ParamDefault][] = [
  [11, 'kernel_h', 'kernel_w'], [12, 'dilation_h', 'dilation_w'], [13, 'stride_h', 'stride_w'],
  [14, 'pad_top', 'pad_left'], [15, 'pad_right', 'pad_left'], [16, 'pad_bottom', 'pad_top'],
];
const D: [number, string, ParamDefault][] = [[17, 'pad_behind', 'pad_front'], [21, 'kernel_d', 'kernel_w'], [22, 'dilation_d', 'dilation_w'], [23, 'stride_d', 'stride_w'], [24, 'pad_front', 'pad_left']];

/** Convolution weights: none with dynamic_weight (they come as blobs), else weights (+ bias, + int8 scales). */
function convWeights(int8ScaleCount?: (p: Params) => number) {
  return (p: Params): WeightSpec[] => {
    if (p.numIfAny('dynamic_weight', 0)) return [];
    const out = [tagged('weight_data', p.num('weight_data_size'))];
    if (p.num('bias_term')) out.push(raw('bias_data', p.num('num_output')));
    const int8 = int8ScaleCount ? p.num('int8_scale_term') : 0;
    if (int8 && int8ScaleCount) {
      out.push(raw('weight_data_int8_scales', int8ScaleCount(p)), raw('bottom_blob_int8_scales', 1));
      if (int8 > 100) out.push(raw('top_blob_int8_scales', 1));
    }
    return out;
  };
}

function convCost(c: CostInput): { macs: number; params: number } {
  const { p, outs, thop } = c;
  const out = outs[0] ? vol(outs[0]) : 0;
  const n = Math.max(1, p.num('num_output'));
  const wds = p.num('weight_data_size');
  const bias = p.num('bias_term') ? out : 0;
  const act = thop ? 0 : out * (FUSED_ACTIVATION_COST[p.num('activation_type')] ?? 0);
  return { macs: out * (wds / n) + bias + act, params: wds + (p.num('bias_term') ? n : 0) };
}

// --- 2-D
function conv2dShape(p: Params, ins: Dims[]): Dims[] {
  const x = ins[0];
  // ncnn runs a 1x1 convolution on a flattened (1-D) blob as an InnerProduct
  if (x.length === 1) return [[p.num('num_output')]];
  const [h, w] = x.slice(-2);
  return [[p.num('num_output'), windowOut(h, p.num('kernel_h'), p.num('dilation_h'), p.num('stride_h'), p.num('pad_top'), p.num('pad_bottom')), windowOut(w, p.num('kernel_w'), p.num('dilation_w'), p.num('stride_w'), p.num('pad_left'), p.num('pad_right'))]];
}
function deconv2dShape(p: Params, ins: Dims[]): Dims[] {
  const [h, w] = ins[0].slice(-2);
  return [[
    p.num('num_output'),
    deconvOut(h, p.num('kernel_h'), p.num('dilation_h'), p.num('stride_h'), p.num('pad_top'), p.num('pad_bottom'), p.num('output_pad_bottom'), p.num('output_h')),
    deconvOut(w, p.num('kernel_w'), p.num('dilation_w'), p.num('stride_w'), p.num('pad_left'), p.num('pad_right'), p.num('output_pad_right'), p.num('output_w')),
  ]];
}
// --- 1-D: input (h=channels, w=length)
function conv1dShape(p: Params, ins: Dims[]): Dims[] {
  const w = ins[0][ins[0].length - 1];
  return [[p.num('num_output'), windowOut(w, p.num('kernel_w'), p.num('dilation_w'), p.num('stride_w'), p.num('pad_left'), p.num('pad_right'))]];
}
function deconv1dShape(p: Params, ins: Dims[]): Dims[] {
  const w = ins[0][ins[0].length - 1];
  return [[p.num('num_output'), deconvOut(w, p.num('kernel_w'), p.num('dilation_w'), p.num('stride_w'), p.num('pad_left'), p.num('pad_right'), p.num('output_pad_right'), p.num('output_w'))]];
}
// --- 3-D: input (c,d,h,w)
function conv3dShape(p: Params, ins: Dims[]): Dims[] {
  const [, d, h, w] = ins[0];
  return [[
    p.num('num_output'),
    windowOut(d, p.num('kernel_d'), p.num('dilation_d'), p.num('stride_d'), p.num('pad_front'), p.num('pad_behind')),
    windowOut(h, p.num('kernel_h'), p.num('dilation_h'), p.num('stride_h'), p.num('pad_top'), p.num('pad_bottom')),
    windowOut(w, p.num('kernel_w'), p.num('dilation_w'), p.num('stride_w'), p.num('pad_left'), p.num('pad_right')),
  ]];
}
function deconv3dShape(p: Params, ins: Dims[]): Dims[] {
  const [, d, h, w] = ins[0];
  return [[
    p.num('num_output'),
    deconvOut(d, p.num('kernel_d'), p.num('dilation_d'), p.num('stride_d'), p.num('pad_front'), p.num('pad_behind'), p.num('output_pad_behind'), p.num('output_d')),
    deconvOut(h, p.num('kernel_h'), p.num('dilation_h'), p.num('stride_h'), p.num('pad_top'), p.num('pad_bottom'), p.num('output_pad_bottom'), p.num('output_h')),
    deconvOut(w, p.num('kernel_w'), p.num('dilation_w'), p.num('stride_w'), p.num('pad_left'), p.num('pad_right'), p.num('output_pad_right'), p.num('output_w')),
  ]];
}

const host = { fusionHost: { biasParam: 'bias_term' } };
const INT8: [number, string, ParamDefault][] = [[8, 'int8_scale_term', 0]];
const PAD_VALUE: [number, string, ParamDefault][] = [[18, 'pad_value', 0]];
const DECONV_OUT: [number, string, ParamDefault][] = [[18, 'output_pad_right', 0], [19, 'output_pad_bottom', 'output_pad_right'], [20, 'output_w', 0], [21, 'output_h', 'output_w']];
const GROUP: [number, string, ParamDefault][] = [[7, 'group', 1]];

export const CONV_LAYERS: LayerRecord[] = [
  layer('Convolution', [...COMMON, ...HW, ...INT8, ...PAD_VALUE, [19, 'dynamic_weight', 0]], {
    weights: convWeights((p) => p.num('num_output')), shape: conv2dShape, cost: convCost, ...host,
  }),
  layer('ConvolutionDepthWise', [...COMMON, ...HW, ...GROUP, ...INT8, ...PAD_VALUE, [19, 'dynamic_weight', 0]], {
    weights: convWeights((p) => p.num('group')), shape: conv2dShape, cost: convCost, ...host,
  }),
  layer('Convolution1D', [...COMMON, [15, 'pad_right', 'pad_left'], ...PAD_VALUE, [19, 'dynamic_weight', 0]], { weights: convWeights(), shape: conv1dShape, cost: convCost }),
  layer('ConvolutionDepthWise1D', [...COMMON, [15, 'pad_right', 'pad_left'], ...GROUP, ...PAD_VALUE, [19, 'dynamic_weight', 0]], { weights: convWeights(), shape: conv1dShape, cost: convCost }),
  layer('Convolution3D', [...COMMON, ...HW, ...D, ...PAD_VALUE], { weights: convWeights(), shape: conv3dShape, cost: convCost }),
  layer('ConvolutionDepthWise3D', [...COMMON, ...HW, ...D, ...GROUP, ...PAD_VALUE], { weights: convWeights(), shape: conv3dShape, cost: convCost }),
  layer('Deconvolution', [...COMMON, ...HW, ...DECONV_OUT, [28, 'dynamic_weight', 0]], { weights: convWeights(), shape: deconv2dShape, cost: convCost, ...host }),
  layer('DeconvolutionDepthWise', [...COMMON, ...HW, ...GROUP, ...DECONV_OUT, [28, 'dynamic_weight', 0]], { weights: convWeights(), shape: deconv2dShape, cost: convCost, ...host }),
  layer('Deconvolution1D', [...COMMON, [15, 'pad_right', 'pad_left'], [18, 'output_pad_right', 0], [20, 'output_w', 0], [28, 'dynamic_weight', 0]], { weights: convWeights(), shape: deconv1dShape, cost: convCost }),
  layer('DeconvolutionDepthWise1D', [...COMMON, [15, 'pad_right', 'pad_left'], ...GROUP, [18, 'output_pad_right', 0], [20, 'output_w', 0], [28, 'dynamic_weight', 0]], { weights: convWeights(), shape: deconv1dShape, cost: convCost }),
  layer('Deconvolution3D', [...COMMON, ...HW, ...D, [18, 'output_pad_right', 0], [19, 'output_pad_bottom', 'output_pad_right'], [20, 'output_pad_behind', 'output_pad_right'], [25, 'output_w', 0], [26, 'output_h', 'output_w'], [27, 'output_d', 'output_w']], { weights: convWeights(), shape: deconv3dShape, cost: convCost }),
  layer('DeconvolutionDepthWise3D', [...COMMON, ...HW, ...D, ...GROUP, [18, 'output_pad_right', 0], [19, 'output_pad_bottom', 'output_pad_right'], [20, 'output_pad_behind', 'output_pad_right'], [25, 'output_w', 0], [26, 'output_h', 'output_w'], [27, 'output_d', 'output_w']], { weights: convWeights(), shape: deconv3dShape, cost: convCost }),
  // inputs: x, offset (2·kh·kw, outh, outw) and optionally mask (kh·kw, outh, outw)
  layer('DeformableConv2D', [...COMMON, ...HW], { weights: convWeights(), shape: conv2dShape, cost: convCost }),
  layer('Pooling', [
    [0, 'pooling_type', 0], [1, 'kernel_w', 0], [11, 'kernel_h', 'kernel_w'], [2, 'stride_w', 1], [12, 'stride_h', 'stride_w'],
    [3, 'pad_left', 0], [14, 'pad_right', 'pad_left'], [13, 'pad_top', 'pad_left'], [15, 'pad_bottom', 'pad_top'],
    [4, 'global_pooling', 0], [5, 'pad_mode', 0], [6, 'avgpool_count_include_pad', 0], [7, 'adaptive_pooling', 0], [8, 'out_w', 0], [18, 'out_h', 'out_w'],
  ], {
    shape: (p, ins) => {
      const x = ins[0];
      const [c, h, w] = x;
      if (p.num('global_pooling')) return [[c]];
      if (p.num('adaptive_pooling')) return [[c, p.num('out_h'), p.num('out_w')]];
      const kh = p.num('kernel_h'), kw = p.num('kernel_w'), sh = p.num('stride_h'), sw = p.num('stride_w');
      const mode = p.num('pad_mode');
      if (mode >= 2) return [[c, Math.ceil(h / sh), Math.ceil(w / sw)]];
      const pt = p.num('pad_top'), pb = p.num('pad_bottom'), pl = p.num('pad_left'), pr = p.num('pad_right');
      // pad_mode 0 = "full padding": ncnn grows the bottom/right pad so the last window fits (ceil mode)
      if (mode === 0) return [[c, Math.ceil((h + pt + pb - kh) / sh) + 1, Math.ceil((w + pl + pr - kw) / sw) + 1]];
      return [[c, windowOut(h, kh, 1, sh, pt, pb), windowOut(w, kw, 1, sw, pl, pr)]];
    },
    cost: ({ p, ins, outs, thop }) => {
      const out = vol(outs[0]);
      const avg = p.num('pooling_type') === 1;
      const inV = vol(ins[0]);
      if (p.num('global_pooling') || p.num('adaptive_pooling'))
        return { macs: avg ? (thop ? (inV / Math.max(1, out) + 1) * out : inV * COST.ADD + out * COST.DIV) : thop ? 0 : inV * COST.CMP, params: 0 };
      const k = p.num('kernel_w') * p.num('kernel_h');
      return { macs: thop ? (avg ? (k + 1) * out : 0) : out * k * COST.CMP, params: 0 };
    },
  }),
  // 1-D and 3-D pooling (conv's lowering emits them for MaxPool/AveragePool on rank-3 and rank-5 input):
  // the same parameters per axis, with the d axis at ids 21/22/23(front)/16(behind) and the
  // explicit-pad form only (fdk writes pad_mode 1; full/SAME modes are turned into pads first).
  layer('Pooling1D', [
    [0, 'pooling_type', 0], [1, 'kernel_w', 0], [2, 'stride_w', 1], [3, 'pad_left', 0], [14, 'pad_right', 'pad_left'],
    [4, 'global_pooling', 0], [5, 'pad_mode', 0], [6, 'avgpool_count_include_pad', 0], [7, 'adaptive_pooling', 0], [8, 'out_w', 0],
  ], {
    shape: (p, ins) => {
      const [h, w] = ins[0].length === 1 ? [1, ins[0][0]] : ins[0];
      if (p.num('global_pooling')) return [[h]];
      if (p.num('adaptive_pooling')) return [[h, p.num('out_w')]];
      return [[h, windowOut(w, p.num('kernel_w'), 1, p.num('stride_w'), p.num('pad_left'), p.num('pad_right'))]];
    },
    cost: poolCost(['kernel_w']),
  }),
  layer('Pooling3D', [
    [0, 'pooling_type', 0], [1, 'kernel_w', 0], [11, 'kernel_h', 'kernel_w'], [21, 'kernel_d', 'kernel_w'],
    [2, 'stride_w', 1], [12, 'stride_h', 'stride_w'], [22, 'stride_d', 'stride_w'],
    [3, 'pad_left', 0], [14, 'pad_right', 'pad_left'], [13, 'pad_top', 'pad_left'], [15, 'pad_bottom', 'pad_top'], [23, 'pad_front', 'pad_left'], [16, 'pad_behind', 'pad_front'],
    [4, 'global_pooling', 0], [5, 'pad_mode', 0], [6, 'avgpool_count_include_pad', 0], [7, 'adaptive_pooling', 0], [8, 'out_w', 0], [18, 'out_h', 'out_w'], [28, 'out_d', 'out_w'],
  ], {
    shape: (p, ins) => {
      const [c, d, h, w] = ins[0];
      if (p.num('global_pooling')) return [[c]];
      if (p.num('adaptive_pooling')) return [[c, p.num('out_d'), p.num('out_h'), p.num('out_w')]];
      return [[c, windowOut(d, p.num('kernel_d'), 1, p.num('stride_d'), p.num('pad_front'), p.num('pad_behind')),
        windowOut(h, p.num('kernel_h'), 1, p.num('stride_h'), p.num('pad_top'), p.num('pad_bottom')),
        windowOut(w, p.num('kernel_w'), 1, p.num('stride_w'), p.num('pad_left'), p.num('pad_right'))]];
    },
    cost: poolCost(['kernel_w', 'kernel_h', 'kernel_d']),
  }),
];

/** Windowed pooling cost (1-D / 3-D): thop counts average pooling as (window + 1) per output, max as 0. */
function poolCost(kernels: string[]): (c: CostInput) => { macs: number; params: number } {
  return ({ p, ins, outs, thop }) => {
    const out = vol(outs[0]);
    const avg = p.num('pooling_type') === 1;
    if (p.num('global_pooling') || p.num('adaptive_pooling'))
      return { macs: avg ? (thop ? (vol(ins[0]) / Math.max(1, out) + 1) * out : vol(ins[0]) * COST.ADD + out * COST.DIV) : thop ? 0 : vol(ins[0]) * COST.CMP, params: 0 };
    const k = kernels.reduce((a, name) => a * p.num(name), 1);
    return { macs: thop ? (avg ? (k + 1) * out : 0) : out * k * COST.CMP, params: 0 };
  };
}
