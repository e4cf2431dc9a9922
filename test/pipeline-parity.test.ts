/**
 * Detection parity with the original PyTorch pipeline (test_widerface.py) on ../shared/images, for
 * the three seed models at long side 320 and 640, through fdk's own ONNX export on onnxruntime:
 * every reference box with score >= 0.5 is matched at IoU >= 0.95 with |Δscore| <= 1e-3, and the
 * number of detections per image is within 2%. Boxes are compared as written (WIDER txt, int()).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getModel } from '../src/models/manifest.js';
import { Detector, formatWider } from '../src/accuracy/pipeline.js';
import { parsePredictionText } from '../src/accuracy/wider/index.js';
import { shared } from './helpers/index.js';

const NETS = [['slim', 'slim'], ['rfb', 'RFB'], ['mnet0.25', 'mobilenet0.25']] as const;
const IMAGES = readdirSync(shared('images')).filter((f) => f.endsWith('.jpg')).sort();

/** Rows of x y w h score from WIDER txt. */
function rows(text: string, file: string): number[][] {
  const flat = parsePredictionText(text, file);
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += 5) out.push(Array.from(flat.subarray(i, i + 5)));
  return out;
}

function iou(a: number[], b: number[]): number {
  const w = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  return (w * h) / (a[2] * a[3] + b[2] * b[3] - w * h);
}

const detectors: Detector[] = [];
afterAll(async () => {
  await Promise.all(detectors.map((d) => d.release()));
});

describe('detection parity with reference/pytorch/dets', () => {
  for (const [id, net] of NETS)
    for (const ls of [320, 640]) {
      it(`${id} at ${ls}: all ${IMAGES.length} images`, async () => {
        const det = await Detector.create(getModel(id), { longSide: ls });
        detectors.push(det);
        const problems: string[] = [];
        let matched = 0;
        for (const img of IMAGES) {
          const refFile = shared('reference/pytorch/dets', `${net}-${ls}`, img.replace(/\.jpg$/, '.txt'));
          const want = rows(readFileSync(refFile, 'utf8'), refFile);
          const { detections } = await det.detectFile(join(shared('images'), img));
          const got = rows(formatWider(det.desc, img, detections), img);
          if (Math.abs(got.length - want.length) > 0.02 * want.length) problems.push(`${img}: ${got.length} detections vs ${want.length}`);
          for (const r of want.filter((x) => x[4] >= 0.5)) {
            let best = -1;
            let bestIou = 0;
            got.forEach((g, k) => {
              const v = iou(r, g);
              if (v > bestIou) [bestIou, best] = [v, k];
            });
            if (best < 0 || bestIou < 0.95 || Math.abs(got[best][4] - r[4]) > 1e-3)
              problems.push(`${img}: reference box ${r.join(' ')} best IoU ${bestIou.toFixed(3)}${best >= 0 ? `, score ${got[best][4]}` : ''}`);
            else matched++;
          }
        }
        expect(problems).toEqual([]);
        expect(matched).toBeGreaterThan(10);
      }, 120_000);
    }
});
