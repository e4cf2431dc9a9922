/**
 * `fdk convert WEIGHTS.pth --arch ID --to onnx`: PyTorch checkpoint -> ONNX without PyTorch.
 * Default output: `.fdk/exports/<checkpoint name>.onnx`; `-o` chooses the file (written atomically).
 */
import { basename, extname } from 'node:path';
import { exportOnnxWithSummary } from '../convert/onnx-export.js';
import { ARCH_IDS } from '../convert/builders/index.js';
import { saveOnnx } from '../onnx/io.js';
import { workDir } from '../util/data.js';
import { FdkError } from '../util/errors.js';
import type { ConvertCliOptions } from './convert.js';
import { parseInputShapes, printJson } from './output.js';

export async function convertToOnnxCommand(input: string, opts: ConvertCliOptions): Promise<void> {
  if (!opts.arch) throw new FdkError(`--arch is required to convert a PyTorch checkpoint (one of: ${ARCH_IDS.join(', ')})`, { file: input });
  if (extname(input).toLowerCase() === '.onnx') throw new FdkError('is already ONNX; --to onnx converts PyTorch checkpoints (.pth)', { file: input });
  let shape: number[] | undefined;
  if (opts.input?.length) {
    const shapes = parseInputShapes(opts.input);
    const names = Object.keys(shapes);
    if (names.length !== 1 || (names[0] !== '' && names[0] !== 'input')) throw new FdkError(`--input: the export has one input 'input' (got ${names.map((n) => n || '<unnamed>').join(', ')})`);
    shape = shapes[names[0]];
  }
  const opset = opts.opset === undefined ? undefined : Number(opts.opset);
  if (opts.opset !== undefined && !Number.isInteger(opset)) throw new FdkError(`bad --opset '${opts.opset}': expected an integer`);
  const { model, summary } = exportOnnxWithSummary({ weights: input, arch: opts.arch, input: shape, foldBn: opts.foldBn, opset, postprocess: opts.postprocess });
  const output = opts.output ?? workDir('exports', `${basename(input).replace(/\.(pth|pt|tar|ckpt)$/i, '')}.onnx`);
  saveOnnx(model, output);
  if (opts.json) return printJson({ ...summary, output });
  const shp = (d: (number | string)[]) => d.join('x');
  console.log(`exported ${summary.arch} (${summary.checkpointFormat} checkpoint) -> ${output}`);
  console.log(`  opset ${summary.opset}, ${summary.nodes} nodes, ${summary.params.toLocaleString('en-US')} weight values, BN ${summary.foldBn ? 'folded into conv' : 'kept as BatchNormalization'}`);
  console.log(`  input input ${shp(summary.input)}; outputs ${summary.outputs.map((o) => `${o.name} ${shp(o.shape)}`).join(', ')}`);
}
