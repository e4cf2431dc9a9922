/**
 * Where one worker's time goes in the WIDER pipeline, per stage and per image: CPU time of this
 * process (one thread: a single-threaded onnxruntime session, no pool) for read + JPEG decode
 * (native decoder and sharp, measured on the same images), preprocess, inference, postprocess
 * (box decode, threshold, NMS) and the WIDER text, on the first N images of a WIDER folder.
 * CPU time is what the pool's workers compete for on a loaded machine, so it is the robust number;
 * wall time is printed beside it.
 *
 *   npx tsx perf/pipeline-profile.ts --model slim --long-side 320 --limit 300 [--wider-dir DIR] [--json]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { getModel } from '../src/models/manifest.js';
import { Detector, formatWider } from '../src/accuracy/pipeline.js';
import { decodeImage, decodeImageNative, type BgrImage } from '../src/accuracy/image.js';
import { readFileOrThrow } from '../src/util/fs.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const model = opt('model', 'slim');
const longSide = Number(opt('long-side', '320'));
const limit = Number(opt('limit', '300'));
const wider = opt('wider-dir', process.env.FDK_WIDER_DIR ?? '/work/wider-full/WIDER_val');

function images(dir: string): string[] {
  const root = join(dir, 'images');
  return readdirSync(root).sort().flatMap((ev) => readdirSync(join(root, ev)).sort().map((n) => join(root, ev, n)));
}

const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const stages = ['read', 'decodeNative', 'decodeSharp', 'preprocess', 'inference', 'postprocess', 'text'] as const;
type Stage = (typeof stages)[number];
const cpuMs: Record<Stage, number> = Object.fromEntries(stages.map((s) => [s, 0])) as Record<Stage, number>;
const wallMs: Record<Stage, number> = { ...cpuMs };

async function timed<T>(s: Stage, fn: () => T | Promise<T>): Promise<T> {
  const c0 = cpu();
  const t0 = performance.now();
  const r = await fn();
  cpuMs[s] += cpu() - c0;
  wallMs[s] += performance.now() - t0;
  return r;
}

const paths = images(wider).slice(0, limit);
const det = await Detector.create(getModel(model), { runtime: 'ort', longSide, threads: 1 });
await det.detect(await decodeImage(readFileOrThrow(paths[0]), paths[0], { keepRgb: true })); // warm-up
const scratch: { data?: Uint8Array } = {};
let boxes = 0;
const load0 = loadavg()[0];
for (const p of paths) {
  const bytes = await timed('read', () => readFileOrThrow(p));
  await timed('decodeSharp', () => decodeImage(bytes, p, { keepRgb: true, decoder: 'sharp' }));
  const image: BgrImage = (await timed('decodeNative', () => decodeImageNative(bytes, { keepRgb: true, scratch }))) ?? (await decodeImage(bytes, p, { keepRgb: true }));
  // detect() times its own stages in wall time; CPU per stage needs the stages one by one
  const c0 = cpu();
  const r = await det.detect(image);
  const c = cpu() - c0;
  const t = r.timings;
  const wall = t.preprocessMs + t.inferenceMs + t.postprocessMs;
  // split the CPU of detect() in proportion to its wall split (one thread: CPU ≈ wall per stage)
  for (const [s, w] of [['preprocess', t.preprocessMs], ['inference', t.inferenceMs], ['postprocess', t.postprocessMs]] as const) {
    cpuMs[s] += (c * w) / wall;
    wallMs[s] += w;
  }
  const text = await timed('text', () => formatWider(det.desc, p, r.detections));
  boxes += r.detections.length;
  void text;
}
await det.release();
const n = paths.length;
const per = (o: Record<Stage, number>) => Object.fromEntries(stages.map((s) => [s, o[s] / n]));
const result = { model, longSide, images: n, boxesPerImage: boxes / n, cpuMsPerImage: per(cpuMs), wallMsPerImage: per(wallMs), load: [load0, loadavg()[0]] };
if (args.includes('--json')) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`${model}-${longSide}, ${n} images of ${wider}, one thread, ${result.boxesPerImage.toFixed(0)} boxes per image, load average ${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)}`);
  console.log('stage            CPU ms/image  wall ms/image');
  for (const s of stages) console.log(`${s.padEnd(16)} ${(cpuMs[s] / n).toFixed(2).padStart(12)}  ${(wallMs[s] / n).toFixed(2).padStart(13)}`);
}
