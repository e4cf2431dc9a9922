/**
 * `fdk detect IMAGE... --model ID`: the accuracy pipeline on the user's own photos. Prints boxes,
 * scores and landmarks above --threshold and writes annotated copies (like the seed's detect.py).
 */
import { withLimitOptions } from './limit-options.js';
import { RUNTIME_NAMES } from '../runtime/index.js';
import { checkModelInference, checkPixels } from '../util/limits.js';
import type { Command } from 'commander';
import { basename, extname, join, resolve } from 'node:path';
import { getModel } from '../models/manifest.js';
import { descriptionForModelFile, type ModelDescription } from '../models/description.js';
import { annotate } from '../accuracy/annotate.js';
import { Detector, modelFileChoice, type Detection } from '../accuracy/pipeline.js';
import { FdkError, escapeName } from '../util/errors.js';
import { writeFilesAtomic } from '../util/fs.js';
import { printJson } from './output.js';
import { printFitted } from './table.js';

interface Opts {
  model?: string;
  modelFile?: string;
  spec?: string;
  runtime?: string;
  longSide?: string;
  threshold?: string;
  out?: string;
  annotate?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  withLimitOptions(program.command('detect <images...>')) // --max-pixels, --max-memory
    .description('detect faces in images: boxes, scores, 5 landmarks; writes annotated copies')
    .option('--model <id>', 'model id (slim, rfb, mnet0.25, ulfd-slim-320, ulfd-rfb-640, ...)')
    .option('--model-file <file>', 'run this model file (.onnx; .param with --runtime ncnn) with its description')
    .option('--spec <description.json>', 'model description of --model-file (default: embedded in the ONNX, NAME.fdk.json beside it, or the manifest)')
    .option('--runtime <name>', RUNTIME_NAMES.join(' | '), 'ort')
    .option('--long-side <n>', 'long side the image is scaled to (seed models; Ultra-Light sizes are fixed)', '320')
    .option('--threshold <score>', 'minimum score to report and draw', '0.5')
    .option('--out <dir>', 'folder for the annotated images', 'out/detect')
    .option('--no-annotate', 'do not write annotated images')
    .option('--json', 'machine-readable output')
    .action(async (images: string[], o: Opts) => {
      const longSide = Number(o.longSide);
      if (!Number.isInteger(longSide) || longSide <= 0) throw new FdkError(`bad --long-side '${o.longSide}': expected a positive integer`);
      checkPixels(longSide, longSide, '--long-side'); // bounded input size (util/limits.ts)
      const threshold = Number(o.threshold);
      if (!Number.isFinite(threshold)) throw new FdkError(`bad --threshold '${o.threshold}': expected a number`);
      if (!o.model === !o.modelFile) throw new FdkError('give --model ID or --model-file FILE (one of them)');
      if (o.spec && !o.modelFile) throw new FdkError('--spec describes a --model-file; give the model file too');
      let desc: ModelDescription;
      let name: string;
      const create = { runtime: o.runtime, longSide, threads: 2 };
      let det: Detector;
      if (o.modelFile) {
        desc = (await descriptionForModelFile(o.modelFile, { spec: o.spec, required: true }))!.description;
        name = o.modelFile;
        const file = modelFileChoice(o.modelFile, desc);
        await checkModelInference(file.path, [[1, 3, longSide, longSide]]); // memory before the runtime starts (util/limits.ts)
        det = await Detector.create(desc, { ...create, file });
      } else {
        const entry = getModel(o.model!, longSide);
        [desc, name] = [entry, entry.id];
        det = await Detector.create(entry, create);
      }
      const results: { image: string; width: number; height: number; detections: Detection[]; annotated?: string; ms: number }[] = [];
      const files: { path: string; data: Uint8Array }[] = [];
      const used = new Set<string>();
      try {
        for (const img of images) {
          const t0 = performance.now();
          const r = await det.detectFile(img);
          const ms = performance.now() - t0;
          const kept = r.detections.filter((d) => d.score >= threshold);
          let annotated: string | undefined;
          if (o.annotate !== false) {
            annotated = uniqueName(resolve(o.out ?? 'out/detect'), img, used);
            files.push({ path: annotated, data: await annotate(r.image, kept, annotated) });
          }
          results.push({ image: img, width: r.image.width, height: r.image.height, detections: kept, annotated, ms });
        }
      } finally {
        await det.release();
      }
      // all annotated images at once: a failure on any input leaves no partial output behind
      writeFilesAtomic(files);
      const meta = { model: name, runtime: o.runtime ?? 'ort', longSide: desc.input.resize.mode === 'fixed' ? desc.input.resize.width : longSide, threshold };
      if (o.json) return printJson({ ...meta, images: results });
      for (const r of results) {
        printFitted(`${escapeName(r.image)}: ${r.detections.length} face(s) with score >= ${threshold} (${r.width}x${r.height}, ${r.ms.toFixed(0)} ms)`);
        for (const d of r.detections) {
          const box = d.box.map((v) => v.toFixed(1)).join(' ');
          const lm = d.landmarks ? `  landmarks ${d.landmarks.map(([x, y]) => `(${x.toFixed(1)},${y.toFixed(1)})`).join(' ')}` : '';
          printFitted(`  ${d.score.toFixed(4)}  box ${box}${lm}`);
        }
        if (r.annotated) printFitted(`  annotated: ${escapeName(r.annotated)}`);
      }
    });
}

/** out/<name><ext>, with -2, -3 ... when several inputs share a file name. */
function uniqueName(dir: string, img: string, used: Set<string>): string {
  const ext = extname(img) || '.jpg';
  const stem = basename(img, extname(img));
  let p = join(dir, `${stem}${ext}`);
  for (let k = 2; used.has(p); k++) p = join(dir, `${stem}-${k}${ext}`);
  used.add(p);
  return p;
}
