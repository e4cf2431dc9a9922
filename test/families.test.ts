/**
 * Decode families on hand-made outputs (numbers worked out by hand in the comments), and the
 * size rules of the description: what the real-model tests (custom-detector, accuracy) do not reach.
 */
import { describe, expect, it } from 'vitest';
import { postprocess } from '../src/accuracy/pipeline.js';
import { shortSideResizeFactor, seedResizeFactor } from '../src/accuracy/preprocess.js';
import type { Preprocessed } from '../src/accuracy/preprocess.js';
import { validateDescription, type ModelDescription } from '../src/models/description.js';
import { familyOf } from '../src/families/index.js';
import { gridAnchors } from '../src/accuracy/priors.js';

const t = (v: number[], last: number) => ({ data: Float32Array.from(v), dims: [1, v.length / last, last] });
/** A 16x16 network input from a 32x32 image (scale 0.5 per axis). */
const pre = { dims: [1, 3, 16, 16], scaleXY: [0.5, 0.5], original: { width: 32, height: 32 } } as unknown as Preprocessed;

function grid(decode: Record<string, unknown>): ModelDescription {
  return validateDescription({
    fdkDescription: 1,
    input: { name: 'x', resize: { mode: 'fixed', width: 16, height: 16 } },
    preprocess: { channelOrder: 'RGB' },
    outputs: { boxes: 'b', scores: 's' },
    decode: { family: 'grid', strides: [8], ...decode },
    postprocess: { scoreThreshold: 0.5, nms: 0.5 },
  }, 'test');
}

describe('grid family', () => {
  it("cxcywh with centre offset 0.5: exp sizes in strides, mapped back to the original image", () => {
    const d = grid({ box: 'cxcywh', centerOffset: 0.5 });
    // 2x2 cells at stride 8: anchor points (4,4) (12,4) (4,12) (12,12)
    const scores = [0.9, 0.1, 0.8, 0.2];
    const boxes = [0, 0, 0, 0, 9, 9, 9, 9, 0.5, 0, Math.LN2, 0, 9, 9, 9, 9];
    const dets = postprocess(d, { b: t(boxes, 4), s: t(scores, 1) }, pre);
    // anchor 0: centre (4,4), 8x8 -> [0,0,8,8] in the input, x2 in the image
    // anchor 2: centre (4+0.5*8, 12) = (8,12), 16x8 -> [0,8,16,16] -> x2
    expect(dets.map((x) => x.score)).toEqual([Math.fround(0.9), Math.fround(0.8)]);
    expect(dets[0].box.map((v) => +v.toFixed(4) || 0)).toEqual([0, 0, 16, 16]);
    expect(dets[1].box.map((v) => +v.toFixed(4) || 0)).toEqual([0, 16, 32, 32]);
  });

  it('ltrb with sigmoid logits and 2 anchors per cell; faceClass picks the column', () => {
    const d = grid({ box: 'ltrb', anchorsPerCell: 2, scoreActivation: 'sigmoid', classes: 2, faceClass: 1 });
    expect(familyOf(d.decode).count(d.decode, 16, 16)).toBe(8);
    expect(Array.from(gridAnchors({ strides: [8], anchorsPerCell: 2, centerOffset: 0 }, 16, 16)).slice(0, 9)).toEqual([0, 0, 8, 0, 0, 8, 8, 0, 8]);
    const scores = new Array(16).fill(-5);
    scores[3 * 2 + 1] = 3; // anchor 3 = cell (row 0, col 1), 2nd copy: point (8, 0); sigmoid(3) = 0.9526
    scores[3 * 2 + 0] = 9; // column 0 is not the face
    const boxes = new Array(32).fill(0);
    boxes.splice(3 * 4, 4, 0.5, 0, 1, 2); // l t r b in strides -> [4, 0, 16, 16] -> x2
    const dets = postprocess(d, { b: t(boxes, 4), s: t(scores, 2) }, pre);
    expect(dets).toHaveLength(1);
    expect(dets[0].score).toBeCloseTo(1 / (1 + Math.exp(-3)), 6);
    expect(dets[0].box).toEqual([8, 0, 32, 32]);
  });
});

describe('resize rules', () => {
  it('short-side: r = size / short side, unless the long side would pass max', () => {
    expect(shortSideResizeFactor(1000, 500, 400, 900)).toBe(0.8); // long side 800 <= 900
    expect(shortSideResizeFactor(1000, 500, 400, 600)).toBe(0.6); // 800 > 600: r = 600 / 1000
    // long-side (the seed rule) is short-side with size = max
    expect(seedResizeFactor(1000, 500, 320)).toBe(shortSideResizeFactor(1000, 500, 320, 320));
  });
});
