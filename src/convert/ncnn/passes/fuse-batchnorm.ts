/**
 * BatchNorm folding (as ncnnoptimize's fuse_*_batchnorm): a Convolution / ConvolutionDepthWise /
 * Deconvolution / InnerProduct whose only consumer is a BatchNorm absorbs it:
 *   b = slope / sqrt(var + eps);  W[o] *= b;  bias[o] = (bias[o] - mean[o]) * b + beta[o]
 * (ncnn stores var + eps already). The BatchNorm's output blob name is kept.
 *
 * Every step is one float32 operation in onnxruntime's order (its ConvBNFusion: var + eps, sqrt,
 * scale / that, W * scale; bias: (B - mean) * scale + beta, or beta - mean * scale without a conv
 * bias). onnxruntime folds the same Conv + BatchNormalization pairs when it loads the ONNX, so the
 * ncnn model then carries bit-identical weights and `fdk parity` differences come from the
 * runtimes' kernels alone. Folding in double instead moves weights by up to one float32 ulp, which
 * on mnet0.25 at 640x480 added ~3e-5 to the ort/wasm-vs-ncnn max abs difference.
 */
import { int, type NcnnLayer } from '../format/param.js';
import { layerRecord, paramsOf } from '../layers/index.js';
import { soleConsumer, type Pass } from './graph-util.js';

/** Folds into the layers whose record is a fusion host (its weights are [out][...] blocks + a bias). */
export const fuseBatchNorm: Pass = (net, { outputs }) => {
  const fused: string[] = [];
  const drop = new Set<NcnnLayer>();
  const layers = net.layers;
  for (const l of layers) {
    const r = layerRecord(l.type);
    if (!r?.fusionHost || l.outputs.length !== 1) continue;
    const p = paramsOf(r, l.params);
    if (p.num('activation_type') !== 0) continue;
    const bn = soleConsumer(layers, l.outputs[0], outputs);
    if (!bn || bn.type !== 'BatchNorm' || drop.has(bn)) continue;
    const outCh = p.num('num_output');
    const [slope, mean, varEps, beta] = bn.weights.map((w) => w.data);
    if (slope.length !== outCh) continue;
    const W = Float32Array.from(l.weights[0].data);
    const block = W.length / outCh;
    const biasKey = r.params.find((s) => s.name === r.fusionHost!.biasParam)!.id;
    const hasBias = p.num(r.fusionHost.biasParam) === 1;
    const bias = hasBias ? Float32Array.from(l.weights[1].data) : new Float32Array(outCh);
    const fr = Math.fround;
    for (let o = 0; o < outCh; o++) {
      // sqrt and division of float32 values rounded once to float32 = the float32 operations
      const b = fr(slope[o] / fr(Math.sqrt(varEps[o])));
      for (let k = 0; k < block; k++) W[o * block + k] *= b; // float32 store rounds the exact product
      bias[o] = hasBias ? fr(fr(fr(bias[o] - mean[o]) * b) + beta[o]) : fr(beta[o] - fr(mean[o] * b));
    }
    l.weights = [{ data: W, tagged: true }, { data: bias, tagged: false }];
    l.params.set(biasKey, int(1));
    l.outputs = [bn.outputs[0]];
    drop.add(bn);
    fused.push(`${bn.name} -> ${l.name}`);
  }
  net.layers = layers.filter((l) => !drop.has(l));
  return { changes: fused };
};
