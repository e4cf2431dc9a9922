/**
 * `fdk accuracy`: WIDER FACE val AP of the detectors at long side 320/640, reproduced from the
 * checkpoints on any runtime, printed in the seed README's layout beside the published numbers and
 * the re-run of the original pipelines.
 */
import { checkPixels } from '../util/limits.js';
import { withLimitOptions } from './limit-options.js';
import { int8Override, withInt8Options } from './int8-options.js';
import { RUNTIME_NAMES } from '../runtime/index.js';
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { ACCURACY_LONG_SIDES, ACCURACY_MODELS, runAccuracy, type AccuracyResult, type AccuracyRow } from '../accuracy/run.js';
import { CITED_ONLY, type Ap3 } from '../accuracy/targets.js';
import { FdkError } from '../util/errors.js';
import { printJson } from './output.js';
import { progressBar } from './progress.js';
import { fitTable, printFitted, type Column } from './table.js';

interface Opts {
  model?: string;
  modelFile?: string;
  spec?: string;
  arch?: string;
  weights?: string;
  longSide?: string;
  widerDir?: string;
  subset?: string;
  runtime?: string;
  int8Method?: string;
  int8AutoKeep?: string;
  jobs?: string;
  out?: string;
  gt?: string;
  check?: boolean;
  json?: boolean;
}

const list = (s: string | undefined, def: readonly string[]) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : [...def]);

export function register(program: Command): void {
  withInt8Options(withLimitOptions(program.command('accuracy'))) // --max-pixels, --max-memory; --int8-method, --int8-auto-keep
    .description('reproduce the WIDER FACE val table (Easy/Medium/Hard AP) from the checkpoints; default: the val-mini subset')
    .option('--model <ids>', `comma-separated models (${ACCURACY_MODELS.join(',')})`, ACCURACY_MODELS.join(','))
    .option('--model-file <file>', 'evaluate this model file (.onnx; .param with --runtime ncnn) with its description instead of manifest models')
    .option('--spec <description.json>', 'model description of --model-file (default: embedded in the ONNX, NAME.fdk.json beside it, or the manifest)')
    .option('--arch <id>', 'with --weights: evaluate a checkpoint of a known architecture (slim, rfb, mnet0.25, ulfd-slim-320, ...)')
    .option('--weights <file.pth>', 'the checkpoint for --arch (exported to .fdk/exports first)')
    .option('--long-side <n>', 'comma-separated long sides (Ultra-Light: 320 / 640 pick the weights and fixed size)', ACCURACY_LONG_SIDES.join(','))
    .option('--wider-dir <dir>', 'WIDER_val folder (event folders, or images/ inside); default: <data>/wider/val-mini')
    .option('--subset <list>', 'only the images of this list file (event/name.jpg lines)')
    .option('--runtime <name>', `${RUNTIME_NAMES.join(' | ')} | ncnn-int8 (fdk quantize on calib-200)`, 'ort')
    .option('--jobs <n>', 'parallel workers over images (default: number of cores)')
    .option('--out <dir>', 'where the WIDER prediction folders go (default .fdk/preds/<row>)')
    .option('--gt <dir>', 'folder with the ground-truth .mat files (default <data>/wider/ground_truth)')
    .option('--check', `exit 1 if a row is further than ±0.002 from the re-run of the original pipeline`)
    .option('--json', 'machine-readable output')
    .action(async (o: Opts) => {
      const jobs = o.jobs === undefined ? Math.max(1, availableParallelism()) : Number(o.jobs);
      if (!Number.isInteger(jobs) || jobs < 1) throw new FdkError(`bad --jobs '${o.jobs}': expected a positive integer`);
      const longSides = list(o.longSide, ACCURACY_LONG_SIDES.map(String)).map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n <= 0) throw new FdkError(`bad --long-side '${s}': expected e.g. 320,640`);
        checkPixels(n, n, '--long-side'); // bounded input size (util/limits.ts)
        return n;
      });
      const int8 = int8Override(o, o.runtime === 'ncnn-int8');
      const bar = progressBar({ json: o.json, unit: 'images' });
      let rowTotal = 0;
      let result: AccuracyResult;
      try {
        result = await runAccuracy({
          models: list(o.model, ACCURACY_MODELS),
          modelFile: o.modelFile,
          spec: o.spec,
          arch: o.arch,
          weights: o.weights,
          longSides,
          widerDir: o.widerDir,
          subset: o.subset,
          runtime: o.runtime,
          int8,
          jobs,
          outDir: o.out,
          gtDir: o.gt,
          onRowStart: (row, total) => {
            rowTotal = total;
            bar.update(0, total, row);
          },
          onProgress: ({ done, row }) => bar.update(done, rowTotal, row),
        });
      } finally {
        bar.stop();
      }
      if (o.json) printJson(result);
      else printFitted(formatAccuracy(result).trimEnd());
      if (o.check && result.rows.some((r) => r.withinTolerance === false)) process.exitCode = 1;
    });
}

const f3 = (a?: Ap3) => (a ? `${a.easy.toFixed(3)} / ${a.medium.toFixed(3)} / ${a.hard.toFixed(3)}` : '–');
const f4 = (v: number) => v.toFixed(4);
/** A signed change at 4 decimals (the tolerance is 0.002); one that rounds to zero prints as 0.0000, not -0.0000. */
const sgn = (v: number) => {
  const s = Math.abs(v).toFixed(4);
  return Number(s) === 0 ? s : `${v > 0 ? '+' : '−'}${s}`;
};

