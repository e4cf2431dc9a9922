/** `fdk analyze MODEL`: params, MACs/FLOPs, weight bytes and peak activation memory per layer. */
import type { Command } from 'commander';
import { analyzeFile, CONVENTIONS, type Convention } from '../analyze/index.js';
import { renderCsv, renderMarkdown, renderTable } from '../analyze/format.js';
import { FdkError } from '../util/errors.js';
import { parseInputShapes, printJson } from './output.js';

interface AnalyzeCliOptions {
  input?: string;
  convention: string;
  foldBn?: boolean;
  json?: boolean;
  md?: boolean;
  csv?: boolean;
  layers?: boolean; // --no-layers sets false
}

export function register(program: Command): void {
  program
    .command('analyze <model>')
    .description('params, MACs and FLOPs (= 2 x MACs) per layer, weight bytes, peak activation memory (.onnx, or ncnn .param)')
    .option('--input <shapes>', 'fix input shapes: [name:]1x3xHxW, comma-separated for several inputs (needed for symbolic dims)')
    .option('--convention <name>', `counting rules: ${CONVENTIONS.join(' | ')}`, 'thop')
    .option('--fold-bn', 'count BatchNormalization folded into the preceding conv (as runtimes execute it)')
    .option('--json', 'JSON report (totals.params/macs/flops and a layers array)')
    .option('--md', 'Markdown tables')
    .option('--csv', 'CSV, one row per layer and a TOTAL row')
    .option('--no-layers', 'table/Markdown: only the per-op summary and totals')
    .action(async (model: string, opts: AnalyzeCliOptions) => {
      const convention = opts.convention.toLowerCase() as Convention;
      if (!CONVENTIONS.includes(convention)) throw new FdkError(`unknown --convention '${opts.convention}' (expected ${CONVENTIONS.join(' or ')})`);
      if ([opts.json, opts.md, opts.csv].filter(Boolean).length > 1) throw new FdkError('choose one of --json, --md, --csv');
      const report = await analyzeFile(model, { convention, inputShapes: parseInputShapes(opts.input), foldBn: opts.foldBn });
      if (opts.json) printJson(report);
      else if (opts.csv) process.stdout.write(renderCsv(report));
      else if (opts.md) process.stdout.write(renderMarkdown(report, { layers: opts.layers }));
      else process.stdout.write(renderTable(report, { layers: opts.layers }) + '\n');
    });
}
