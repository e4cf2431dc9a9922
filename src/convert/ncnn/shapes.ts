/**
 * Shape propagation over an ncnn layer list (Mat dims outer-first, no batch: (c,h,w) = [c,h,w]).
 * Each layer's rule is its record's `shape` in ./layers; used by `analyze.ts` for per-layer MACs.
 */
import { FdkError, escapeName } from '../../util/errors.js';
import type { NcnnLayer } from './format/param.js';
import { declaredDims, paramsOf, requireRecord, type Dims } from './layers/index.js';

export type { Dims };

/** Output dims of one layer, given its input dims. Throws Error with a reason when they cannot be known. */
export function layerOutputDims(l: NcnnLayer, ins: Dims[]): Dims[] {
  const r = requireRecord(l.type, l.name);
  if (!r.shape) return l.outputs.map(() => [...ins[0]]);
  return r.shape(paramsOf(r, l.params), ins, l.outputs.length);
}

/** Dims of every blob, from the Input layers' dims (`inputs`, else what the Input layer declares). */
export function propagateDims(layers: NcnnLayer[], inputs: Record<string, Dims>, file: string): Map<string, Dims> {
  const dims = new Map<string, Dims>();
  for (const l of layers) {
    if (l.type === 'Input') {
      const d = inputs[l.outputs[0]] ?? declaredDims(paramsOf(requireRecord('Input', l.name), l.params));
      if (!d) throw new FdkError(`input '${l.outputs[0]}' has no shape: pass --input ${l.outputs[0]}:1x3xHxW`, { file });
      dims.set(l.outputs[0], d);
      continue;
    }
    const ins = l.inputs.map((b) => {
      const d = dims.get(b);
      if (!d) throw new FdkError(`layer '${l.name}' reads blob '${b}', which no earlier layer produces`, { file });
      return d;
    });
    let outs: Dims[];
    try {
      outs = layerOutputDims(l, ins);
    } catch (e) {
      if (e instanceof FdkError) throw new FdkError(e.message, { file });
      throw new FdkError(`layer '${l.name}' (${l.type}): ${(e as Error).message}`, { file });
    }
    // ncnn blobs have at most 4 dims of positive integer size: anything else comes from parameters that
    // do not fit the input, or from a hostile file (a Concat axis of 2^31 made a 2^31-long sparse array)
    l.outputs.forEach((o, i) => {
      const d = outs[i] ?? outs[0];
      if (!d || d.length > 4 || d.some((n) => !Number.isSafeInteger(n) || n <= 0))
        throw new FdkError(`layer '${escapeName(l.name)}' (${escapeName(l.type)}): output '${escapeName(o)}' would have dims (${d ? d.slice(0, 5).join(',') : ''}${d && d.length > 5 ? ',...' : ''}); the params do not fit the input (${ins.map((x) => x.join(',')).join(' / ')})`, { file });
      // ncnn resolves a blob name to the first blob of that name
      if (!dims.has(o)) dims.set(o, d);
    });
  }
  return dims;
}
