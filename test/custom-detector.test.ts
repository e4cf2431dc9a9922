/**
 * A face detector that is not in the manifest goes through detect -> accuracy -> ncnn without a
 * code change: a tiny anchor-free (grid family) net and a 3-class SSD (prior family), built in
 * TypeScript with random seeded weights (test/helpers/tiny-detectors.ts), each with its model
 * description. Random weights give AP ~0, so the checks are that the pipeline's detections equal a
 * decode written independently here, from the raw outputs onnxruntime gives.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveOnnx } from '../src/onnx/io.js';
import { ortRuntime } from '../src/runtime/ort.js';
import { loadImage } from '../src/accuracy/image.js';
import { preprocess } from '../src/accuracy/preprocess.js';
import { Detector, modelFileChoice, type Detection } from '../src/accuracy/pipeline.js';
import { parsePredictionText } from '../src/accuracy/wider/index.js';
import type { ModelDescription } from '../src/models/description.js';
import { anchorFree, maskedSsd, maskedSsdDescription } from './helpers/tiny-detectors.js';
import { runCliAsync } from './helpers/cli-async.js';
import { shared } from './helpers/index.js';

const SAMPLE = shared('images', 'seed-sample.jpg');
const dir = mkdtempSync(join(tmpdir(), 'fdk-custom-'));
const AF = join(dir, 'tiny-anchor-free.onnx');
const SSD = join(dir, 'tiny-masked.onnx');

beforeAll(() => {
  saveOnnx(anchorFree().model, AF);
  saveOnnx(maskedSsd().model, SSD);
});

/** Greedy NMS, plain IoU (+1e-5 like hard_nms), best first. */
function nms(rows: { box: number[]; score: number }[], thr: number, topK: number | null) {
  const sorted = [...rows].sort((a, b) => b.score - a.score);
  const keep: typeof rows = [];
  const area = (b: number[]) => Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
  for (const r of sorted) {
    if (topK && keep.length >= topK) break;
    const ok = keep.every((k) => {
      const w = Math.max(0, Math.min(k.box[2], r.box[2]) - Math.max(k.box[0], r.box[0]));
      const h = Math.max(0, Math.min(k.box[3], r.box[3]) - Math.max(k.box[1], r.box[1]));
      return (w * h) / (area(k.box) + area(r.box) - w * h + 1e-5) <= thr;
    });
    if (ok) keep.push(r);
  }
  return keep;
}

function expectSameDetections(got: Detection[], want: { box: number[]; score: number; landmarks?: number[][] }[]) {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(Math.abs(g.score - want[i].score)).toBeLessThan(1e-6);
    g.box.forEach((v, k) => expect(Math.abs(v - want[i].box[k])).toBeLessThan(1e-3));
    if (want[i].landmarks) g.landmarks!.flat().forEach((v, k) => expect(Math.abs(v - want[i].landmarks!.flat()[k])).toBeLessThan(1e-3));
  });
}

/** The anchor-free model's decode, written from its description by hand (SCRFD's distance2bbox). */
async function anchorFreeByHand(image: string, longSide: number) {
  const d = anchorFree().description;
  const pre = preprocess(await loadImage(image, { keepRgb: true }), d, { longSide });
  const m = await ortRuntime.load(AF);
  const { outputs } = await m.run({ input: { data: pre.tensor, dims: pre.dims } });
  await m.release();
  const [, , H, W] = pre.dims;
  const [sx, sy] = pre.scaleXY;
  const rows: { box: number[]; score: number; landmarks: number[][] }[] = [];
  let i = 0;
  for (const s of [8, 16, 32])
    for (let y = 0; y < Math.ceil(H / s); y++)
      for (let x = 0; x < Math.ceil(W / s); x++, i++) {
        const score = outputs.score.data[i];
        if (!(score > 0.3)) continue;
        const [l, t, r, b] = outputs.bbox.data.slice(i * 4, i * 4 + 4);
        const k = outputs.kps.data.slice(i * 10, i * 10 + 10);
        rows.push({
          box: [(x * s - l * s) / sx, (y * s - t * s) / sy, (x * s + r * s) / sx, (y * s + b * s) / sy],
          score,
          landmarks: [0, 1, 2, 3, 4].map((p) => [(x * s + k[2 * p] * s) / sx, (y * s + k[2 * p + 1] * s) / sy]),
        });
      }
  expect(i).toBe(outputs.score.dims[1]);
  return nms(rows, 0.4, 750);
}

