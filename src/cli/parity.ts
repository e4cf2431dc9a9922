/** `fdk parity MODEL`: do ort, wasm and ncnn give the same outputs on real images? `--per-layer`: where do they start to differ? */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { FdkError } from '../util/errors.js';
import { resolveDataDir } from '../util/data.js';
import { parseRuntimeList } from '../runtime/index.js';
import { resolveModelSource, type ModelSource } from '../runtime/model-source.js';
import { allFileRefs, getModel, loadManifest, type ModelEntry } from '../models/manifest.js';
import { listImages, parityInputs } from '../parity/images.js';
import { runParity } from '../parity/run-parity.js';
import { runPerLayer } from '../parity/per-layer.js';
import { parityText, perLayerText } from '../parity/format.js';
import { interactive, printJson } from './output.js';

interface ParityCliOptions {
  runtimes?: string;
  images?: string;
  maxImages?: string;
  longSide: string;
  atol?: string;
  rtol?: string;
  perLayer?: boolean;
  all?: boolean;
  ncnnParam?: string;
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

/** The manifest entry that says how to preprocess: the model id, --preprocess, or the entry owning the file. */
function preprocessingEntry(src: ModelSource, explicit?: string): ModelEntry {
  if (explicit) return getModel(explicit);
  if (src.entry) return src.entry;
  const data = resolveDataDir(undefined, { required: false });
  if (data) {
    const abs = resolve(src.path);
    for (const m of loadManifest()) if (allFileRefs(m).some(([, ref]) => resolve(data, ref.path) === abs)) return m;
  }
  throw new FdkError(`cannot tell how to preprocess images for this model file; pass --preprocess ID (one of: ${loadManifest().map((m) => m.id).join(', ')})`, { file: src.path });
}

export function register(program: Command): void {
  program
    .command('parity <model>')
    .description('compare the outputs of ort, wasm and ncnn on the same preprocessed real images')
    .option('--runtimes <list>', 'comma-separated runtimes (ort, wasm, ncnn)', 'ort,wasm,ncnn')
    .option('--images <dir>', 'folder of images (default: <data>/images)')
    .option('--max-images <n>', 'use only the first N images')
    .option('--long-side <list>', 'long sides for long-side (seed) models, e.g. 320,640', '320')
    .option('--atol <x>', 'absolute tolerance (default 1e-4)')
    .option('--rtol <x>', 'relative tolerance, |a-b| <= atol + rtol*|a| (default 0: max abs diff <= atol; per-layer: 1e-3 of the tensor\'s largest value)')
    .option('--per-layer', 'compare every intermediate tensor of ort and ncnn; report the first diverging layer')
    .option('--all', 'with --per-layer: print every compared layer')
    .option('--ncnn-param <file>', 'ncnn: use this .param (+ .bin beside it) instead of converting the ONNX')
    .option('--int8 <param>', 'compare this ncnn int8 model (fdk quantize) with MODEL at detection level, plus per-layer drift')
    .option('--preprocess <id>', 'manifest model whose preprocessing to use (default: MODEL\'s own)')
    .option('--threads <n>', 'threads per runtime', '1')
    .option('--json', 'machine-readable output')
    .action(async (model: string, o: ParityCliOptions) => {
      const threads = num(o.threads, '--threads', 1);
      const src = await resolveModelSource(model);
      const entry = preprocessingEntry(src, o.preprocess);
      const dir = o.images ?? resolve(resolveDataDir()!, 'images');
      const maxImages = o.maxImages ? num(o.maxImages, '--max-images', 0) : undefined;
      const longSides = o.longSide.split(',').map((s) => num(s, '--long-side', 320));
      const progress = interactive() ? (m: string) => process.stderr.write(`parity: ${m}\n`) : undefined;

      if (o.int8) {
        // int8 vs fp32: detection-level agreement, not a 1e-4 tensor check (src/quantize/int8-parity.ts)
        const { int8Parity, int8ParityText } = await import('../quantize/int8-parity.js');
        const { onnxDecodesBoxes } = await import('../accuracy/pipeline.js');
        const file = { path: src.path, boxesDecoded: entry.family === 'ultra-light' && onnxDecodesBoxes(src.path), origin: 'fp32' };
        const r = await int8Parity(entry, file, o.int8, listImages(dir, maxImages), longSides);
        if (o.json) printJson(r);
        else console.log(int8ParityText(r));
        if (!r.ok) process.exitCode = 1;
        return;
      }
      if (o.perLayer) {
        const tol = { atol: num(o.atol, '--atol', 1e-4), rtol: num(o.rtol, '--rtol', 1e-3) };
        const [inp] = await parityInputs(entry, listImages(dir, 1), longSides.slice(0, 1));
        const feeds = { [Object.keys(src.inputs)[0]]: { data: inp.pre.tensor, dims: [...inp.pre.dims] } };
        const r = await runPerLayer(src, feeds, inp.label, { tol, ncnnParam: o.ncnnParam, threads });
        if (o.json) printJson(r);
        else console.log(perLayerText(r, o.all));
        if (!r.ok) process.exitCode = 1;
        return;
      }
      // default: a bare max abs diff <= 1e-4 per element; --rtol adds numpy.allclose's relative term
      const tol = { atol: num(o.atol, '--atol', 1e-4), rtol: num(o.rtol, '--rtol', 0) };
      const inputs = await parityInputs(entry, listImages(dir, maxImages), longSides);
      const r = await runParity(src, entry, inputs, { runtimes: parseRuntimeList(o.runtimes), tol, threads, ncnnParam: o.ncnnParam, onProgress: progress });
      if (o.json) printJson(r);
      else console.log(parityText(r));
      if (!r.ok) process.exitCode = 1;
    });
}
