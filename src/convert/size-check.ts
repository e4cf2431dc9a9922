/**
 * "Never a silent wrong model": a conversion asked for an input size other than the one the
 * model's constants were computed for (a baked prior table, a fixed Reshape target) must stop, not
 * write a model that runs and gives garbage. Shape inference at the requested size finds it: a
 * constant that no longer broadcasts against the activations (e.g. 4,420 priors against 17,640
 * anchors at 480x640), or a Reshape whose fixed target no longer fits. The error names the node,
 * the dims, the size the model was made for, and what to do instead.
 */
import type { Model } from '../onnx/model.js';
import { runtimeInputs } from '../onnx/model.js';
import { inferShapes } from '../onnx/shape-inference.js';
import { FdkError } from '../util/errors.js';

const MISFIT = /(do not broadcast|cannot reshape)/;

/** Throws a one-line FdkError when the model cannot run at `inputShapes`; other inference problems are left to the converter. */
export function checkInputSizeFits(model: Model, inputShapes: Record<string, number[]>, file: string, opts: { madeFor?: number[] } = {}): void {
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