/**
 * The AP table keeps the seed README's columns whole (titles, triples); the differences from the
 * re-run and the times go into a second table, so each fits 120 columns.
 */
const K: Column = { overflow: 'keep' };
const N: Column = { align: 'right' };
const AP_COLUMNS: Column[] = [K, N, N, N, K, K];
const DIFF_COLUMNS: Column[] = [K, N, N, N, K, N];

/** Display order of the seed README: the originals first, then "our" models. */
const ORDER = ['ulfd-slim', 'ulfd-rfb', 'slim', 'rfb', 'mnet0.25'];

export function formatAccuracy(r: AccuracyResult): string {
  const setName = r.set === 'val-mini' ? `val-mini (${r.images} of 3226 images)` : r.set === 'full' ? `full val (${r.images} images)` : `subset ${r.subset} (${r.images} images)`;
  const rerunName = r.set === 'full' ? 're-run (original)' : r.set === 'val-mini' ? 're-run on val-mini' : 're-run';
  let out = `WIDER FACE ${setName}, runtime ${r.runtime}, ${r.jobs} job(s). AP Easy / Medium / Hard.\n`;
  // int8 models are calibrated on wider/calib-200 (val images): a full-val AP is not free of them
  if (r.runtime === 'ncnn-int8' && r.set !== 'val-mini') out += 'int8 calibrated on the 200 images of wider/calib-200 (WIDER val): this set includes them unless a subset excludes them.\n';
  // one line per row: the recipe decides the int8 loss (and a line stays within 120 columns)
  for (const x of r.rows) if (x.int8) out += `int8 recipe of ${x.row}: ${x.int8.label} (${x.int8.from}).\n`;
  const sides = [...new Set(r.rows.map((x) => x.longSide))];
  for (const ls of sides) {
    const rows = r.rows.filter((x) => x.longSide === ls).sort((a, b) => ORDER.indexOf(a.model) - ORDER.indexOf(b.model));
    const cells: string[][] = [];
    // the seed table's cited-only rows belong beside the seed table's models, not beside a user's model
    if ((ls === 320 || ls === 640) && rows.some((x) => x.published))
      for (const c of CITED_ONLY) cells.push([c.title, '–', '–', '–', f3(c.ap[ls]), 'cited only']);
    for (const x of rows) cells.push(apCells(x));
    out += `\nLong side ${ls}\n${fitTable(['method', 'Easy', 'Medium', 'Hard', 'published (seed)', rerunName], cells, AP_COLUMNS)}\n`;
    const diffs = rows.map((x) => [x.title, ...(x.diff ? [sgn(x.diff.easy), sgn(x.diff.medium), sgn(x.diff.hard)] : ['–', '–', '–']), x.withinTolerance === undefined ? '–' : x.withinTolerance ? 'ok' : 'OFF', `${x.seconds.toFixed(1)} s, ${x.imagesPerSecond.toFixed(1)} img/s`]);
    out += `${fitTable(['method', 'Δ Easy', 'Δ Medium', 'Δ Hard', `within ±${r.tolerance}`, 'time'], diffs, DIFF_COLUMNS)}\n`;
  }
  const uf = r.rows.filter((x) => x.publishedNow);
  if (uf.length) out += `\nUltra-Light rows: the seed cites an older Ultra-Light release; Linzaer's README now gives ${uf.map((x) => `${x.row} ${f3(x.publishedNow)}`).join(', ')}.\n`;
  const judged = r.rows.filter((x) => x.withinTolerance !== undefined);
  if (judged.length) {
    const ok = judged.filter((x) => x.withinTolerance).length;
    out += `${ok} of ${judged.length} rows within ±${r.tolerance} of the re-run of the original pipelines.\n`;
  }
  out += formatThroughput(r);
  out += `Predictions: ${r.rows.length ? r.rows[0].predDir.replace(/[^/]+$/, '<row>') : '-'}\n`;
  return out;
}

/** images/s per row and where a worker's time per image goes (sharp's decode overlaps the previous image's model, the addon's runs in turn). */
export function formatThroughput(r: AccuracyResult): string {
  if (!r.rows.length) return '';
  const ms = (v: number) => v.toFixed(2);
  const decode = r.decoder === 'sharp' ? 'decode (sharp, overlapped)' : 'decode (libjpeg-turbo)';
  let out = `Throughput, ${r.jobs} job(s); mean ms per image in a worker: ${decode} / preprocess / inference /\n  postprocess / WIDER text:\n`;
  for (const x of r.rows) {
    const s = x.split;
    out += `  ${x.row.padEnd(15)} ${x.imagesPerSecond.toFixed(1).padStart(6)} images/s  ${ms(s.decodeMs)} / ${ms(s.preprocessMs)} / ${ms(s.inferenceMs)} / ${ms(s.postprocessMs)} / ${ms(s.formatMs)}  (writing ${x.writeSeconds.toFixed(2)} s, eval ${x.evalSeconds.toFixed(2)} s)\n`;
  }
  return out;
}

function apCells(x: AccuracyRow): string[] {
  return [x.title, f4(x.ap.easy), f4(x.ap.medium), f4(x.ap.hard), f3(x.published), x.rerun ? `${f4(x.rerun.easy)} / ${f4(x.rerun.medium)} / ${f4(x.rerun.hard)}` : '–'];
}
