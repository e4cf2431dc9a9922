/**
 * `fdk parity MODEL`: do the runtimes (ort, ort-wasm, ncnn, ncnn-wasm, and in headless Chromium with --browser) give the same outputs on the same inputs? `--per-layer`: where
 * do ort and ncnn start to differ? Inputs: real images preprocessed by the model's description
 * (manifest ids, files the manifest lists, `--spec ID`), the user's arrays or images (`--inputs`),
 * else seeded synthetic tensors, so any .onnx / .param runs.
 */
import { withLimitOptions } from './limit-options.js';
import { checkModelInference, checkPixels, checkThreads } from '../util/limits.js';
import type { Command } from 'commander';
import { extname, join } from 'node:path';
import { resolveDataDir } from '../util/data.js';
import { FdkError } from '../util/errors.js';
import { existsSync } from 'node:fs';
import { parseRuntimeList, RUNTIME_NAMES, withBrowserLanes } from '../runtime/index.js';
import { resolveModelSource } from '../runtime/model-source.js';
import { parityCases } from '../parity/cases.js';
import { feedsFor, parseNameMap } from '../parity/pairing.js';
import { parseInputShapes, printJson } from './output.js';
import { progressBar, progressWanted } from './progress.js';
import { printFitted } from './table.js';

interface ParityCliOptions {
  runtimes?: string;
  browser?: string;
  images?: string;
  inputs?: string;
  input?: string;
  map?: string;
  seed: string;
  maxImages?: string;
  longSide: string;
  atol?: string;
  rtol?: string;
  perLayer?: boolean;
  all?: boolean;
  ncnnParam?: string;
  spec?: string;
  int8?: string;
  preprocess?: string;
  threads: string;
  json?: boolean;
}

function num(v: string | undefined, what: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new FdkError(`bad ${what} '${v}': expected a number >= 0`);
  return n;
}

