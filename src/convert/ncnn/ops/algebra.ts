/**
 * Gemm (all attribute forms ncnn can run) and Pow with a constant exponent.
 *
 * Gemm -> InnerProduct: B constant, alpha folded into the weights, beta into a constant C; a C
 * computed at run time becomes a BinaryOp add after the InnerProduct (scaled by beta when needed).
 * transA=1 has no batch-1 form (A would be [K, 1]) and a run-time B no InnerProduct: both fail.
 *
 * Pow: ncnn's vectorised BinaryOp pow is exp(y log x), NaN for a negative base even at y = 2
 * (the decomposed LayerNorm's variance), so the common constant exponents become exact UnaryOps:
 * 2 -> square, 0.5 -> sqrt, -0.5 -> rsqrt, -1 -> reciprocal, 1 -> nothing.
 */
import { attrFloat, attrInt } from '../../../onnx/model.js';
import { float, int, ints } from '../format/param.js';
import type { EmittedLayer, LowerContext } from '../lower.js';
import type { LowerResult, OpEntry } from '../op-table.js';
import { P, isConstant, single, weightDims } from './emit.js';
import { scaled, transposed } from '../lowering-helpers.js';

function gemm(c: LowerContext): LowerResult {
  const n = c.node;
  const alpha = attrFloat(n, 'alpha', 1), beta = attrFloat(n, 'beta', 1);
  const tB = attrInt(n, 'transB', 0);
  if (attrInt(n, 'transA', 0)) c.fail('transA=1: A would be [K, 1], which has no batch-1 ncnn form');
  if (c.isActivation(c.inputName(1))) c.fail('B computed at run time (ncnn InnerProduct needs constant weights)');
  const bd = weightDims(c, 1);
  if (bd.length !== 2) c.fail(`B of shape [${bd}]`);
  const B = c.weight(1, 'B');
  const [K, N] = tB ? [bd[1], bd[0]] : [bd[0], bd[1]];
  const W = tB ? scaled(B, alpha) : transposed(B, K, N, alpha);
  const weights = [{ data: W, tagged: true }];
  const runtimeC = c.hasInput(2) && c.isActivation(c.inputName(2));
  let hasBias = 0;
  if (c.hasInput(2) && !runtimeC && beta !== 0) {
    const C = c.weight(2, 'C');
    if (C.length !== N && C.length !== 1) c.fail(`Gemm C of ${C.length} values (need ${N} or 1)`);
    weights.push({ data: Float32Array.from({ length: N }, (_, o) => beta * C[C.length === 1 ? 0 : o]), tagged: false });
    hasBias = 1;
  }
  const ip = P([0, int(N)], [1, int(hasBias)], [2, int(W.length)]);
  if (!runtimeC || beta === 0) return single('InnerProduct', c, ip, 2, { weights });
  const base = c.node.outputs[0];
  const layers: EmittedLayer[] = [{ type: 'InnerProduct', params: ip, weights, inputs: [c.blob(0)], outputs: [`${base}_ab`], suffix: 'ab' }];
  let cBlob = c.blob(2);
  if (beta !== 1) {
    layers.push({ type: 'BinaryOp', params: P([0, int(2)], [1, int(1)], [2, float(beta)]), inputs: [cBlob], outputs: [`${base}_c`], suffix: 'c' });
    cBlob = `${base}_c`;
  }
  layers.push({ type: 'BinaryOp', params: P([0, int(0)]), inputs: [`${base}_ab`, cBlob] });
  return { layers, ranks: [2] };
}

const EXACT_POW: Record<number, number> = { 2: 4, 0.5: 5, [-0.5]: 6, [-1]: 15 };

function pow(c: LowerContext): LowerResult {
  const k = c.isActivation(c.inputName(1)) ? undefined : c.known(1);
  const y = k && k.els.length === 1 && typeof k.els[0] === 'number' ? k.els[0] : undefined;
  if (c.isActivation(c.inputName(0)) && y !== undefined) {
    if (y === 1) return { alias: 0 };
    if (EXACT_POW[y] !== undefined) return single('UnaryOp', c, P([0, int(EXACT_POW[y])]), c.rank(0));
    return single('BinaryOp', c, P([0, int(6)], [1, int(1)], [2, float(y)]), c.rank(0));
  }
  if (!c.isActivation(c.inputName(0)) && !c.isActivation(c.inputName(1))) c.fail('both operands are constants or tensor sizes computed at run time', 'runtime-weight');
  const r = Math.max(c.rankOf(c.inputName(0)) ?? 0, c.rankOf(c.inputName(1)) ?? 0);
  return { layers: [{ type: 'BinaryOp', params: P([0, int(6)]), inputs: [c.blob(0, r), c.blob(1, r)] }], ranks: [r] };
}

