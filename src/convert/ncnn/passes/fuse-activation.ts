/**
 * Activation fusion (as ncnnoptimize's fuse_*_activation): a layer whose record is a fusion host
 * (Convolution, ConvolutionDepthWise, Deconvolution(DepthWise), InnerProduct) and whose only
 * consumer is an activation with a record `activation` rule (ReLU / Clip / Sigmoid / Mish /
 * HardSwish) takes it over as activation_type (9) + activation_params (10).
 */
import { floats, int, type NcnnLayer, type ParamValue } from '../format/param.js';
import { layerRecord, paramsOf } from '../layers/index.js';
import { soleConsumer, type Pass } from './graph-util.js';

/** activation_type and params for an activation layer, or undefined when it cannot be fused. */
export function activationOf(l: NcnnLayer): [number, number[]] | undefined {
  const r = layerRecord(l.type);
  return r?.activation?.(paramsOf(r, l.params));
}

export const fuseActivation: Pass = (net, { outputs }) => {
  const fused: string[] = [];
  const drop = new Set<NcnnLayer>();
  const layers = net.layers;
  for (const l of layers) {
    const r = layerRecord(l.type);
    if (!r?.fusionHost || l.outputs.length !== 1 || paramsOf(r, l.params).num('activation_type') !== 0) continue;
    const a = soleConsumer(layers, l.outputs[0], outputs);
    if (!a || drop.has(a)) continue;
    const act = activationOf(a);
    if (!act) continue;
    l.params.set(9, int(act[0]));
    if (act[1].length) l.params.set(10, floats(act[1]) as ParamValue);
    l.outputs = [a.outputs[0]];
    drop.add(a);
    fused.push(`${a.name} -> ${l.name}`);
  }
  net.layers = layers.filter((l) => !drop.has(l));
  return { changes: fused };
};
