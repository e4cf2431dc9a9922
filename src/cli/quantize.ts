/**
 * `fdk quantize MODEL --to ncnn-int8 --calib DIR|LIST`: ncnn int8 .param/.bin + .table
 * (src/quantize). MODEL is a manifest id (its fdk model file), an .onnx or an fp32 ncnn .param;
 * with a path, --model says how to preprocess the calibration images.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { getModel, loadManifest } from '../models/manifest.js';
import { FdkError } from '../util/errors.js';
import { outcomeNote, printJson } from './output.js';
import type { CalibMethod } from '../quantize/thresholds.js';
import { fitTable, printFitted } from './table.js';

interface Opts {
  to: string;
  calib?: string;
  table?: string;
  method: string;
  perChannel: boolean;
  model?: string;
  longSide: string;
  limit?: string;
  keepFp32?: string;
  autoKeep?: string;
  output?: string;
  out: string;
  force?: boolean;
  json?: boolean;
}

const posInt = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new FdkError(`bad ${flag} '${v}': expected a non-negative integer`);
  return n;
};

export function register(program: Command): void {
  program
    .command('quantize <model>')
    .description('quantize a model to ncnn int8 (ncnn2table/ncnn2int8 formats) from calibration images')
    .requiredOption('--to <format>', 'ncnn-int8')
    .option('--calib <dir|list>', 'calibration images: a folder, or a list file (e.g. <data>/wider/calib-200/list.txt)')
    .option('--table <file>', 'use this calibration table (ncnn2table format) instead of calibrating')
    .option('--method <m>', "activation calibration: kl (ncnn2table) | aciq | minmax | percentile (default, measured best on average) | eq (kl, then each layer's scale searched for the best int8-vs-fp32 cosine, as ncnn2table eq)", 'percentile')
    .option('--per-channel', 'weight scales per output channel (default)')
    .option('--no-per-channel', 'one weight scale per layer')
    .option('--model <id>', 'manifest model whose preprocessing the calibration images get (when MODEL is a path)')
    .option('--long-side <n>', 'long side of the calibration inputs (seed models)', '320')
    .option('--limit <n>', 'use only the first N calibration images')
    .option('--keep-fp32 <layers>', 'comma-separated layers to keep in fp32 (mixed precision)')
    .option('--auto-keep <n>', 'also keep in fp32 the N layers whose fp32 copy brings the outputs closest to fp32 (measured one layer at a time)', '0')
    .option('-o, --output <prefix>', 'writes PREFIX.param, PREFIX.bin, PREFIX.table (default <out>/<model>-int8-<method>)')
    .option('--out <dir>', 'output folder for the default names', 'fdk-out')
    .option('--force', 'replace an existing output that holds a different model')
    .option('--json', 'machine-readable output')
    .action(async (model: string, o: Opts) => {
      if (o.to !== 'ncnn-int8') throw new FdkError(`unknown --to '${o.to}' (expected ncnn-int8)`);
      const { CALIB_METHODS } = await import('../quantize/thresholds.js');
      if (!(CALIB_METHODS as readonly string[]).includes(o.method)) throw new FdkError(`unknown --method '${o.method}' (expected ${CALIB_METHODS.join(', ')})`);
      const longSide = posInt(o.longSide, '--long-side')!;
      if (!longSide) throw new FdkError(`bad --long-side '${o.longSide}': expected a positive integer`);
      const ids = loadManifest().map((m) => m.id);
      const isId = !existsSync(model) && (ids.includes(model) || /^ulfd-(slim|rfb)$/.test(model));
      if (!isId && !existsSync(model)) throw new FdkError(`no such file (and not a model id: ${ids.join(', ')})`, { file: model });
      const entry = isId ? getModel(model, longSide) : o.model ? getModel(o.model, longSide) : undefined;
      if (!entry) throw new FdkError(`--model ID is needed to preprocess calibration images for a model file (ids: ${ids.join(', ')})`, { file: model });
      let path = model;
      if (isId) {
        const { modelFileFor } = await import('../accuracy/pipeline.js');
        path = (await modelFileFor(entry)).path;
      }
      const { quantizeModel, defaultPrefix } = await import('../quantize/quantize.js');
      const r = await quantizeModel({
        model: path,
        entry,
        calib: o.calib,
        table: o.table,
        method: o.method as CalibMethod,
        perChannel: o.perChannel,
        longSide,
        limit: posInt(o.limit, '--limit') || undefined,
        keepFp32: o.keepFp32?.split(',').map((s) => s.trim()).filter(Boolean),
        autoKeep: posInt(o.autoKeep, '--auto-keep'),
        out: o.output ?? defaultPrefix(isId ? `${entry.id}-${longSide}` : model, o.method, o.out),
        force: !!o.force,
        log: (s) => !o.json && process.stderr.isTTY && process.stderr.write(`${s}\n`),
      });
      if (o.json) return printJson(r);
      const f = (v: number | undefined, d = 4) => (v === undefined ? '' : v.toFixed(d));
      const rows = r.layers.map((l) => [l.name, l.type, l.precision, f(l.absmax), f(l.threshold), f(l.scale, 2), f(l.outputGain, 5)]);
      const R = { align: 'right' } as const;
      printFitted(fitTable(['layer', 'type', 'precision', 'absmax', 'threshold', 'scale', 'fp32 gain'], rows, [{}, {}, {}, R, R, R, R]));
      const n8 = r.layers.filter((l) => l.precision === 'int8').length;
      printFitted(
        `${r.param}${outcomeNote(r.outcome)}\n${r.bin}\n${r.table}\n${n8} of ${r.layers.length} layers int8 (method ${r.method}, ${r.calibImages} calibration images${r.skippedImages ? `, ${r.skippedImages} unreadable skipped` : ''}); ` +
          `.bin ${r.bytes.int8Bin} bytes = ${(100 * r.bytes.ratio).toFixed(1)}% of fp32 (${r.bytes.fp32Bin})${r.keptFp32.length ? `; fp32: ${r.keptFp32.join(', ')}` : ''}`,
      );
    });
}
