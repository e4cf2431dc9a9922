/**
 * "Never a silent wrong model": a conversion asked for an input size other than the one the
 * model's constants were computed for (a baked prior table, a fixed Reshape target) must stop, not
 * write a model that runs and gives garbage. Shape inference at the requested size finds it: a
 * constant that no longer broadcasts against the activations (e.g. 4,420 priors against 17,640
 * anchors at 480x640), or a Reshape whose fixed target no longer fits. The error names the node,
 * the dims, the size the model was made for, and what to do instead. With a model description
 * the baked prior tables are regenerated for the new size instead (regeneratePriorConstants).
 */
import type { Model } from '../onnx/model.js';
import { runtimeInputs } from '../onnx/model.js';
import { inferShapes, peekKeptPropagation } from '../onnx/shape-inference.js';
import { FdkError } from '../util/errors.js';
import { Tensor } from '../onnx/tensor.js';
import { priorsFor } from '../accuracy/priors.js';
import type { ModelDescription } from '../models/description.js';
import type { PriorParams } from '../families/prior.js';

const MISFIT = /(do not broadcast|cannot reshape)/;

/** Throws a one-line FdkError when the model cannot run at `inputShapes`; other inference problems are left to the converter. */
export function checkInputSizeFits(model: Model, inputShapes: Record<string, number[]>, file: string, opts: { madeFor?: number[] } = {}): void {
  // validation already propagated these shapes through this graph: nothing failed to broadcast or reshape
  if (peekKeptPropagation(model, { inputShapes, allowSymbolic: true })) return;
  try {
    inferShapes(model, { inputShapes });
  } catch (e) {
    if (!(e instanceof FdkError) || !MISFIT.test(e.message)) return;
    const at = e.message.slice(e.message.indexOf('cannot infer shapes') >= 0 ? e.message.indexOf('cannot infer shapes') : 0).replace(/^cannot infer shapes for /, '');
    const [name, dims] = Object.entries(inputShapes)[0] ?? ['', []];
    const input = runtimeInputs(model.graph)[0];
    const declared = input?.shape?.every((d) => typeof d === 'number' && d > 0) ? (input.shape as number[]) : undefined;
    const madeFor = opts.madeFor ?? declared;
    const inputName = name || input?.name || 'input';
    const fix = madeFor
      ? `convert at the size it was made for (--input ${inputName}:${madeFor.join('x')}), or re-export the model at ${dims.join('x')} (for a checkpoint: fdk convert X.pth --arch A --to onnx --input ${dims.join('x')})`
      : `re-export the model at ${dims.join('x')} (for a checkpoint: fdk convert X.pth --arch A --to onnx --input ${dims.join('x')})`;
    throw new FdkError(
      `the model does not fit input ${inputName}:${dims.join('x')}: ${at} — a constant was computed for another input size (e.g. a baked prior table or a fixed reshape); ${fix}`,
      { file },
    );
  }
}

/**
 * Regenerates baked prior tables for another input size from the model description: every float
 * constant that holds the description's priors at the size the model was made for (all four
 * columns, or the xy or wh pair, as Linzaer's exports split them) is replaced by the same columns
 * of the priors at the requested size. Only exact matches (to 1e-6) are touched, so a constant that
 * merely has the same length is never rewritten. Returns the names of the replaced constants.
 */
export function regeneratePriorConstants(model: Model, desc: ModelDescription, madeFor: [number, number], target: [number, number]): string[] {
  if (desc.decode.family !== 'prior') return [];
  const p = desc.decode as PriorParams;
  const oldP = priorsFor(p, madeFor[0], madeFor[1]);
  const newP = priorsFor(p, target[0], target[1]);
  const nOld = oldP.length / 4;
  const nNew = newP.length / 4;
  const column = (src: Float32Array, from: number, k: number) => {
    const n = src.length / 4;
    const out = new Float32Array(n * k);
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[i * k + c] = src[i * 4 + from + c];
    return out;
  };
  const candidates: [number, number][] = [[0, 4], [0, 2], [2, 2]];
  /** The replacement for tensor `t`, or undefined when it is not a prior table. */
  const regenerate = (t: Tensor): Tensor | undefined => {
    if (t.dtype !== 'float32' || t.dims[t.dims.length - 2] !== nOld) return undefined;
    const k = t.dims[t.dims.length - 1];
    const v = t.toFloat32();
    for (const [from, width] of candidates) {
      if (width !== k) continue;
      const want = column(oldP, from, k);
      if (want.length === v.length && want.every((x, i) => Math.abs(x - v[i]) <= 1e-6))
        return Tensor.float32(t.name, [...t.dims.slice(0, -2), nNew, k], column(newP, from, k));
    }
    return undefined;
  };
  const replaced: string[] = [];
  for (const [name, t] of model.graph.initializers) {
    const r = regenerate(t);
    if (r) {
      model.graph.initializers.set(name, r);
      replaced.push(name);
    }
  }
  for (const n of model.graph.nodes) {
    const a = n.attrs.value;
    if (n.opType !== 'Constant' || a?.type !== 'tensor') continue;
    const r = regenerate(a.value);
    if (r) {
      n.attrs.value = { type: 'tensor', value: r };
      replaced.push(n.outputs[0]);
    }
  }
  return replaced;
}
