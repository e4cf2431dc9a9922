/**
 * Activation fusion (as ncnnoptimize's fuse_*_activation): a Convolution, ConvolutionDepthWise,
 * Deconvolution(DepthWise) or InnerProduct whose only consumer is ReLU / Clip / Sigmoid / Mish /
 * HardSwish takes it over as activation_type (9) + activation_params (10).
 */
import { floats, int, paramFloat, paramInt, type NcnnLayer, type ParamValue } from '../format/param.js';
import { soleConsumer } from './graph-util.js';

const HOSTS = new Set(['Convolution', 'ConvolutionDepthWise', 'Deconvolution', 'DeconvolutionDepthWise', 'InnerProduct']);

/** activation_type and params for an activation layer, or undefined when it cannot be fused. */
export function activationOf(l: NcnnLayer): [number, number[]] | undefined {
  switch (l.type) {
    case 'ReLU': {
      const slope = paramFloat(l.params, 0, 0);
      return slope === 0 ? [1, []] : [2, [slope]];
    }
    case 'Clip':
      return [3, [paramFloat(l.params, 0, -3.4028234663852886e38), paramFloat(l.params, 1, 3.4028234663852886e38)]];
    case 'Sigmoid':
      return [4, []];
    case 'Mish':
      return [5, []];
    case 'HardSwish':
      return [6, [paramFloat(l.params, 0, 0.2), paramFloat(l.params, 1, 0.5)]];
  }
  return undefined;
}

export function fuseActivation(layers: NcnnLayer[], outputs: Set<string>): { layers: NcnnLayer[]; fused: string[] } {
  const fused: string[] = [];
  const drop = new Set<NcnnLayer>();
  for (const l of layers) {
    if (!HOSTS.has(l.type) || l.outputs.length !== 1 || paramInt(l.params, 9, 0) !== 0) continue;
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
  return { layers: layers.filter((l) => !drop.has(l)), fused };
}
