/**
 * Matrix-product records: InnerProduct, Gemm, MatMul, Embed, MultiHeadAttention and the
 * recurrent layers LSTM / GRU / RNN (input (h=T, w=input_size), weights stored per direction).
 */
import { layer, raw, tagged, vol, type Dims, type LayerRecord, type Params, type WeightSpec } from './types.js';
import { FUSED_ACTIVATION_COST } from './conv.js';

/** numpy-style broadcast of batch dims (MatMul's leading dims broadcast that way in ncnn). */
function broadcastBatch(a: Dims, b: Dims): Dims {
  const r = Math.max(a.length, b.length);
  const out: Dims = [];
  for (let i = 0; i < r; i++) out.push(Math.max(a[a.length - r + i] ?? 1, b[b.length - r + i] ?? 1));
  return out;
}

/** Recurrent layers: [weight_xc, bias_c, weight_hc (, weight_hr)] per direction, all type 0 (tagged). */
function recurrent(type: 'LSTM' | 'GRU' | 'RNN'): LayerRecord {
  const gates = type === 'LSTM' ? 4 : type === 'GRU' ? 3 : 1;
  const dirs = (p: Params) => (p.num('direction') === 2 ? 2 : 1);
  const hidden = (p: Params) => (type === 'LSTM' ? p.num('hidden_size') : p.num('num_output'));
  const inputSize = (p: Params) => p.num('weight_data_size') / dirs(p) / hidden(p) / gates;
  const params: [number, string, number | string][] = [[0, 'num_output', 0], [1, 'weight_data_size', 0], [2, 'direction', 0], [8, 'int8_scale_term', 0]];
  if (type === 'LSTM') params.push([3, 'hidden_size', 'num_output']);
  return layer(type, params, {
    weights: (p) => {
      const nd = dirs(p), h = hidden(p), n = p.num('num_output');
      const out: WeightSpec[] = [
        tagged('weight_xc_data', inputSize(p) * h * gates * nd),
        // GRU keeps 4 bias rows per direction (the new gate's two halves are biased separately)
        tagged('bias_c_data', h * (type === 'GRU' ? 4 : gates) * nd),
        tagged('weight_hc_data', n * h * gates * nd),
      ];
      if (type === 'LSTM' && n !== h) out.push(tagged('weight_hr_data', h * n * nd));
      if (p.num('int8_scale_term')) out.push(raw('weight_xc_data_int8_scales', h * gates * nd), raw('weight_hc_data_int8_scales', h * gates * nd));
      return out;
    },
    shape: (p, ins, nout) => {
      const T = ins[0].length >= 2 ? ins[0][ins[0].length - 2] : 1;
      const nd = dirs(p);
      const outs: Dims[] = [[T, p.num('num_output') * nd], [nd, p.num('num_output')]];
      if (type === 'LSTM') outs.push([nd, hidden(p)]);
      return outs.slice(0, nout);
    },
    cost: ({ p, ins, weights }) => {
      const T = ins[0].length >= 2 ? ins[0][ins[0].length - 2] : 1;
      const h = hidden(p);
      const macs = T * dirs(p) * gates * h * (inputSize(p) + p.num('num_output'));
      return { macs, params: weights };
    },
  });
}