export const ALGEBRA_OPS: Record<string, OpEntry> = {
  Gemm: { ncnn: 'InnerProduct / BinaryOp', lower: gemm },
  Pow: { ncnn: 'UnaryOp / BinaryOp', lower: pow },
};

/**
 * ncnn Gemm of run-time rows A (M, K) by a constant B, as pnnx writes a Linear on a sequence:
 * ncnn's Gemm packs and tiles; its InnerProduct runs rows through a plain loop (ViT-B's MLP ran
 * about 2x slower that way). transB 0: B is stored (K, N), ONNX MatMul's own layout, so the
 * weights are written as they are, not transposed (ncnn packs B at load either way). A bias joins
 * as C (passes/fuse-bias.ts).
 */
function rowsGemm(N: number, K: number) {
  return P([2, int(0)], [3, int(0)], [4, int(0)], [5, int(1)], [6, int(0)], [8, int(N)], [9, int(K)]);
}

/**
 * MatMul. A constant 2-D B becomes an InnerProduct for a rank-2 A, a Gemm of rows for rank 3, and
 * the same between two Reshapes for a rank-4 A with static dims (channels-last Linear layers, as
 * in ConvNeXt); weights packed once at load, unlike a MatMul reading a MemoryData every run.
 * Anything else is ncnn's batched MatMul.
 */
function matmul(c: LowerContext): LowerResult {
  const r = c.rank(0);
  const bConst = isConstant(c, 1);
  const bDims = bConst ? weightDims(c, 1) : undefined;
  if (bDims && bDims.length === 2) {
    const [K, N] = bDims;
    const B = c.weight(1, 'B');
    const gemmWeights = [{ data: B, tagged: true }];
    if (r === 2) return single('InnerProduct', c, P([0, int(N)], [1, int(0)], [2, int(N * K)]), r, { weights: [{ data: transposed(B, K, N), tagged: true }] });
    if (r === 3) return single('Gemm', c, rowsGemm(N, K), r, { weights: gemmWeights });
    const d = c.dimsOf(c.inputName(0));
    if (r === 4 && d && typeof d[2] === 'number' && d[2] > 0) {
      const base = c.node.outputs[0];
      return {
        layers: [
          { type: 'Reshape', params: P([0, int(K)], [1, int(-1)]), inputs: [c.blob(0)], outputs: [`${base}_rows`], suffix: 'rows' },
          { type: 'Gemm', params: rowsGemm(N, K), weights: gemmWeights, inputs: [`${base}_rows`], outputs: [`${base}_ip`], suffix: 'ip' },
          { type: 'Reshape', params: P([0, int(N)], [1, int(d[2])], [2, int(-1)]), inputs: [`${base}_ip`] },
        ],
        ranks: [4],
      };
    }
  }
  if (bDims && bDims.length === 1 && r >= 3) {
    // x · v with a constant vector: v as a [K, 1] matrix, then the unit axis dropped
    const base = c.node.outputs[0];
    const v: EmittedLayer = { type: 'MemoryData', params: P([0, int(1)], [1, int(bDims[0])]), weights: [{ data: c.weight(1, 'B'), tagged: false }], inputs: [], outputs: [`${base}_v`], suffix: 'v' };
    return {
      layers: [
        v,
        { type: 'MatMul', params: P(), inputs: [c.blob(0), `${base}_v`], outputs: [`${base}_mm`], suffix: 'mm' },
        { type: 'Squeeze', params: P([3, ints([r - 2])]), inputs: [`${base}_mm`] },
      ],
      ranks: [r - 1],
    };
  }
  const r1 = bDims ? bDims.length : c.rank(1);
  const outRank = Math.max(r, r1);
  return { layers: [{ type: 'MatMul', params: P(), inputs: [c.blob(0, outRank), c.blob(1, outRank)] }], ranks: [outRank] };
}

ALGEBRA_OPS.MatMul = { ncnn: 'InnerProduct / MatMul', lower: matmul };