describe('anchor-free detector (grid family) with an embedded description', () => {
  it('fdk detect --model-file: detections equal the hand-written decode of the raw outputs', async () => {
    const out = join(dir, 'detect');
    const r = await runCliAsync(['detect', SAMPLE, '--model-file', AF, '--threshold', '0', '--long-side', '320', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { model: string; images: { detections: Detection[] }[] };
    const want = await anchorFreeByHand(SAMPLE, 320);
    expect(want.length).toBeGreaterThan(20);
    expectSameDetections(j.images[0].detections, want);
    expect(existsSync(join(out, 'seed-sample.jpg'))).toBe(true);
  });

  it('fdk accuracy --model-file on val-mini: one row, 488 prediction files equal to the detector per image', async () => {
    const out = join(dir, 'preds');
    const r = await runCliAsync(['accuracy', '--model-file', AF, '--long-side', '320', '--jobs', '2', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { set: string; images: number; rows: { row: string; ap: Record<string, number>; predDir: string; rerun?: unknown }[] };
    expect(j.set).toBe('val-mini');
    expect(j.rows.map((x) => x.row)).toEqual(['tiny-anchor-free-320']);
    const row = j.rows[0];
    for (const k of ['easy', 'medium', 'hard']) expect(row.ap[k]).toBeGreaterThanOrEqual(0);
    expect(row.rerun).toBeUndefined();
    const events = readdirSync(row.predDir);
    expect(events.length).toBe(61);
    // one image's file holds exactly the detector's boxes
    const key = readFileSync(shared('wider/val-mini/list.txt'), 'utf8').split('\n')[0].trim().replace(/\.jpg$/, '');
    const det = await Detector.create(anchorFree().description, { file: modelFileChoice(AF, anchorFree().description), longSide: 320 });
    const want = (await det.detectFile(shared('wider/val-mini/images', `${key}.jpg`))).detections;
    await det.release();
    const rows = parsePredictionText(readFileSync(join(row.predDir, `${key}.txt`), 'utf8'), key);
    expect(rows.length / 5).toBe(want.length);
    expect(want.length).toBeGreaterThan(0);
  });

  it('fdk convert --to ncnn writes the description beside the .param; fdk detect on the .param (real ncnn) gives the same faces', async () => {
    const prefix = join(dir, 'ncnn', 'tiny');
    const c = await runCliAsync(['convert', AF, '--to', 'ncnn', '-o', prefix, '--json']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout).description).toBe(`${prefix}.fdk.json`);
    expect(JSON.parse(readFileSync(`${prefix}.fdk.json`, 'utf8'))).toEqual(anchorFree().description);
    const r = await runCliAsync(['detect', SAMPLE, '--model-file', `${prefix}.param`, '--runtime', 'ncnn', '--threshold', '0.45', '--no-annotate', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = (JSON.parse(r.stdout) as { images: { detections: Detection[] }[] }).images[0].detections;
    const want = (await anchorFreeByHand(SAMPLE, 320)).filter((d) => d.score >= 0.45);
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => {
      expect(Math.abs(g.score - want[i].score)).toBeLessThan(1e-4);
      g.box.forEach((v, k) => expect(Math.abs(v - want[i].box[k])).toBeLessThan(0.05));
    });
  });
});

describe('fdk report --model-file PATH (a model not in the manifest)', () => {
  it('runs export/analyze/ncnn/accuracy for it alone; its AP equals fdk accuracy on the same images', async () => {
    const list = join(dir, 'sub40.txt');
    writeFileSync(list, readFileSync(shared('wider/val-mini/list.txt'), 'utf8').split('\n').slice(0, 40).join('\n') + '\n');
    const out = join(dir, 'report');
    const r = await runCliAsync(['report', '--model-file', AF, '--stages', 'export,analyze,ncnn,accuracy', '--runtimes', 'ort', '--accuracy-runtimes', 'ort', '--long-side', '320', '--subset', list, '--out', out]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { models: { id: string; family: string; analyze: { status: string }; ncnn: { status: string }; accuracy: { status: string; data: { rows: { runtime: string; longSide: number; images: number; easy: number; medium: number; hard: number }[] } } }[] };
    expect(rep.models.map((m) => m.id)).toEqual(['tiny-anchor-free']);
    const m = rep.models[0];
    expect(m.family).toBe('user');
    expect([m.analyze.status, m.ncnn.status, m.accuracy.status]).toEqual(['ok', 'ok', 'ok']);
    const [row] = m.accuracy.data.rows;
    expect([row.runtime, row.longSide, row.images]).toEqual(['ort', 320, 40]);
    const a = await runCliAsync(['accuracy', '--model-file', AF, '--long-side', '320', '--subset', list, '--jobs', '1', '--out', join(dir, 'preds40'), '--json']);
    expect(a.code).toBe(0);
    const ap = (JSON.parse(a.stdout) as { rows: { ap: Record<string, number> }[] }).rows[0].ap;
    for (const k of ['easy', 'medium', 'hard'] as const) expect(row[k]).toBeCloseTo(ap[k], 6);
  });
});

describe('3-class SSD-style detector (prior family): the face class index is honoured', () => {
  /** RetinaFace decode by hand for score column `cls`, in double precision. */
  async function ssdByHand(cls: number) {
    const d = maskedSsdDescription(cls);
    const pre = preprocess(await loadImage(SAMPLE, { keepRgb: true }), d);
    const m = await ortRuntime.load(SSD);
    const { outputs } = await m.run({ input: { data: pre.tensor, dims: pre.dims } });
    await m.release();
    const [sx, sy] = pre.scaleXY;
    const rows: { box: number[]; score: number }[] = [];
    let i = 0;
    const sizes = [[16, 32], [64, 128], [256, 512]];
    [8, 16, 32].forEach((s, lvl) => {
      for (let y = 0; y < Math.ceil(240 / s); y++)
        for (let x = 0; x < Math.ceil(320 / s); x++)
          for (const ms of sizes[lvl]) {
            const score = outputs.conf.data[i * 3 + cls];
            const [dx, dy, dw, dh] = outputs.loc.data.slice(i * 4, i * 4 + 4);
            i++;
            if (!(score > 0.4)) continue;
            const [pcx, pcy, pw, ph] = [((x + 0.5) * s) / 320, ((y + 0.5) * s) / 240, ms / 320, ms / 240];
            const cx = pcx + dx * 0.1 * pw;
            const cy = pcy + dy * 0.1 * ph;
            const w = pw * Math.exp(dw * 0.2);
            const h = ph * Math.exp(dh * 0.2);
            rows.push({ box: [((cx - w / 2) * 320) / sx, ((cy - h / 2) * 240) / sy, ((cx + w / 2) * 320) / sx, ((cy + h / 2) * 240) / sy], score });
          }
    });
    expect(i).toBe(outputs.conf.dims[1]);
    // the seed's NMS: +1 areas, suppress IoU > 0.4
    const sorted = rows.sort((a, b) => b.score - a.score);
    const keep: typeof rows = [];
    const area = (b: number[]) => (b[2] - b[0] + 1) * (b[3] - b[1] + 1);
    for (const r of sorted) {
      const ok = keep.every((k) => {
        const w = Math.max(0, Math.min(k.box[2], r.box[2]) - Math.max(k.box[0], r.box[0]) + 1);
        const h = Math.max(0, Math.min(k.box[3], r.box[3]) - Math.max(k.box[1], r.box[1]) + 1);
        return (w * h) / (area(k.box) + area(r.box) - w * h) <= 0.4;
      });
      if (ok) keep.push(r);
    }
    return keep;
  }

  it('faceClass 2 (embedded) and faceClass 1 (--spec) each give the hand decode of their own score column', async () => {
    const want2 = await ssdByHand(2);
    const want1 = await ssdByHand(1);
    expect(want2.length).toBeGreaterThan(3);
    expect(want1.length).toBeGreaterThan(3);
    const r2 = await runCliAsync(['detect', SAMPLE, '--model-file', SSD, '--threshold', '0', '--no-annotate', '--json']);
    expect(r2.stderr).toBe('');
    expectSameDetections((JSON.parse(r2.stdout) as { images: { detections: Detection[] }[] }).images[0].detections, want2);
    const spec = join(dir, 'face-class-1.json');
    writeFileSync(spec, JSON.stringify(maskedSsdDescription(1) satisfies ModelDescription));
    const r1 = await runCliAsync(['detect', SAMPLE, '--model-file', SSD, '--spec', spec, '--threshold', '0', '--no-annotate', '--json']);
    expect(r1.stderr).toBe('');
    expectSameDetections((JSON.parse(r1.stdout) as { images: { detections: Detection[] }[] }).images[0].detections, want1);
    expect(want1.map((d) => d.score)).not.toEqual(want2.map((d) => d.score));
  });
});
