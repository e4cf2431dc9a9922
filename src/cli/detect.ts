/**
 * `fdk detect IMAGE... --model ID`: the accuracy pipeline on the user's own photos. Prints boxes,
 * scores and landmarks above --threshold and writes annotated copies (like the seed's detect.py).
 */
import { checkPixels } from '../util/limits.js';
import type { Command } from 'commander';
import { basename, extname, join, resolve } from 'node:path';
import { getModel } from '../models/manifest.js';
import { annotate } from '../accuracy/annotate.js';
import { Detector, type Detection } from '../accuracy/pipeline.js';
import { FdkError } from '../util/errors.js';
import { writeFilesAtomic } from '../util/fs.js';
import { printJson } from './output.js';

interface Opts {
  model: string;
  runtime?: string;
  longSide?: string;
  threshold?: string;
  out?: string;
  annotate?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('detect <images...>')
    .description('detect faces in images: boxes, scores, 5 landmarks; writes annotated copies')
    .requiredOption('--model <id>', 'model id (slim, rfb, mnet0.25, ulfd-slim-320, ulfd-rfb-640, ...)')
    .option('--runtime <name>', 'ort | wasm | ncnn', 'ort')
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
      const entry = getModel(o.model, longSide);
      const det = await Detector.create(entry, { runtime: o.runtime, longSide, threads: 2 });
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
      const meta = { model: entry.id, runtime: o.runtime ?? 'ort', longSide: entry.input.resize.mode === 'fixed' ? entry.input.resize.width : longSide, threshold };
      if (o.json) return printJson({ ...meta, images: results });
      for (const r of results) {
        console.log(`${r.image}: ${r.detections.length} face(s) with score >= ${threshold} (${r.width}x${r.height}, ${r.ms.toFixed(0)} ms)`);
        for (const d of r.detections) {
          const box = d.box.map((v) => v.toFixed(1)).join(' ');
          const lm = d.landmarks ? `  landmarks ${d.landmarks.map(([x, y]) => `(${x.toFixed(1)},${y.toFixed(1)})`).join(' ')}` : '';
          console.log(`  ${d.score.toFixed(4)}  box ${box}${lm}`);
        }
        if (r.annotated) console.log(`  annotated: ${r.annotated}`);
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
