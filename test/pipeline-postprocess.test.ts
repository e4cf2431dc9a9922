/**
 * Priors, decoding, thresholds, NMS and the WIDER writers against the original pipelines'
 * intermediate arrays on seed-sample.jpg (reference/pytorch/<net>-320-sample).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { getModel } from '../src/models/manifest.js';
import { retinaPriors, ultraLightPriors } from '../src/accuracy/priors.js';
import { decodeUltraLightBoxes } from '../src/accuracy/decode.js';
import { float32Repr, formatWider, postprocess, pyFixed3, type Detection } from '../src/accuracy/pipeline.js';
import type { ModelDescription } from '../src/models/description.js';
import type { Preprocessed } from '../src/accuracy/preprocess.js';
import type { PriorParams } from '../src/families/prior.js';
import { readNpyFloat32 } from '../src/util/npy.js';
import { shared } from './helpers/index.js';

const SEED = [['slim', 'slim'], ['rfb', 'RFB'], ['mnet0.25', 'mobilenet0.25']] as const;
const ref = (dir: string, name: string) => readNpyFloat32(join(shared('reference/pytorch', dir), `${name}.npy`));
const priorsOf = (id: string) => getModel(id).decode as PriorParams;
const t = (data: Float32Array, last: number) => ({ data, dims: [1, data.length / last, last] });
/** What the decode needs of a preprocessed image: network input size and the resize factor(s). */
const pre = (w: number, h: number, ow: number, oh: number, r: [number, number]) => ({ dims: [1, 3, h, w], scaleXY: r, original: { width: ow, height: oh } }) as unknown as Preprocessed;
/** The seed's decode of raw loc / conf / landms at a w x h input resized by r. */
const postprocessSeed = (d: ModelDescription, loc: Float32Array, conf: Float32Array, landms: Float32Array, w: number, h: number, r: number) =>
  postprocess(d, { loc: t(loc, 4), conf: t(conf, 2), landms: t(landms, 10) }, pre(w, h, Math.round(w / r), Math.round(h / r), [r, r]));

describe('priors', () => {
  for (const [id, net] of SEED) {
    it(`${id}: unclipped, ceil feature maps, bit-exact with priors.npy (320x180)`, () => {
      const r = ref(`${net}-320-sample`, 'priors');
      const p = retinaPriors(priorsOf(id), 180, 320);
      expect(p.length).toBe(r.data.length);
      expect(Array.from(p)).toEqual(Array.from(r.data));
      expect(Math.max(...p)).toBeGreaterThan(1); // unclipped: big anchors overhang the image
    });
  }
  for (const net of ['slim', 'RFB']) {
    it(`version-${net}: clamped center-form priors bit-exact`, () => {
      const r = ref(`version-${net}-320-sample`, 'priors_center_form_clamped');
      const p = ultraLightPriors(priorsOf(`ulfd-${net.toLowerCase()}-320`), 240, 320);
      expect(Array.from(p)).toEqual(Array.from(r.data));
    });
  }
});

describe('seed decode + threshold + NMS on the reference raw outputs', () => {
  for (const [id, net] of SEED) {
    it(`${id}: gives dets_15col.npy (same count and order, values within 1e-3)`, () => {
      const d = `${net}-320-sample`;
      const want = ref(d, 'dets_15col');
      const dets = postprocessSeed(getModel(id), ref(d, 'loc').data, ref(d, 'conf').data, ref(d, 'landms').data, 320, 180, 0.2);
      expect(dets.length).toBe(want.shape[0]);
      let worst = 0;
      dets.forEach((x, i) => {
        const row = [...x.box, x.score, ...x.landmarks!.flat()];
        row.forEach((v, c) => (worst = Math.max(worst, Math.abs(v - want.data[i * 15 + c]))));
      });
      expect(worst).toBeLessThanOrEqual(1e-3);
    });
  }
});