export const DENSE_LAYERS: LayerRecord[] = [
  layer('InnerProduct', [[0, 'num_output', 0], [1, 'bias_term', 0], [2, 'weight_data_size', 0], [8, 'int8_scale_term', 0], [9, 'activation_type', 0], [10, 'activation_params', []]], {
    weights: (p) => {
      const out = [tagged('weight_data', p.num('weight_data_size'))];
      if (p.num('bias_term')) out.push(raw('bias_data', p.num('num_output')));
      if (p.num('int8_scale_term')) out.push(raw('weight_data_int8_scales', p.num('num_output')), raw('bottom_blob_int8_scales', 1));
      return out;
    },
    // a 2-D input is a batch of rows (gemm mode); anything else is flattened first
    shape: (p, ins) => [ins[0].length === 2 ? [ins[0][0], p.num('num_output')] : [p.num('num_output')]],
    cost: ({ p, outs, thop }) => {
      const out = vol(outs[0]);
      const n = Math.max(1, p.num('num_output'));
      const bias = p.num('bias_term');
      const macs = (p.num('weight_data_size') / n) * out + (!thop && bias ? out : 0) + (thop ? 0 : out * (FUSED_ACTIVATION_COST[p.num('activation_type')] ?? 0));
      return { macs, params: p.num('weight_data_size') + (bias ? n : 0) };
    },
    fusionHost: { biasParam: 'bias_term' },
  }),
  layer('Gemm', [
    [0, 'alpha', 1], [1, 'beta', 1], [2, 'transA', 0], [3, 'transB', 0], [4, 'constantA', 0], [5, 'constantB', 0], [6, 'constantC', 0],
    [7, 'constantM', 0], [8, 'constantN', 0], [9, 'constantK', 0], [10, 'constant_broadcast_type_C', 0], [11, 'output_N1M', 0],
    [12, 'output_elempack', 0], [13, 'output_elemtype', 0], [14, 'output_transpose', 0], [18, 'int8_scale_term', 0],
  ], {
    weights: (p) => {
      if (p.num('int8_scale_term') >= 400) throw new Error(`Gemm weight block quantization (int8_scale_term=${p.num('int8_scale_term')}) is not supported`);
      const M = p.num('constantM'), N = p.num('constantN'), K = p.num('constantK');
      const out: WeightSpec[] = [];
      if (p.num('constantA')) out.push(tagged('A_data', M * K));
      if (p.num('constantB')) out.push(tagged('B_data', N * K));
      const bt = p.num('constant_broadcast_type_C');
      if (p.num('constantC') && bt !== -1) out.push(tagged('C_data', [1, M, M, M * N, N][bt] ?? 0));
      if (p.num('int8_scale_term')) {
        if (p.num('constantA')) out.push(raw('A_data_int8_scales', M));
        if (p.num('constantB')) out.push(raw('B_data_int8_scale', 1));
      }
      return out;
    },
    shape: (p, ins) => {
      const [M, N] = gemmMN(p, ins);
      if (p.num('output_N1M')) return [[M, 1, N]];
      return [p.num('output_transpose') ? [N, M] : [M, N]];
    },
    cost: ({ p, ins, weights }) => {
      const [M, N, K] = gemmMN(p, ins);
      return { macs: M * N * K, params: weights };
    },
  }),
  layer('MatMul', [[0, 'transB', 0]], {
    shape: (p, ins) => {
      const a = ins[0];
      let b = ins[1];
      if (p.num('transB') && b.length >= 2) b = [...b.slice(0, -2), b[b.length - 1], b[b.length - 2]];
      if (a.length === 1 && b.length === 1) return [[1]];
      if (a.length === 1) return [[...b.slice(0, -2), b[b.length - 1]]];
      if (b.length === 1) return [a.slice(0, -1)];
      return [[...broadcastBatch(a.slice(0, -2), b.slice(0, -2)), a[a.length - 2], b[b.length - 1]]];
    },
    cost: ({ ins, outs, thop }) => ({ macs: thop ? 0 : vol(outs[0]) * ins[0][ins[0].length - 1], params: 0 }),
  }),
  layer('Embed', [[0, 'num_output', 0], [1, 'input_dim', 0], [2, 'bias_term', 0], [3, 'weight_data_size', 0], [18, 'int8_scale_term', 0]], {
    weights: (p) => {
      const out = [tagged('weight_data', p.num('weight_data_size'))];
      if (p.num('bias_term')) out.push(raw('bias_data', p.num('num_output')));
      if (p.num('int8_scale_term')) out.push(raw('weight_data_int8_scale', 1));
      return out;
    },
    shape: (p, ins) => [[vol(ins[0]), p.num('num_output')]],
    cost: ({ weights, thop }) => ({ macs: 0, params: thop ? 0 : weights }),
  }),
  layer('MultiHeadAttention', [[0, 'embed_dim', 0], [1, 'num_heads', 1], [2, 'weight_data_size', 0], [3, 'kdim', 'embed_dim'], [4, 'vdim', 'embed_dim'], [5, 'attn_mask', 0], [6, 'scale', 0], [7, 'kv_cache', 0], [18, 'int8_scale_term', 0]], {
    weights: (p) => {
      const q = p.num('int8_scale_term');
      if (q >= 400) throw new Error(`MultiHeadAttention weight block quantization (int8_scale_term=${q}) is not supported`);
      const E = p.num('embed_dim'), qdim = p.num('weight_data_size') / Math.max(1, E);
      const out = [
        tagged('q_weight_data', E * qdim), raw('q_bias_data', E),
        tagged('k_weight_data', E * p.num('kdim')), raw('k_bias_data', E),
        tagged('v_weight_data', E * p.num('vdim')), raw('v_bias_data', E),
        tagged('out_weight_data', qdim * E), raw('out_bias_data', qdim),
      ];
      if (q) out.push(raw('q_weight_data_int8_scales', E), raw('k_weight_data_int8_scales', E), raw('v_weight_data_int8_scales', E), raw('out_weight_data_int8_scale', 1));
      return out;
    },
    shape: (p, ins, nout) => {
      const qdim = p.num('weight_data_size') / Math.max(1, p.num('embed_dim'));
      const seq = ins[0][0];
      const kseq = (ins[1] ?? ins[0])[0];
      return [[seq, qdim], ...Array.from({ length: nout - 1 }, () => [p.num('embed_dim'), kseq])];
    },
    // thop: the four projections (an ONNX export of the block counts them as MatMul/Gemm with
    // constant weights; the activation x activation products count 0 there); onnx-tool adds those
    cost: ({ p, ins, weights, thop }) => {
      const E = p.num('embed_dim'), qdim = p.num('weight_data_size') / Math.max(1, E);
      const seq = ins[0][0], kseq = (ins[1] ?? ins[0])[0];
      const proj = seq * E * qdim + kseq * E * (p.num('kdim') + p.num('vdim')) + seq * qdim * E;
      return { macs: proj + (thop ? 0 : 2 * seq * kseq * E), params: weights };
    },
  }),
  recurrent('LSTM'),
  recurrent('GRU'),
  recurrent('RNN'),
];

/** [M, N, K] of a Gemm from its params and input dims (outer-first: a 2-D A is [M,K], or [K,M] with transA). */
function gemmMN(p: Params, ins: Dims[]): [number, number, number] {
  let i = 0;
  let M: number, K: number;
  if (p.num('constantA')) [M, K] = [p.num('constantM'), p.num('constantK')];
  else {
    const a = ins[i++];
    const [r, c] = a.length >= 2 ? a.slice(-2) : [1, a[0]];
    [M, K] = p.num('transA') ? [c, r] : [r, c];
  }
  let N: number;
  if (p.num('constantB')) N = p.num('constantN');
  else {
    const b = ins[i] ?? [];
    const [r, c] = b.length >= 2 ? b.slice(-2) : [b[0], 1];
    N = p.num('transB') ? r : c;
  }
  return [M, N, K];
}

