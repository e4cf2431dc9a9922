/**
 * Checks that fdk's native JPEG decoder (native/jpeg-decode.c) gives the same bytes as sharp, the
 * decoder it replaces (itself byte-identical to cv2.imread), on every image under the given
 * folders: RGB and BGR output, and the reuse of a scratch buffer across images. Images the native
 * decoder declines (non-JPEG, EXIF rotation, CMYK, warnings) are counted; they go to sharp anyway.
 * Prints the CPU per image of both decoders (one thread, this process). Exits 1 on any difference.
 *
 *   npx tsx perf/jpeg-exact.ts /work/wider-full/WIDER_val/images [--limit N] [--json]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { decodeImage, decodeImageNative } from '../src/accuracy/image.js';
import { nativeJpegAvailable } from '../src/accuracy/jpeg-native.js';
import { readFileOrThrow } from '../src/util/fs.js';

const args = process.argv.slice(2);
const limitAt = args.indexOf('--limit');
const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : Infinity;
const json = args.includes('--json');
const dirs = args.filter((a, k) => !a.startsWith('--') && args[k - 1] !== '--limit');
if (!dirs.length) dirs.push(join(import.meta.dirname, '..', '..', 'shared', 'images'));
if (!nativeJpegAvailable()) {
  console.error('fdk: error: .fdk/native/jpeg-decode.node: native JPEG decoder not built (bash scripts/build-native.sh)');
  process.exit(1);
}

function listImages(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listImages(p));
    else if (/\.(jpe?g|png)$/i.test(e.name)) out.push(p);
  }
  return out;
}

const paths = dirs.flatMap(listImages).slice(0, limit);
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
let same = 0;
let declined = 0;
const differ: string[] = [];
let sharpMs = 0;
let nativeMs = 0;
const scratch: { data?: Uint8Array } = {};
for (const p of paths) {
  const bytes = readFileOrThrow(p);
  let c0 = cpu();
  const ref = await decodeImage(bytes, p, { keepRgb: true, decoder: 'sharp' });
  sharpMs += cpu() - c0;
  c0 = cpu();
  const rgb = decodeImageNative(bytes, { keepRgb: true, scratch });
  nativeMs += cpu() - c0;
  if (!rgb) { declined++; continue; }
  const bgr = decodeImageNative(bytes, {});
  let ok = rgb.width === ref.width && rgb.height === ref.height && Buffer.compare(Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.length), Buffer.from(ref.data.buffer, ref.data.byteOffset, ref.data.length)) === 0;
  if (ok && bgr) {
    const d = ref.data;
    for (let i = 0; i < d.length && ok; i += 3) ok = bgr.data[i] === d[i + 2] && bgr.data[i + 1] === d[i + 1] && bgr.data[i + 2] === d[i];
  } else ok = false;
  if (ok) same++;
  else differ.push(p);
}
const decoded = paths.length - declined;
const summary = {
  images: paths.length, identical: same, declined, differ: differ.length, firstDiffering: differ.slice(0, 10),
  sharpCpuMsPerImage: sharpMs / paths.length, nativeCpuMsPerImage: decoded ? nativeMs / decoded : 0, load: loadavg()[0],
};
if (json) console.log(JSON.stringify(summary, null, 2));
else {
  console.log(`${paths.length} images: ${same} byte-identical (RGB and BGR), ${declined} declined by the native decoder (sharp decodes them), ${differ.length} differ`);
  for (const p of summary.firstDiffering) console.log(`  differs: ${p}`);
  console.log(`CPU per image, one thread: sharp ${summary.sharpCpuMsPerImage.toFixed(2)} ms, native ${summary.nativeCpuMsPerImage.toFixed(2)} ms; load average ${summary.load.toFixed(2)}`);
}
process.exit(differ.length ? 1 : 0);