describe('Ultra-Light decode', () => {
  for (const net of ['slim', 'RFB']) {
    it(`version-${net}: raw locations + priors give boxes_corner_norm within 1e-6`, () => {
      const d = `version-${net}-320-sample`;
      const a = priorsOf(`ulfd-${net.toLowerCase()}-320`);
      const b = decodeUltraLightBoxes(ref(d, 'locations_raw').data, ultraLightPriors(a, 240, 320), a.variance[0], a.variance[1]);
      const want = ref(d, 'boxes_corner_norm').data;
      let worst = 0;
      for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(b[i] - want[i]));
      expect(worst).toBeLessThanOrEqual(1e-6);
    });
  }

  it('threshold 0.1, hard NMS 0.3, at most 400 boxes, scaled to the original size', () => {
    const d = 'version-RFB-320-sample';
    const e = getModel('ulfd-rfb-320');
    const scores = ref(d, 'scores_softmax').data;
    const dets = postprocess(e, { scores: t(scores, 2), boxes: t(ref(d, 'locations_raw').data, 4) }, pre(320, 240, 1600, 898, [320 / 1600, 240 / 898]), { boxesDecoded: false });
    expect(dets.length).toBeGreaterThan(0);
    expect(dets.length).toBeLessThanOrEqual(400);
    for (let i = 1; i < dets.length; i++) expect(dets[i].score).toBeLessThanOrEqual(dets[i - 1].score);
    expect(Math.min(...dets.map((x) => x.score))).toBeGreaterThan(0.1);
    // no two kept boxes overlap more than 0.3
    const iou = (a: Detection, b: Detection) => {
      const w = Math.max(0, Math.min(a.box[2], b.box[2]) - Math.max(a.box[0], b.box[0]));
      const h = Math.max(0, Math.min(a.box[3], b.box[3]) - Math.max(a.box[1], b.box[1]));
      const ar = (x: Detection) => (x.box[2] - x.box[0]) * (x.box[3] - x.box[1]);
      return (w * h) / (ar(a) + ar(b) - w * h);
    };
    for (let i = 0; i < Math.min(dets.length, 60); i++) for (let j = 0; j < i; j++) expect(iou(dets[i], dets[j])).toBeLessThanOrEqual(0.3 + 1e-4);
    // boxes are in original-image pixels
    expect(Math.max(...dets.map((x) => x.box[2]))).toBeGreaterThan(320);
  });
});

describe('WIDER writers', () => {
  it('seed: int() truncation of each corner, w = int(x2) - int(x1), numpy float32 str()', () => {
    const dets: Detection[] = [
      { box: [10.9, 20.2, 30.1, 45.99], score: Math.fround(0.99974114) },
      { box: [-3.7, -0.5, 5.2, 6.8], score: Math.fround(0.5) },
    ];
    expect(formatWider(getModel('slim'), 'a/b/img_1.jpg', dets)).toBe('img_1\n2\n10 20 20 25 0.99974114 \n-3 0 8 6 0.5 \n');
  });

  it('Ultra-Light: floor(x1) floor(y1) ceil(w) ceil(h) %.3f, scores capped at 1', () => {
    const dets: Detection[] = [{ box: [-3.7, 2.5, 5.2, 6.8], score: 0.12345 }, { box: [1, 1, 2, 2], score: 1.0000001 }];
    expect(formatWider(getModel('ulfd-slim-320'), 'x.jpg', dets)).toBe('x\n2\n-4 2 9 5 0.123\n1 1 1 1 1.000\n');
  });

  it('float32 repr and Python %.3f edge cases', () => {
    expect(float32Repr(1)).toBe('1.0');
    expect(float32Repr(Math.fround(0.1))).toBe('0.1');
    expect(float32Repr(Math.fround(0.02))).toBe('0.02');
    expect(float32Repr(Math.fround(0.9910226))).toBe('0.9910226'); // as in reference/pytorch/dets/slim-320
    expect(float32Repr(Math.fround(0.9591))).toBe('0.9591');
    expect(pyFixed3(0.0625)).toBe('0.062'); // exact tie: half to even, as Python
    expect(pyFixed3(0.1875)).toBe('0.188');
    expect(pyFixed3(0.9999)).toBe('1.000');
  });
});
