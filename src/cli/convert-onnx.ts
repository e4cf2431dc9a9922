/**
 * `fdk convert WEIGHTS.pth --arch ID --to onnx`: PyTorch checkpoint -> ONNX without PyTorch.
 * `fdk convert MODEL.onnx --to onnx`: the ONNX cleaned up for deployment (src/onnx/clean.ts).
 * Default output: `./fdk-out/<checkpoint name>[-foldbn][-nopost][-HxW][-opsetN].onnx`
 * (`<name>.clean[-HxW].onnx` for an ONNX input), or that name in `--out DIR`; `-o` chooses the
 * file. Written atomically; identical bytes are left alone, a different model needs --force.
 */
import { basename, extname, join } from 'node:path';
import { exportOnnxWithSummary } from '../convert/onnx-export.js';
import { ARCH_IDS } from '../convert/builders/index.js';
import { checkpointName } from '../convert/pytorch/checkpoint.js';
import { loadOnnx, saveOnnx } from '../onnx/io.js';
import { validateOnnx } from '../onnx/validate.js';
import { cleanOnnx } from '../onnx/clean.js';
import { FdkError } from '../util/errors.js';
import { outputDir, taggedName, writeOutputs } from '../util/fs.js';
import type { ConvertCliOptions, ConvertStep } from './convert.js';
import { outcomeNote, parseInputShapes, printJson } from './output.js';
import { printFitted } from './table.js';
import { thousands } from '../util/thousands.js';

/** `step` marks the progress of a terminal's bar, `done` removes the bar before the summary. */
export async function convertToOnnxCommand(input: string, opts: ConvertCliOptions, step: ConvertStep = () => {}, done: () => void = () => {}): Promise<void> {
  if (extname(input).toLowerCase() === '.onnx') return cleanOnnxCommand(input, opts, step, done);
  if (!opts.arch) throw new FdkError(`--arch is required to convert a PyTorch checkpoint (one of: ${ARCH_IDS.join(', ')})`, { file: input });
  let shape: number[] | undefined;
  if (opts.input?.length) {
    const shapes = parseInputShapes(opts.input);
    const names = Object.keys(shapes);
    if (names.length !== 1 || (names[0] !== '' && names[0] !== 'input')) throw new FdkError(`--input: the export has one input 'input' (got ${names.map((n) => n || '<unnamed>').join(', ')})`);
    shape = shapes[names[0]];
  }
  const opset = opts.opset === undefined ? undefined : Number(opts.opset);
  if (opts.opset !== undefined && !Number.isInteger(opset)) throw new FdkError(`bad --opset '${opts.opset}': expected an integer`);
  step('exporting the checkpoint');
  const { model, summary } = exportOnnxWithSummary({ weights: input, arch: opts.arch, input: shape, foldBn: opts.foldBn, opset, postprocess: opts.postprocess });
  const tags = [opts.foldBn && 'foldbn', opts.postprocess === false && 'nopost', shape && shape.slice(2).join('x'), opset !== undefined && opset !== 13 && `opset${opset}`];
  const output = opts.output ?? join(outputDir(opts.out), taggedName(checkpointName(input), tags, '.onnx'));
  step('writing');
  const { outcome } = await writeOutputs([output], ([tmp]) => saveOnnx(model, tmp), { force: opts.force });
  done();
  if (opts.json) return printJson({ ...summary, output, outcome });
  const shp = (d: (number | string)[]) => d.join('x');
  printFitted(`exported ${summary.arch} (${summary.checkpointFormat} checkpoint) -> ${output}${outcomeNote(outcome)}`);
  printFitted(`  opset ${summary.opset}, ${summary.nodes} nodes, ${thousands(summary.params)} weight values, BN ${summary.foldBn ? 'folded into conv' : 'kept as BatchNormalization'}`);
  printFitted(`  input input ${shp(summary.input)}; outputs ${summary.outputs.map((o) => `${o.name} ${shp(o.shape)}`).join(', ')}`);
}

/** ONNX in, ONNX out: weight inputs dropped, constants folded, unused initializers removed. */
async function cleanOnnxCommand(input: string, opts: ConvertCliOptions, step: ConvertStep, done: () => void): Promise<void> {
  if (opts.arch) throw new FdkError('--arch applies to PyTorch checkpoints; an .onnx input is cleaned up as it is', { file: input });
  if (opts.foldBn || opts.postprocess === false || (opts.opset !== undefined && opts.opset !== '13'))
    throw new FdkError('--fold-bn, --no-postprocess and --opset apply to PyTorch checkpoints, not to an .onnx input', { file: input });
  step('reading and validating');
  const model = loadOnnx(input);
  const inputShapes = opts.input?.length ? parseInputShapes(opts.input) : undefined;
  validateOnnx(model, { inputShapes }); // structure checked before any pass (onnx/validate.ts)
  let cleaned: ReturnType<typeof cleanOnnx>;
  step('cleaning up');
  try {
    cleaned = cleanOnnx(model, { inputShapes });
  } catch (e) {
    if (e instanceof FdkError) throw e;
    throw new FdkError(`cannot clean up the model: ${String((e as Error).message ?? e).split('\n')[0]}`, { file: input });
  }
  const shapeTag = inputShapes && Object.values(inputShapes).map((d) => d.slice(2).join('x')).join('-');
  const output = opts.output ?? join(outputDir(opts.out), taggedName(`${basename(input).replace(/\.onnx$/i, '')}.clean`, [shapeTag], '.onnx'));
  const { outcome } = await writeOutputs([output], ([tmp]) => saveOnnx(cleaned.model, tmp), { force: opts.force });
  done();
  const s = cleaned.summary;
  if (opts.json) return printJson({ input, output, outcome, ...s });
  printFitted(`cleaned ${input} -> ${output}${outcomeNote(outcome)}`);
  printFitted(`  ${s.droppedInputs} weight input(s) dropped, ${s.foldedNodes} node(s) folded into constants, ${s.prunedInitializers} unused initializer(s) removed`);
  printFitted(`  nodes ${s.nodesBefore} -> ${s.nodesAfter}; inputs: ${s.inputs.join(', ')}`);
}
