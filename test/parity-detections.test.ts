/**
 * Detection-level parity on real detections (Ultra-Light RFB-320 on ort, fdk's pipeline): what
 * fails (a confident face missing or moved by 1 px) and what does not (a low-score box at the
 * candidate / top-k cut, which 1e-6 output noise can drop).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { getModel } from '../src/models/manifest.js';
import { getRuntime } from '../src/runtime/index.js';
import { listImages, parityInputs } from '../src/parity/images.js';
import { postprocessFor } from '../src/parity/postprocess.js';
import { compareDetections, type Det } from '../src/parity/detections.js';
import { shared } from './helpers/index.js';

const entry = getModel('ulfd-rfb-320');
let dets: Det[] = [];

beforeAll(async () => {
  const onnx = shared('models/ultra-light-1mb/onnx/version-RFB-320.onnx');
  const [inp] = await parityInputs(entry, [shared('images/seed-sample.jpg')], [320]);
  const m = await (await getRuntime('ort')).load(onnx);
  const out = (await m.run({ input: { data: inp.pre.tensor, dims: [...inp.pre.dims] } })).outputs;
  await m.release();
  dets = postprocessFor(onnx, entry).fn(entry, out, inp.pre);
});

describe('detection-level parity', () => {
  const opts = () => ({ scoreThreshold: entry.postprocess.scoreThreshold });
  it('real detections: confident faces and low-score boxes both present', () => {
    expect(dets.filter((d) => d.score > 0.9).length).toBeGreaterThan(3);
    expect(dets.filter((d) => d.score < 0.3).length).toBeGreaterThan(0);
    expect(listImages(shared('images')).length).toBeGreaterThanOrEqual(10);
  });
  it('identical lists match fully', () => {
    const d = compareDetections(dets, dets.map((x) => ({ ...x })), opts());
    expect(d).toMatchObject({ matched: dets.length, unmatchedA: 0, unmatchedB: 0, maxBoxDelta: 0, ok: true });
  });
  it('a missing low-score box is counted but does not fail', () => {
    const low = dets.findIndex((x) => x.score < 0.3);
    const d = compareDetections(dets, dets.filter((_, i) => i !== low), opts());
    expect(d.unmatchedA).toBe(1);
    expect(d.unmatchedSignificant).toBe(0);
    expect(d.ok).toBe(true);
  });
  it('a missing confident face fails', () => {
    const hi = dets.findIndex((x) => x.score > 0.9);
    const d = compareDetections(dets, dets.filter((_, i) => i !== hi), opts());
    expect(d.unmatchedSignificant).toBe(1);
    expect(d.ok).toBe(false);
  });
  it('a confident face moved by 1 px fails; its score changed by 1e-2 fails', () => {
    const hi = dets.findIndex((x) => x.score > 0.9);
    const moved = dets.map((x, i) => (i === hi ? { ...x, box: [x.box[0] + 1, x.box[1], x.box[2] + 1, x.box[3]] as Det['box'] } : x));
    const d = compareDetections(dets, moved, opts());
    expect(d.confidentMaxBoxDelta).toBeCloseTo(1, 3);
    expect(d.ok).toBe(false);
    const rescored = dets.map((x, i) => (i === hi ? { ...x, score: x.score - 1e-2 } : x));
    expect(compareDetections(dets, rescored, opts()).ok).toBe(false);
  });
});
