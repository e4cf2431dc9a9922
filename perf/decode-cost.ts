/**
 * CPU cost of the exact JPEG decode, the largest stage of the WIDER pipeline at long side 320:
 * fdk's decoder (sharp/libvips, src/accuracy/image.ts, byte-identical to cv2.imread) next to
 * cv2.imread itself (OpenCV's libjpeg-turbo, the bench venv's Python), on the same images, one
 * thread each, CPU time of the process per image (less sensitive to the machine's load than wall time).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { loadImage } from '../src/accuracy/image.js';

export interface DecodeCost {
  images: number;
  /** fdk's decode (sharp): CPU ms and wall ms per image, best of the repeats. */
  fdkCpuMs: number;
  fdkWallMs: number;
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
  let best = { cpu: Infinity, wall: Infinity };
  for (let rep = 0; rep < 3; rep++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const p of paths) await loadImage(p, { keepRgb: true });
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1000 / paths.length;
    if (cpu < best.cpu) best = { cpu, wall: (performance.now() - t0) / paths.length };
  }
  const out: DecodeCost = { images: paths.length, fdkCpuMs: best.cpu, fdkWallMs: best.wall, load };
  if (existsSync(python)) {
    const r = spawnSync(python, ['-c', CV2_SCRIPT], { input: paths.join('\n'), encoding: 'utf8' });
    const m = /^(\S+) ([\d.]+) ([\d.]+)/.exec(r.stdout.trim());
    if (r.status === 0 && m) Object.assign(out, { cv2: m[1], cv2CpuMs: Number(m[2]), cv2WallMs: Number(m[3]) });
  }
  return out;
}
