/**
 * Where one worker's time goes in the WIDER pipeline, per stage and per image: CPU time of this
 * process (one thread: a single-threaded onnxruntime session, no pool) for read + JPEG decode
 * (native decoder and sharp, measured on the same images), preprocess, inference, postprocess
 * (box decode, threshold, NMS) and the WIDER text, on the first N images of a WIDER folder.
 * CPU time is what the pool's workers compete for on a loaded machine, so it is the robust number;
 * wall time is printed beside it.
 *
 *   npx tsx perf/pipeline-profile.ts --rows slim-320,mnet0.25-640 --limit 300 [--wider-dir DIR] [--json] [--write-docs]
 *
 * --write-docs writes the table into docs/accuracy.md (section bench:accuracy:profile); `npm run
 * bench:accuracy` runs the same profile as its step 6.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { availableParallelism, loadavg } from 'node:os';
import { getModel } from '../src/models/manifest.js';
import { Detector, formatWider } from '../src/accuracy/pipeline.js';
import { decodeImage, decodeImageNative, type BgrImage } from '../src/accuracy/image.js';
import { readFileOrThrow } from '../src/util/fs.js';
import { writeDocSection } from '../scripts/doc-sections.js';

function images(dir: string): string[] {
  const root = join(dir, 'images');
  return readdirSync(root).sort().flatMap((ev) => readdirSync(join(root, ev)).sort().map((n) => join(root, ev, n)));
}

const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const stages = ['read', 'decodeNative', 'decodeSharp', 'preprocess', 'inference', 'postprocess', 'text'] as const;
type Stage = (typeof stages)[number];
const LABELS: Record<Stage, string> = {
  read: 'read the file', decodeNative: 'JPEG decode, libjpeg-turbo addon', decodeSharp: 'JPEG decode, sharp (same pixels)',
  preprocess: 'preprocess (resize, mean, CHW)', inference: 'inference (onnxruntime, 1 thread)', postprocess: 'postprocess (box decode, threshold, NMS)', text: 'WIDER text',
};

export interface Profile { row: string; images: number; boxesPerImage: number; cpuMsPerImage: Record<Stage, number>; wallMsPerImage: Record<Stage, number>; load: [number, number] }

export async function profile(row: string, paths: string[]): Promise<Profile> {
  const [, model, ls] = /^(.+)-(\d+)$/.exec(row)!;
  const longSide = Number(ls);
  const cpuMs = Object.fromEntries(stages.map((s) => [s, 0])) as Record<Stage, number>;
  const wallMs: Record<Stage, number> = { ...cpuMs };
  const timed = async <T>(s: Stage, fn: () => T | Promise<T>): Promise<T> => {
    const c0 = cpu();
    const t0 = performance.now();
    const r = await fn();
    cpuMs[s] += cpu() - c0;
    wallMs[s] += performance.now() - t0;
    return r;
  };
  const det = await Detector.create(getModel(model), { runtime: 'ort', longSide, threads: 1 });
  await det.detect(await decodeImage(readFileOrThrow(paths[0]), paths[0], { keepRgb: true })); // warm-up
  const scratch: { data?: Uint8Array } = {};
  let boxes = 0;
  const load0 = loadavg()[0];
  for (const p of paths) {
    const bytes = await timed('read', () => readFileOrThrow(p));
    await timed('decodeSharp', () => decodeImage(bytes, p, { keepRgb: true, decoder: 'sharp' }));
    const image: BgrImage = (await timed('decodeNative', () => decodeImageNative(bytes, { keepRgb: true, scratch }))) ?? (await decodeImage(bytes, p, { keepRgb: true }));
    // detect() times its stages in wall time; on one thread CPU ≈ wall per stage, so its CPU is split in that proportion
    const c0 = cpu();
    const r = await det.detect(image);
    const c = cpu() - c0;
    const t = r.timings;
    const wall = t.preprocessMs + t.inferenceMs + t.postprocessMs;
    for (const [s, w] of [['preprocess', t.preprocessMs], ['inference', t.inferenceMs], ['postprocess', t.postprocessMs]] as const) {
      cpuMs[s] += (c * w) / wall;
      wallMs[s] += w;
    }
    await timed('text', () => formatWider(det.desc, p, r.detections));
    boxes += r.detections.length;
  }
  await det.release();
  const n = paths.length;
  const per = (o: Record<Stage, number>) => Object.fromEntries(stages.map((s) => [s, o[s] / n])) as Record<Stage, number>;
  return { row, images: n, boxesPerImage: boxes / n, cpuMsPerImage: per(cpuMs), wallMsPerImage: per(wallMs), load: [load0, loadavg()[0]] };
}

export function profileMarkdown(ps: Profile[]): string {
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:accuracy -- --write-docs\` (or perf/pipeline-profile.ts) on the first ${ps[0].images} full-val images, one thread (one worker's view), CPU ms per image (wall ms in brackets), load average ${ps.map((p) => `${p.load[0].toFixed(1)} → ${p.load[1].toFixed(1)}`).join(', ')} on ${availableParallelism()} cores.`,
    '',
    `| stage | ${ps.map((p) => `${p.row} (${p.boxesPerImage.toFixed(0)} boxes/image)`).join(' | ')} |`,
    `|---|${ps.map(() => '---').join('|')}|`,
  ];
  for (const s of stages) lines.push(`| ${LABELS[s]} | ${ps.map((p) => `${p.cpuMsPerImage[s].toFixed(2)} (${p.wallMsPerImage[s].toFixed(2)})`).join(' | ')} |`);
  const total = (p: Profile) => stages.filter((s) => s !== 'decodeSharp').reduce((a, s) => a + p.cpuMsPerImage[s], 0);
  lines.push(`| **total per image** (with the addon) | ${ps.map((p) => `**${total(p).toFixed(2)}**`).join(' | ')} |`);
  if (ps.some((p) => p.load[0] > availableParallelism())) lines.push('', `Load average above ${availableParallelism()}: CPU times are inflated by cache and frequency effects of the other processes; re-measure on a quiet machine.`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, def: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
  };
  const rows = opt('rows', 'slim-320,mnet0.25-640').split(',');
  const wider = opt('wider-dir', process.env.FDK_WIDER_DIR ?? '/work/wider-full/WIDER_val');
  const paths = images(wider).slice(0, Number(opt('limit', '300')));
  const results: Profile[] = [];
  for (const row of rows) results.push(await profile(row, paths));
  if (args.includes('--json')) console.log(JSON.stringify(results, null, 2));
  else console.log(profileMarkdown(results));
  if (args.includes('--write-docs')) console.log(`wrote the profile into ${writeDocSection('bench:accuracy:profile', profileMarkdown(results))}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
