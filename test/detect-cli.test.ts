/**
 * `fdk detect`: on seed-sample.jpg it reports the pipeline's detections above the threshold and
 * writes an annotated image with those boxes drawn; bad input gives one error line and no output.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getModel } from '../src/models/manifest.js';
import { Detector, type Detection } from '../src/accuracy/pipeline.js';
import { loadImage } from '../src/accuracy/image.js';
import { expectOneLineError, runCli, shared } from './helpers/index.js';

const SAMPLE = shared('images', 'seed-sample.jpg');
const tmp = () => mkdtempSync(join(tmpdir(), 'fdk-detect-'));

describe('fdk detect', () => {
  it('seed-sample.jpg with mnet0.25: JSON boxes equal the pipeline above 0.5, drawn in the annotated copy', async () => {
    const out = tmp();
    const r = runCli(['detect', SAMPLE, '--model', 'mnet0.25', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { threshold: number; images: { image: string; detections: Detection[]; annotated: string }[] };
    expect(j.threshold).toBe(0.5);
    const got = j.images[0].detections;

    const det = await Detector.create(getModel('mnet0.25'), { longSide: 320 });
    const want = (await det.detectFile(SAMPLE)).detections.filter((d) => d.score >= 0.5);
    await det.release();
    expect(got.length).toBe(want.length);
    expect(got.length).toBeGreaterThan(5);
    got.forEach((g, i) => {
      g.box.forEach((v, k) => expect(Math.abs(v - want[i].box[k])).toBeLessThan(1e-2));
      expect(Math.abs(g.score - want[i].score)).toBeLessThan(1e-4);
      expect(g.landmarks).toHaveLength(5);
    });

    // the annotated image: same size, red box outline on the right edge of every face box
    const annotated = j.images[0].annotated;
    expect(annotated).toBe(join(out, 'seed-sample.jpg'));
    const im = await loadImage(annotated);
    const orig = await loadImage(SAMPLE);
    expect([im.width, im.height]).toEqual([orig.width, orig.height]);
    let red = 0;
    for (const d of got) {
      const x = Math.trunc(d.box[2]);
      const y = Math.trunc((d.box[1] + d.box[3]) / 2);
      const i = (y * im.width + x) * 3; // BGR
      if (im.data[i + 2] > 170 && im.data[i + 1] < 90 && im.data[i] < 90) red++;
    }
    expect(red).toBeGreaterThanOrEqual(Math.ceil(got.length * 0.9));
    // and it is not the original: the pixels differ where boxes are drawn
    let changed = 0;
    for (let k = 0; k < im.data.length; k += 3) if (Math.abs(im.data[k + 2] - orig.data[k + 2]) > 60) changed++;
    expect(changed).toBeGreaterThan(1000);
  }, 60_000);

  it('prints boxes, scores and landmarks in text mode (Ultra-Light: no landmarks)', () => {
    const out = tmp();
    const r = runCli(['detect', SAMPLE, '--model', 'ulfd-rfb-320', '--out', out, '--threshold', '0.9']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/seed-sample\.jpg: \d+ face\(s\) with score >= 0\.9/);
    expect(r.stdout).toMatch(/\n {2}0\.9\d{3} {2}box [\d.]+ [\d.]+ [\d.]+ [\d.]+\n/);
    expect(r.stdout).not.toMatch(/landmarks/);
    expect(existsSync(join(out, 'seed-sample.jpg'))).toBe(true);
  }, 60_000);

  it('missing image: one error line naming it, nothing written', () => {
    const out = tmp();
    const r = runCli(['detect', '/nonexistent/photo.jpg', '--model', 'slim', '--out', out]);
    expectOneLineError(r, '/nonexistent/photo.jpg');
    expect(readdirSync(out)).toEqual([]);
  });

  it('corrupt JPEG: one error line naming it, no partial output for the good image before it', () => {
    const out = tmp();
    const bad = join(tmp(), 'truncated.jpg');
    const bytes = readFileSync(SAMPLE);
    writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 3)));
    const r = runCli(['detect', SAMPLE, bad, '--model', 'slim', '--out', out]);
    expectOneLineError(r, bad);
    expect(r.stderr).toMatch(/cannot decode image/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('unknown model id', () => {
    const r = runCli(['detect', SAMPLE, '--model', 'nope', '--out', tmp()]);
    expectOneLineError(r, "unknown model id 'nope'");
  });
});
