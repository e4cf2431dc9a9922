/**
 * `fdk convert INPUT --to onnx|ncnn`: one command, two converters.
 *   .pth + --arch  -> ONNX (src/convert/pytorch, builders in src/convert/builders)
 *   .onnx --to onnx -> the same ONNX cleaned up for deployment (src/onnx/clean.ts)
 *   .onnx --to ncnn -> ncnn .param/.bin (src/convert/ncnn)
 */
import type { Command } from 'commander';
import { FdkError } from '../util/errors.js';
import { progressBar } from './progress.js';

/** Marks the start of the next step of a conversion (the progress bar of a terminal). */
export type ConvertStep = (label: string) => void;

export interface ConvertCliOptions {
  to: string;
  output?: string;
  out?: string;
  force?: boolean;
  arch?: string;
  input?: string;
  foldBn?: boolean;
  opset?: string;
  fp16?: boolean;
  optimize?: boolean; // --no-optimize sets false
  json?: boolean;
  postprocess?: boolean; // --no-postprocess (Ultra-Light tail)
  spec?: string; // model description to write beside an ncnn conversion
}

export function register(program: Command): void {
  program
    .command('convert <input>')
    .description('convert a PyTorch checkpoint to ONNX (--arch), clean up an ONNX model (--to onnx), or convert it to ncnn')
    .requiredOption('--to <format>', 'onnx | ncnn')
    .option('-o, --output <path>', 'output file (onnx) or prefix (ncnn: PREFIX.param / PREFIX.bin)')
    .option('--out <dir>', 'folder for the output under its default name (default ./fdk-out)')
    .option('--force', 'replace an existing output that holds a different model')
    .option('--arch <id>', 'architecture of a .pth checkpoint: slim, rfb, mnet0.25, ulfd-slim, ulfd-rfb (ulfd-*-320/640)')
    .option('--input <shapes>', 'input shape [name:]1x3xHxW, comma-separated for several inputs (onnx export: fixed size, default dynamic H/W; onnx clean-up: fold shape glue for this size)')
    .option('--fold-bn', 'fold BatchNormalization into the preceding convolution (onnx export)')
    .option('--opset <n>', 'ONNX opset of the export', '13')
    .option('--no-postprocess', 'Ultra-Light: export without the prior-decoding tail')
    .option('--fp16', 'ncnn: store weights as fp16')
    .option('--spec <description.json>', 'ncnn: the model description to write beside the .param (default: the one embedded in the ONNX, its sidecar, or the manifest)')
    .option('--no-optimize', 'ncnn: no fusion passes (layer sequence like onnx2ncnn)')
    .option('--json', 'machine-readable summary')
    .action(async (input: string, opts: ConvertCliOptions) => {
      const to = opts.to.toLowerCase();
      if (opts.output && opts.out) throw new FdkError('give either -o (a file) or --out (a folder), not both');
      const bar = progressBar({ json: opts.json });
      const stepper = (total: number): ConvertStep => {
        let done = 0;
        return (label) => bar.update(done++, total, label);
      };
      if (to === 'onnx') {
        const { convertToOnnxCommand } = await import('./convert-onnx.js');
        await convertToOnnxCommand(input, opts, stepper(2), () => bar.stop());
      } else if (to === 'ncnn') {
        const { convertToNcnnCommand } = await import('./convert-ncnn.js');
        await convertToNcnnCommand(input, opts, stepper(4), () => bar.stop());
      } else throw new FdkError(`unknown --to '${opts.to}' (expected onnx or ncnn)`);
    });
}
