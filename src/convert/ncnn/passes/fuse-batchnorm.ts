/**
 * BatchNorm folding (as ncnnoptimize's fuse_*_batchnorm): a Convolution / ConvolutionDepthWise /
 * Deconvolution / InnerProduct whose only consumer is a BatchNorm absorbs it:
 *   b = slope / sqrt(var + eps);  W[o] *= b;  bias[o] = (bias[o] - mean[o]) * b + beta[o]
 * (ncnn stores var + eps already). The BatchNorm's output blob name is kept.
 */
import { int, paramInt, type NcnnLayer } from '../format/param.js';
import { soleConsumer } from './graph-util.js';

const FOLDABLE = new Set(['Convolution', 'ConvolutionDepthWise', 'Deconvolution', 'DeconvolutionDepthWise', 'InnerProduct']);

export function fuseBatchNorm(layers: NcnnLayer[], outputs: Set<string>): { layers: NcnnLayer[]; fused: string[] } {
  const fused: string[] = [];
  const drop = new Set<NcnnLayer>();
  for (const l of layers) {
    if (!FOLDABLE.has(l.type) || l.outputs.length !== 1 || paramInt(l.params, 9, 0) !== 0) continue;
    const bn = soleConsumer(layers, l.outputs[0], outputs);
    if (!bn || bn.type !== 'BatchNorm' || drop.has(bn)) continue;
    const outCh = paramInt(l.params, 0, 0);
    const [slope, mean, varEps, beta] = bn.weights.map((w) => w.data);
    if (slope.length !== outCh) continue;
    const W = Float32Array.from(l.weights[0].data);
    const block = W.length / outCh;
    const isIP = l.type === 'InnerProduct';
    const biasKey = isIP ? 1 : 5;
    const hasBias = paramInt(l.params, biasKey, 0) === 1;
    const bias = hasBias ? Float32Array.from(l.weights[1].data) : new Float32Array(outCh);
    for (let o = 0; o < outCh; o++) {
      const b = slope[o] / Math.sqrt(varEps[o]);
      for (let k = 0; k < block; k++) W[o * block + k] *= b;
      bias[o] = (bias[o] - mean[o]) * b + beta[o];
    }
    l.weights = [{ data: W, tagged: true }, { data: bias, tagged: false }];
    l.params.set(biasKey, int(1));
    l.outputs = [bn.outputs[0]];
    drop.add(bn);
    fused.push(`${bn.name} -> ${l.name}`);
  }
  return { layers: layers.filter((l) => !drop.has(l)), fused };
}
