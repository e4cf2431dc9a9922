/** Steps every family shares: pick the outputs by role, threshold, NMS with the description's settings. */
import type { PostprocessSettings } from '../models/description.js';
import type { TensorMap, NamedTensor } from '../runtime/types.js';
import { FdkError } from '../util/errors.js';
import { hardNms, nmsPlusOne } from '../accuracy/nms.js';
import type { OutputRole } from './types.js';

/**
 * Finds each role's output by its name in the description, else the one output whose last axis has
 * the role's size (ncnn conversions may rename blobs). Missing or ambiguous: one error line.
 */
export function outputsByRole(outs: TensorMap, names: Record<string, string>, roles: OutputRole[], file: string): Record<string, Float32Array> {
  const res: Record<string, Float32Array> = {};
  // outputs found by name are taken: a fallback by shape never hands one tensor to two roles
  const claimed = new Set(roles.map((r) => names[r.role]).filter((n) => outs[n]));
  for (const r of roles) {
    const name = names[r.role];
    let t: NamedTensor | undefined = outs[name];
    if (!t) {
      const byShape = Object.entries(outs).filter(([k, x]) => !claimed.has(k) && x.dims[x.dims.length - 1] === r.last);
      if (byShape.length === 1) {
        t = byShape[0][1];
        claimed.add(byShape[0][0]);
      }
    }
    if (!t) throw new FdkError(`model output '${name}' (${r.role}, last axis ${r.last}) not found (outputs: ${Object.entries(outs).map(([k, v]) => `${k} [${v.dims.join(',')}]`).join(', ')})`, { file });
    if (t.dims[t.dims.length - 1] !== r.last)
      throw new FdkError(`model output '${name}' (${r.role}) has shape [${t.dims.join(',')}], the description expects a last axis of ${r.last}`, { file });
    res[r.role] = t.data as Float32Array;
  }
  return res;
}

/** Every role's output must have `n` rows (one per prior / anchor point); else say which and why. */
export function checkRows(out: Record<string, Float32Array>, roles: OutputRole[], n: number, what: string, file: string): void {
  for (const r of roles) {
    const rows = out[r.role].length / r.last;
    if (rows !== n) throw new FdkError(`model output ${r.role} has ${rows} rows, but the description gives ${n} ${what}: the model was made for another input size or the description does not match it`, { file });
  }
}

/** NMS in the flavour the description asks for; `order` lists candidates by descending score. */
export function nmsKeep(pp: PostprocessSettings, boxes: Float32Array, order: number[]): number[] {
  if (pp.nmsAreaPlusOne) {
    const cand = pp.candidateSize ? order.slice(0, pp.candidateSize) : order;
    const keep = nmsPlusOne(boxes, 4, cand, pp.nms);
    return pp.topK ? keep.slice(0, pp.topK) : keep;
  }
  const keep = hardNms(boxes, 4, order, pp.nms, pp.topK ?? -1, pp.candidateSize ?? -1);
  return pp.topK ? keep.slice(0, pp.topK) : keep;
}

/** The outputs every family reads: boxes [.., 4], scores [.., classes], and landmarks [.., 2·k] when it has them. */
export function boxScoreLandmarkRoles(p: { classes: number; landmarks?: number }): OutputRole[] {
  const r: OutputRole[] = [{ role: 'boxes', last: 4 }, { role: 'scores', last: p.classes }];
  if (p.landmarks) r.push({ role: 'landmarks', last: 2 * p.landmarks });
  return r;
}