export function register(program: Command): void {
  withLimitOptions(program.command('parity <model>')) // --max-pixels, --max-memory
    .description('compare the outputs of the runtimes on the same inputs (any .onnx or .param, or a model id)')
    .option('--runtimes <list>', `comma-separated runtimes (${RUNTIME_NAMES.join(', ')})`, 'ort,ort-wasm,ncnn')
    .option('--inputs <files>', 'comma-separated .npy/.npz arrays (named after the inputs), or images with --spec')
    .option('--input <shapes>', 'synthetic inputs: shapes of dynamic inputs, [name:]1x3xHxW, comma-separated')
    .option('--seed <n>', 'seed of the synthetic inputs', '1')
    .option('--map <pairs>', 'pair outputs (and inputs) whose names differ: onnxName=ncnnName, comma-separated')
    .option('--spec <id|file>', 'model description whose preprocessing to use for images: a model id, or a description file where supported (default: MODEL\'s own)')
    .option('--preprocess <id>', 'same as --spec (older name)')
    .option('--images <dir>', 'folder of images for a described model (default: <data>/images)')
    .option('--max-images <n>', 'use only the first N images')
    .option('--long-side <list>', 'long sides for long-side (seed) models, e.g. 320,640', '320')
    .option('--atol <x>', 'absolute tolerance (default 1e-4)')
    .option('--rtol <x>', 'relative tolerance, |a-b| <= atol + rtol*|a| (default 0: max abs diff <= atol; per-layer: 1e-3 of the tensor\'s largest value)')
    .option('--per-layer', 'compare every intermediate tensor of ort and ncnn; report the first diverging layer')
    .option('--all', 'with --per-layer: print every compared layer')
    .option('--ncnn-param <file>', 'ncnn: use this .param (+ .bin beside it) instead of converting the ONNX')
    .option('--int8 <param>', 'compare this ncnn int8 model (fdk quantize) with MODEL at detection level, plus per-layer drift')
    .option('--threads <n>', 'threads per runtime', '1')
    .option('--browser <name>', 'also run ort-wasm / ncnn-wasm in headless chromium (as ort-wasm@chromium, ncnn-wasm@chromium)')
    .option('--json', 'machine-readable output')
    .action(async (model: string, o: ParityCliOptions) => {
      const threads = checkThreads(o.threads); // ncnn crashes on 0 threads (util/limits.ts)
      const map = parseNameMap(o.map);
      const runtimes = parseRuntimeList(o.runtimes);
      const src = await resolveModelSource(model);
      for (const ls of o.longSide.split(',')) if (Number(ls) > 0) checkPixels(Number(ls), Number(ls), '--long-side');
      await checkModelInference(src.path, Object.values(parseInputShapes(o.input))); // pixels and memory before any runtime starts (util/limits.ts)
      if (o.ncnnParam && extname(o.ncnnParam).toLowerCase() !== '.param') throw new FdkError('--ncnn-param: expected an ncnn .param file', { file: o.ncnnParam });
      const { cases, entry } = await parityCases(src, {
        inputs: o.inputs?.split(',').filter(Boolean),
        inputShapes: parseInputShapes(o.input),
        seed: num(o.seed, '--seed', 1),
        spec: o.spec ?? o.preprocess,
        imagesDir: o.images,
        maxImages: o.maxImages ? num(o.maxImages, '--max-images', 0) : undefined,
        longSides: o.longSide.split(',').map((s) => num(s, '--long-side', 320)),
      });
      // a bar over the loads and runs on a terminal; step-less messages (--per-layer) print above it
      const bar = progressBar({ json: o.json });
      const progress = progressWanted(o.json) ? (m: string, step?: { done: number; total: number }) => (step ? bar.update(step.done, step.total, m) : bar.log(`parity: ${m}`)) : undefined;

      if (o.int8) {
        // int8 vs fp32: detection-level agreement, not a 1e-4 tensor check (src/quantize/int8-parity.ts)
        if (!entry) throw new FdkError('--int8 compares detections: MODEL needs a description (a model id, a described file, or --spec)', { file: src.path });
        const { int8Parity, int8ParityText } = await import('../quantize/int8-parity.js');
        const { boxesDecodedFor, modelFileFor } = await import('../accuracy/pipeline.js');
        const { listImages } = await import('../parity/images.js');
        const dir = o.images ?? join(resolveDataDir()!, 'images');
        // a model id: the same fp32 file that `fdk quantize ID` quantizes (for the Ultra-Light ids the
        // ONNX without its decoding tail), so both sides have the same outputs
        const byId = !existsSync(model) && src.entry !== undefined;
        const file = byId ? await modelFileFor(entry) : { path: src.path, boxesDecoded: boxesDecodedFor(entry, src.path), origin: 'fp32' };
        const r = await int8Parity(entry, file, o.int8, listImages(dir, o.maxImages ? num(o.maxImages, '--max-images', 0) : undefined), o.longSide.split(',').map((s) => num(s, '--long-side', 320)));
        if (o.json) printJson(r);
        else printFitted(int8ParityText(r));
        if (!r.ok) process.exitCode = 1;
        return;
      }
      // engines imported on demand: --per-layer needs neither the image decoder nor the postprocessing
      const { parityText, perLayerText } = await import('../parity/format.js');
      if (o.perLayer) {
        const { runPerLayer } = await import('../parity/per-layer.js');
        const tol = { atol: num(o.atol, '--atol', 1e-4), rtol: num(o.rtol, '--rtol', 1e-3) };
        const first = cases[0];
        const feeds = first.feeds ?? { [Object.keys(src.inputs)[0]]: { data: first.pre!.tensor, dims: [...first.pre!.dims] } };
        const r = await runPerLayer(src, feedsFor(Object.keys(src.inputs), feeds, map), first.label, { tol, ncnnParam: o.ncnnParam, threads, onProgress: progress });
        bar.stop();
        if (o.json) printJson(r);
        else printFitted(perLayerText(r, o.all));
        if (!r.ok) process.exitCode = 1;
        return;
      }
      // default: a bare max abs diff <= 1e-4 per element; --rtol adds numpy.allclose's relative term
      const tol = { atol: num(o.atol, '--atol', 1e-4), rtol: num(o.rtol, '--rtol', 0) };
      const { runParity } = await import('../parity/run-parity.js');
      const r = await runParity(src, entry, cases, { runtimes: await withBrowserLanes(runtimes, o.browser), tol, threads, ncnnParam: o.ncnnParam, map, onProgress: progress });
      bar.stop();
      if (o.json) printJson(r);
      else printFitted(parityText(r));
      if (!r.ok) process.exitCode = 1;
    });
}
