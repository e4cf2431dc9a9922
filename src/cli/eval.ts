/** `fdk eval PRED_DIR`: WIDER FACE val AP (easy/medium/hard) of a WIDER-format prediction folder. */
import type { Command } from 'commander';
import { evaluateWider, type WiderResult } from '../accuracy/wider/index.js';
import type { Protocol } from '../accuracy/wider/evaluate.js';
import { FdkError } from '../util/errors.js';
import { printJson } from './output.js';
import { fitTable, printFitted } from './table.js';

interface EvalOpts {
  gt?: string;
  subset?: string;
  protocol: string;
  json?: boolean;
}

function printTable(r: WiderResult, predDir: string): void {
  const rows = [
    ['AP', r.easy.toFixed(10), r.medium.toFixed(10), r.hard.toFixed(10)],
    ['faces', String(r.faces.easy), String(r.faces.medium), String(r.faces.hard)],
  ];
  printFitted(`WIDER FACE val: ${predDir}`);
  printFitted(`${r.images} images${r.subset ? ` (subset ${r.subset})` : ''}, protocol ${r.protocol}, IoU 0.5, 1000 thresholds`);
  printFitted(fitTable(['', 'Easy', 'Medium', 'Hard'], rows, [{}, { align: 'right' }, { align: 'right' }, { align: 'right' }]));
}

export function register(program: Command): void {
  program
    .command('eval <predDir>')
    .description('WIDER FACE val AP (easy/medium/hard) of a prediction folder (<event>/<image>.txt), as the official evaluator')
    .option('--gt <dir>', 'ground-truth folder with wider_face_val.mat and wider_{easy,medium,hard}_val.mat (default <data>/wider/ground_truth)')
    .option('--subset <list>', 'only the images listed (event/name.jpg per line) count; scores normalised over their predictions')
    .option('--protocol <p>', "python (WiderFace-Evaluation) or matlab (official tools: boxes sorted by score)", 'python')
    .option('--json', 'machine-readable output: {easy, medium, hard, pr, images, missing, ...}')
    .action((predDir: string, opts: EvalOpts) => {
      if (opts.protocol !== 'python' && opts.protocol !== 'matlab')
        throw new FdkError(`--protocol must be python or matlab, got '${opts.protocol}'`);
      const r = evaluateWider(predDir, { gtDir: opts.gt, subset: opts.subset, protocol: opts.protocol as Protocol });
      if (r.missing > 0)
        process.stderr.write(
          `fdk: warning: ${r.missing} of ${r.images} prediction files missing, counted as zero detections (e.g. ${r.missingExamples.join(', ')})\n`,
        );
      for (const w of r.warnings) process.stderr.write(`fdk: warning: ${w}\n`);
      if (opts.json) printJson(r);
      else printTable(r, predDir);
    });
}
