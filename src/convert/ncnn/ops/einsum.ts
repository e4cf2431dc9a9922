/**
 * Einsum -> Permute + MatMul + Permute, for the two-operand equations of CNN and attention code
 * ("bij,bjk->bik", "bhqd,bhkd->bhqk", "bhqk,bhkd->bhqd", "bchw,bkc->bkhw"...): letters in both
 * operands and the output are batch dims, one letter in both operands only is contracted, one
 * letter per operand is its free row / column. Operands are permuted to [batch..., m, k] and
 * [batch..., k, n] (or [batch..., n, k] read with MatMul transB=1), the product is permuted to
 * the output order. The first letter must be the batch axis of every tensor (ncnn has none).
 */
import { attrString } from '../../../onnx/model.js';
import { parseEinsum } from '../../../onnx/ops/shape-rules.js';
import { int } from '../format/param.js';
import { BatchAxisError, permuteOrderType } from '../passes/batch-axis.js';
import type { EmittedLayer, LowerContext } from '../lower.js';
import type { LowerResult, OpEntry } from '../op-table.js';
import { P } from './emit.js';

function einsum(c: LowerContext): LowerResult {
  const eq = attrString(c.node, 'equation', '');
  const p = parseEinsum(eq);
  if (!p) c.fail(`equation '${eq}' (explicit 'ab,bc->ac' forms only, no '...')`);
  if (p.inputs.length !== 2 || c.inputCount !== 2) c.fail(`equation '${eq}' with ${p.inputs.length} operands (two only)`);
  const [sa, sb] = p.inputs, so = p.output;
  for (const s of [sa, sb, so]) if (new Set(s).size !== s.length) c.fail(`equation '${eq}' repeats a letter in one term (diagonals)`);
  const inA = (l: string) => sa.includes(l), inB = (l: string) => sb.includes(l), inO = (l: string) => so.includes(l);
  const batch = [...so].filter((l) => inA(l) && inB(l));
  const k = [...sa].filter((l) => inB(l) && !inO(l));
  const m = [...sa].filter((l) => !inB(l) && inO(l));
  const n = [...sb].filter((l) => !inA(l) && inO(l));
  const lone = [...sa, ...sb].filter((l) => !inO(l) && !(inA(l) && inB(l)));
  if (lone.length) c.fail(`equation '${eq}' sums letter '${lone[0]}' of one operand alone`);
  if (k.length !== 1 || m.length !== 1 || n.length !== 1) c.fail(`equation '${eq}' is not one matrix product per batch (needs one contracted, one row and one column letter)`);
  if (sa[0] !== so[0] || sb[0] !== so[0] || !batch.includes(so[0])) c.fail(`equation '${eq}': the first letter must be the batch axis of both operands and the output`, 'batch');
  if (!c.isActivation(c.inputName(0))) c.fail('constant first operand');

  const base = c.node.outputs[0];
  const layers: EmittedLayer[] = [];
  // ncnn's Permute order type for an axis permutation; one that moves the batch axis is refused
  const orderOf = (perm: number[]): number => {
    try {
      return permuteOrderType(perm);
    } catch (e) {
      if (e instanceof BatchAxisError) c.fail(`equation '${eq}': ${e.message}`, 'batch');
      throw e;
    }
  };
  const permute = (blob: string, from: string, to: string[], tag: string): string => {
    const perm = to.map((l) => from.indexOf(l));
    if (perm.every((x, i) => x === i)) return blob;
    const order = orderOf(perm);
    const out = `${base}_${tag}`;
    layers.push({ type: 'Permute', params: P([0, int(order)]), inputs: [blob], outputs: [out], suffix: tag });
    return out;
  };
  const a = permute(c.blob(0), sa, [...batch, m[0], k[0]], 'a');
  // B as [batch, k, n], or as [batch, n, k] with transB when that needs no Permute
  const bkn = [...batch, k[0], n[0]], bnk = [...batch, n[0], k[0]];
  const transB = bnk.join('') === sb ? 1 : 0;
  const bConst = !c.isActivation(c.inputName(1));
  if (bConst && (transB ? bnk : bkn).join('') !== sb) c.fail(`equation '${eq}' would permute a constant operand`);
  const b = bConst ? c.blob(1, so.length) : permute(c.blob(1), sb, transB ? bnk : bkn, 'b');
  const prod = [...batch, m[0], n[0]];
  const needOut = prod.join('') !== so;
  const mm = `${base}_mm`;
  layers.push({ type: 'MatMul', params: P([0, int(transB)]), inputs: [a, b], outputs: needOut ? [mm] : undefined, suffix: needOut ? 'mm' : undefined });
  if (needOut) {
    const order = orderOf([...so].map((l) => prod.indexOf(l)));
    layers.push({ type: 'Permute', params: P([0, int(order)]), inputs: [mm] });
  }
  return { layers, ranks: [so.length] };
}

export const EINSUM_OPS: Record<string, OpEntry> = {
  Einsum: { ncnn: 'MatMul / Permute', lower: einsum },
};
