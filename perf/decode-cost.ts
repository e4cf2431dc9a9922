/**
 * CPU cost of the exact JPEG decode, the largest stage of the WIDER pipeline at long side 320:
 * fdk's two decoders (sharp/libvips, and the libjpeg-turbo addon when it is built; both
 * byte-identical to cv2.imread, src/accuracy/image.ts) next to cv2.imread itself (OpenCV's
 * libjpeg-turbo, the bench venv's Python), on the same images, one thread each, CPU time of the
 * process per image (less sensitive to the machine's load than wall time). The fdk decoders read
 * each file and decode it, as the workers do.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { decodeImageNative, loadImage } from '../src/accuracy/image.js';
import { nativeJpegAvailable } from '../src/accuracy/jpeg-native.js';
import { readFileOrThrow } from '../src/util/fs.js';

export interface DecodeCost {
  images: number;
  /** fdk's decode with sharp: CPU ms and wall ms per image, best of the repeats. */
  fdkCpuMs: number;
  fdkWallMs: number;
  /** fdk's libjpeg-turbo addon (into a reused buffer, as the workers do), when built. */
  nativeCpuMs?: number;
  nativeWallMs?: number;
  /** cv2.imread in the bench venv, when it runs. */
  cv2CpuMs?: number;
  cv2WallMs?: number;
  cv2?: string;
  load: number;
}

const CV2_SCRIPT = `
import cv2, sys, time
cv2.setNumThreads(1)
paths = sys.stdin.read().split('\\n')
paths = [p for p in paths if p]
best = None
for rep in range(3):
    c0 = time.process_time(); t0 = time.perf_counter()
    for p in paths: cv2.imread(p, cv2.IMREAD_COLOR)
    r = ((time.process_time() - c0) * 1000 / len(paths), (time.perf_counter() - t0) * 1000 / len(paths))
    best = r if best is None or r[0] < best[0] else best
print(cv2.__version__, best[0], best[1])
`;

export async function decodeCost(paths: string[], python: string): Promise<DecodeCost> {
  const load = loadavg()[0];
  const best = async (decode: (p: string) => unknown) => {
    let b = { cpu: Infinity, wall: Infinity };
    for (let rep = 0; rep < 3; rep++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (const p of paths) await decode(p);
      const c = process.cpuUsage(c0);
      const cpu = (c.user + c.system) / 1000 / paths.length;
      if (cpu < b.cpu) b = { cpu, wall: (performance.now() - t0) / paths.length };
    }
    return b;
  };
  const sharp = await best((p) => loadImage(p, { keepRgb: true, decoder: 'sharp' }));
  const out: DecodeCost = { images: paths.length, fdkCpuMs: sharp.cpu, fdkWallMs: sharp.wall, load };
  if (nativeJpegAvailable()) {
    const scratch: { data?: Uint8Array } = {};
    const native = await best((p) => decodeImageNative(readFileOrThrow(p), { keepRgb: true, scratch }));
    Object.assign(out, { nativeCpuMs: native.cpu, nativeWallMs: native.wall });
  }
  if (existsSync(python)) {
    const r = spawnSync(python, ['-c', CV2_SCRIPT], { input: paths.join('\n'), encoding: 'utf8' });
    const m = /^(\S+) ([\d.]+) ([\d.]+)/.exec(r.stdout.trim());
    if (r.status === 0 && m) Object.assign(out, { cv2: m[1], cv2CpuMs: Number(m[2]), cv2WallMs: Number(m[3]) });
  }
  return out;
}
