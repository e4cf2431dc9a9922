/**
 * Bias fusion: torch exports a Linear on a rank-3 tensor as MatMul + Add(bias), which lowers to a
 * Gemm (rows) or InnerProduct without bias followed by a BinaryOp add of a MemoryData of num_output values (one
 * more layer and one more pass over the activations, 2 x 12 per ViT-B). The bias goes into the
 * layer (InnerProduct bias_term 1, Gemm C of N values), as pnnx writes it; the MemoryData stays for other readers, else the
 * dead-layer pass removes it. Runs before activation fusion, which needs the BinaryOp gone.
 */
import { int, type NcnnLayer } from '../format/param.js';
import { layerRecord, paramsOf } from '../layers/index.js';
import { soleConsumer, type Pass } from './graph-util.js';

/**
 * The values of a MemoryData of one row of `n` values: (n) or (1, n). The lowering shapes a
 * constant operand to its activation's rank, so (1, n) meets a 2-D (rows, n) InnerProduct output
 * (where the sum keeps (rows, n)) and (n) a 1-D one: fusing changes no blob's shape.
 */
function biasRow(m: NcnnLayer | undefined, n: number, rank = 2): Float32Array | undefined {
  if (m?.type !== 'MemoryData' || m.weights.length !== 1) return undefined;
  const p = paramsOf(layerRecord('MemoryData')!, m.params);
  const dims = [p.num('c'), p.num('d'), p.num('h')].filter((d) => d !== 0);
  if (p.num('w') !== n || dims.some((d) => d !== 1) || dims.length + 1 > rank) return undefined;
  return m.weights[0].data.length === n ? m.weights[0].data : undefined;
}

/**
 * A Reshape that keeps the innermost size `n` (w) commutes with adding a row of n values: every
 * element keeps its index mod n. Returns the Reshape's output rank then (channels-last Linear:
 * Gemm on rows, Reshape back to (C, H, n), Add).
 */
function rowKeepingReshape(l: NcnnLayer, n: number): number | undefined {
  if (l.type !== 'Reshape' || l.inputs.length !== 1) return undefined;
  const p = paramsOf(layerRecord('Reshape')!, l.params);
  if (p.num('w') !== n || p.num('permute')) return undefined;
  return 1 + ['h', 'd', 'c'].filter((k) => p.num(k) !== -233).length;
}

/** A Gemm of run-time A by constant B without C, alpha/beta 1, plain output (as ops/algebra.ts writes it). */
function rowsGemm(p: ReturnType<typeof paramsOf>): boolean {
  return p.num('constantA') === 0 && p.num('constantB') === 1 && p.num('constantC') === 0 && p.num('alpha') === 1 && p.num('beta') === 1 && p.num('transA') === 0
    && p.num('output_N1M') === 0 && p.num('output_transpose') === 0 && p.num('int8_scale_term') === 0;
}

export const fuseBias: Pass = (net, { outputs }) => {
  const fused: string[] = [];
  const drop = new Set<NcnnLayer>();
  const producer = new Map<string, NcnnLayer>();
  for (const l of net.layers) for (const o of l.outputs) producer.set(o, l);
  for (const l of net.layers) {
    if ((l.type !== 'InnerProduct' && l.type !== 'Gemm') || l.outputs.length !== 1) continue;
    const p = paramsOf(layerRecord(l.type)!, l.params);
    const n = l.type === 'Gemm' ? p.num('constantN') : p.num('num_output');
    if (l.type === 'Gemm' ? !rowsGemm(p) : p.num('bias_term') !== 0 || p.num('activation_type') !== 0 || p.num('int8_scale_term') !== 0) continue;
    let add = soleConsumer(net.layers, l.outputs[0], outputs);
    const reshape = add && rowKeepingReshape(add, n) !== undefined ? add : undefined;
    if (reshape) add = soleConsumer(net.layers, reshape.outputs[0], outputs);
    if (!add || add.type !== 'BinaryOp' || add.inputs.length !== 2 || drop.has(add)) continue;
    const sum = (reshape ?? l).outputs[0];
    const ap = paramsOf(layerRecord('BinaryOp')!, add.params);
    if (ap.num('op_type') !== 0 || ap.num('with_scalar') !== 0) continue;
    const other = add.inputs[0] === sum ? add.inputs[1] : add.inputs[0];
    const bias = biasRow(producer.get(other), n, reshape ? rowKeepingReshape(reshape, n) : 2);
    if (!bias) continue;
    if (l.type === 'Gemm') {
      // C of N values (constant_broadcast_type_C 4), beta 1
      l.weights = [l.weights[0], { data: Float32Array.from(bias), tagged: true }];
      l.params.set(6, int(1));
      l.params.set(10, int(4));
    } else {
      l.weights = [l.weights[0], { data: Float32Array.from(bias), tagged: false }];
      l.params.set(1, int(1));
    }
    (reshape ?? l).outputs = [add.outputs[0]];
    if (reshape) reshape.inputs = [l.outputs[0]];
    drop.add(add);
    fused.push(`${add.name} -> ${l.name}`);
  }
  net.layers = net.layers.filter((l) => !drop.has(l));
  return { changes: fused };
};
