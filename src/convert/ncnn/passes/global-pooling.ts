/**
 * GlobalAveragePool / GlobalMaxPool lower to adaptive 1x1 Pooling, which keeps ONNX's [C, 1, 1]
 * dims. But ncnn's x86/arm Pooling runs adaptive pooling only in the generic layer, on unpacked
 * data: every squeeze-excitation block (MobileNetV3, EfficientNet, RegNet) repacked its whole
 * feature map before pooling it. Global pooling (global_pooling 1) reads the packed map directly
 * and yields a 1-D [C] blob, as pnnx writes it. What reads that blob must then take 1-D input:
 *
 * - when every path from the pooling goes through 1x1 Convolutions (which become InnerProduct, the
 *   same weights), element-wise activations, and ends in a BinaryOp with a [C, H, W] map (ncnn
 *   applies a 1-D [C] operand per channel) or a Flatten, the chain runs on vectors, as pnnx's SE
 *   blocks do;
 * - otherwise (Interp, Concat, a graph output, unknown dims) a Reshape back to [C, 1, 1] follows
 *   the global pooling (C floats; every consumer sees the dims it saw before), like pnnx's
 *   insert_reshape_global_pooling.
 */
import { int, type NcnnLayer, type ParamDict } from '../format/param.js';
import { layerRecord, paramsOf } from '../layers/index.js';
import { blobDims, type Pass } from './graph-util.js';

/** One input, one output, same dims, element by element: a 1-D blob passes through unchanged. */
const ELEMENTWISE = new Set(['ReLU', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Swish', 'Clip', 'TanH', 'Mish', 'ELU', 'GELU', 'UnaryOp']);

/** A Convolution that is a matrix-vector product on a [C, 1, 1] blob: 1x1 kernel, stride 1, no pad, no dilation. */
function pointwise(l: NcnnLayer): boolean {
  if (l.type !== 'Convolution' || l.inputs.length !== 1) return false;
  const p = paramsOf(layerRecord('Convolution')!, l.params);
  return ['kernel_w', 'kernel_h', 'stride_w', 'stride_h', 'dilation_w', 'dilation_h'].every((k) => p.num(k) === 1)
    && ['pad_left', 'pad_right', 'pad_top', 'pad_bottom'].every((k) => p.num(k) === 0) && p.num('int8_scale_term') === 0 && p.num('dynamic_weight') === 0;
}

/** The InnerProduct params of a pointwise Convolution (weights keep their layout: [out][in]). */
function innerProductParams(conv: ParamDict): ParamDict {
  const p = paramsOf(layerRecord('Convolution')!, conv);
  const out: ParamDict = new Map([[0, int(p.num('num_output'))], [1, int(p.num('bias_term'))], [2, int(p.num('weight_data_size'))]]);
  if (p.num('activation_type')) out.set(9, int(p.num('activation_type')));
  const act = conv.get(10);
  if (act) out.set(10, act);
  return out;
}

/**
 * The pointwise Convolutions on the vector path from `blob`, or undefined when some reader of the
 * path needs [C, 1, 1] dims.
 */
function vectorPath(blob: string, layers: NcnnLayer[], outputs: Set<string>, dims: Map<string, number[]>): NcnnLayer[] | undefined {
  const convs: NcnnLayer[] = [];
  const todo = [blob];
  while (todo.length) {
    const b = todo.pop()!;
    if (outputs.has(b)) return undefined;
    const channels = dims.get(b)?.[0];
    for (const l of layers.filter((x) => x.inputs.includes(b))) {
      if (pointwise(l)) {
        convs.push(l);
        todo.push(l.outputs[0]);
      } else if (ELEMENTWISE.has(l.type) && l.inputs.length === 1 && l.outputs.length === 1) {
        todo.push(l.outputs[0]);
      } else if (l.type === 'BinaryOp' && l.inputs.length === 2) {
        // the other operand must be the [C, H, W] map the vector scales (per channel in ncnn)
        const other = dims.get(l.inputs[l.inputs[0] === b ? 1 : 0]);
        if (l.inputs[0] === l.inputs[1] || !other || other.length !== 3 || other[0] !== channels) return undefined;
      } else if (l.type !== 'Flatten') return undefined;
    }
  }
  return convs;
}

export const globalPooling: Pass = (net, { outputs }) => {
  const changes: string[] = [];
  const record = layerRecord('Pooling')!;
  const adaptive = (l: NcnnLayer) => {
    if (l.type !== 'Pooling' || l.outputs.length !== 1) return false;
    const p = paramsOf(record, l.params);
    return p.num('adaptive_pooling') === 1 && p.num('out_w') === 1 && p.num('out_h') === 1 && p.num('global_pooling') === 0;
  };
  if (!net.layers.some(adaptive)) return { changes };
  const dims = blobDims(net.layers);
  const out: NcnnLayer[] = [];
  for (const l of net.layers) {
    out.push(l);
    if (!adaptive(l)) continue;
    const type = paramsOf(record, l.params).num('pooling_type');
    l.params = new Map([[0, int(type)], [4, int(1)]]);
    const convs = dims && vectorPath(l.outputs[0], net.layers, outputs, dims);
    if (convs) {
      for (const c of convs) {
        c.type = 'InnerProduct';
        c.params = innerProductParams(c.params);
      }
      changes.push(`${l.name}: global pooling${convs.length ? `, ${convs.map((c) => c.name).join(', ')} -> InnerProduct` : ''}`);
      continue;
    }
    // w=1, h=1, c=-1: the channel count is whatever the pooling read
    const y = l.outputs[0];
    l.outputs = [`${y}_global`];
    out.push({ type: 'Reshape', name: `${l.name}_keepdims`, inputs: l.outputs, outputs: [y], params: new Map([[0, int(1)], [1, int(1)], [2, int(-1)]]), weights: [] });
    changes.push(`${l.name}: global pooling + Reshape to [C,1,1]`);
  }
  net.layers = out;
  return { changes };
};
