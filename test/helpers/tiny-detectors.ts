/**
 * Face detectors that are not in the manifest, built in TypeScript with src/onnx/builder.ts (random
 * weights from a fixed seed), each with its model description. CI has no PyTorch; the same anchor-free
 * architecture in PyTorch is scripts/models/build-anchor-free.py (for the manual flow in the docs).
 *
 *  - anchorFree(): SCRFD-style, strides 8/16/32, one anchor point per cell, sigmoid scores [1,N,1],
 *    ltrb distances in strides [1,N,4] (ReLU: non-negative), 5 landmarks [1,N,10]; dynamic H/W.
 *  - maskedSsd(): a tiny SSD / RetinaFace-style net with 3 classes (background, face, masked face),
 *    softmax scores [1,N,3], box offsets [1,N,4], priors of 2 sizes per level at strides 8/16/32.
 */
import { A, GraphBuilder } from '../../src/onnx/builder.js';
import type { Model } from '../../src/onnx/model.js';
import { mulberry32 } from '../../src/util/rng.js';
import { embedDescription, type ModelDescription } from '../../src/models/description.js';

/** A seeded generator, so the "random" weights are the same on every run. */
const rng = mulberry32;

class Net {
  readonly g = new GraphBuilder({ opset: 13, name: 'tiny' });
  private r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }
  /** Conv with uniform(-s, s) weights (s = gain / sqrt(fan-in)) and a given bias. */
  conv(x: string, cin: number, cout: number, k: number, stride: number, name: string, gain = 1.5, bias = 0): string {
    const s = gain / Math.sqrt(cin * k * k);
    const w = this.g.constFloat(`${name}.weight`, [cout, cin, k, k], Array.from({ length: cout * cin * k * k }, () => (this.r() * 2 - 1) * s));
    const b = this.g.constFloat(`${name}.bias`, [cout], Array.from({ length: cout }, () => bias + (this.r() * 2 - 1) * 0.1));
    const p = (k - 1) >> 1;
    return this.g.op('Conv', [x, w, b], { kernel_shape: A.ints([k, k]), strides: A.ints([stride, stride]), pads: A.ints([p, p, p, p]) }, name);
  }
  relu(x: string): string {
    return this.g.op('Relu', [x]);
  }
  /** [1, C, h, w] -> [1, h*w*(C/per), per]: row-major cells, then the anchors of a cell. */
  flatten(x: string, per: number, name: string): string {
    const t = this.g.op('Transpose', [x], { perm: A.ints([0, 2, 3, 1]) }, `${name}.t`);
    return this.g.op('Reshape', [t, this.g.constInt64(`${name}.shape`, [3], [1, -1, per])], {}, `${name}.flat`);
  }
  /** Backbone: stride-2 convs to strides 8, 16, 32 (ceil(H/s) maps, as the descriptions assume). */
  backbone(input: string, ch: number): string[] {
    let x = this.relu(this.conv(input, 3, 8, 3, 2, 'stem.0'));
    x = this.relu(this.conv(x, 8, ch, 3, 2, 'stem.1'));
    const levels: string[] = [];
    for (let i = 0; i < 3; i++) {
      x = this.relu(this.conv(x, i === 0 ? ch : ch, ch, 3, 2, `stage.${i}`));
      levels.push(x);
    }
    return levels;
  }
}

export interface TinyDetector {
  model: Model;
  description: ModelDescription;
}

export function anchorFreeDescription(): ModelDescription {
  return {
    fdkDescription: 1,
    name: 'tiny-anchor-free',
    title: 'tiny anchor-free (SCRFD-style), random init',
    input: { name: 'input', layout: 'NCHW', resize: { mode: 'long-side', size: 320, interpolation: 'cv2-linear', pixelType: 'float32' } },
    preprocess: { channelOrder: 'RGB', mean: [127.5, 127.5, 127.5], std: [128, 128, 128] },
    outputs: { scores: 'score', boxes: 'bbox', landmarks: 'kps' },
    decode: { family: 'grid', strides: [8, 16, 32], anchorsPerCell: 1, centerOffset: 0, box: 'ltrb', classes: 1, faceClass: 0, scoreActivation: 'none', landmarks: 5 },
    postprocess: { scoreThreshold: 0.3, nms: 0.4, nmsAreaPlusOne: false, topK: 750, candidateSize: null, widerFormat: 'floor-ceil' },
  };
}

/** The anchor-free detector, dynamic H/W, with its description embedded (unless `embed` is false). */
export function anchorFree(seed = 11, embed = true): TinyDetector {
  const n = new Net(seed);
  const g = n.g;
  const input = g.addInput('input', 'float32', [1, 3, 'H', 'W']);
  const levels = n.backbone(input, 16);
  const scores: string[] = [];
  const boxes: string[] = [];
  const kps: string[] = [];
  levels.forEach((f, i) => {
    // large score weights, bias -1: scores spread over (0, 1), some hundreds pass 0.3 per image
    scores.push(n.flatten(g.op('Sigmoid', [n.conv(f, 16, 1, 1, 1, `cls.${i}`, 12, -1)]), 1, `cls.${i}`));
    boxes.push(n.flatten(n.relu(n.conv(f, 16, 4, 1, 1, `reg.${i}`, 2, 1)), 4, `reg.${i}`));
    kps.push(n.flatten(n.conv(f, 16, 10, 1, 1, `kps.${i}`), 10, `kps.${i}`));
  });
  const cat = (xs: string[], name: string) => g.op('Concat', xs, { axis: A.int(1) }, name);
  g.addOutput(cat(scores, 'score.cat'), 'score', 'float32', [1, 'N', 1]);
  g.addOutput(cat(boxes, 'bbox.cat'), 'bbox', 'float32', [1, 'N', 4]);
  g.addOutput(cat(kps, 'kps.cat'), 'kps', 'float32', [1, 'N', 10]);
  const model = g.build({ producerName: 'fdk-test' });
  const description = anchorFreeDescription();
  if (embed) embedDescription(model, description);
  return { model, description };
}

/** A 3-class SSD-style detector; `faceClass` picks which score column is "face". */
export function maskedSsdDescription(faceClass: number): ModelDescription {
  return {
    fdkDescription: 1,
    name: 'tiny-masked-ssd',
    input: { name: 'input', layout: 'NCHW', resize: { mode: 'fixed', width: 320, height: 240, interpolation: 'cv2-linear', pixelType: 'uint8' } },
    preprocess: { channelOrder: 'BGR', mean: [104, 117, 123], std: [1, 1, 1] },
    outputs: { boxes: 'loc', scores: 'conf' },
    decode: { family: 'prior', variant: 'retinaface', minSizes: [[16, 32], [64, 128], [256, 512]], steps: [8, 16, 32], variance: [0.1, 0.2], clip: false, classes: 3, faceClass, landmarks: 0 },
    postprocess: { scoreThreshold: 0.4, nms: 0.4, nmsAreaPlusOne: true, topK: null, candidateSize: null, widerFormat: 'int-truncate' },
  };
}

export function maskedSsd(seed = 5): TinyDetector {
  const n = new Net(seed);
  const g = n.g;
  const input = g.addInput('input', 'float32', [1, 3, 240, 320]);
  const levels = n.backbone(input, 16);
  const loc: string[] = [];
  const conf: string[] = [];
  levels.forEach((f, i) => {
    loc.push(n.flatten(n.conv(f, 16, 2 * 4, 3, 1, `loc.${i}`, 0.05), 4, `loc.${i}`));
    conf.push(n.flatten(n.conv(f, 16, 2 * 3, 3, 1, `conf.${i}`, 0.05), 3, `conf.${i}`));
  });
  const l = g.op('Concat', loc, { axis: A.int(1) }, 'loc.cat');
  const c = g.op('Softmax', [g.op('Concat', conf, { axis: A.int(1) }, 'conf.cat')], { axis: A.int(2) }, 'conf.softmax');
  g.addOutput(l, 'loc', 'float32', [1, 'N', 4]);
  g.addOutput(c, 'conf', 'float32', [1, 'N', 3]);
  const model = g.build({ producerName: 'fdk-test' });
  const description = maskedSsdDescription(2);
  embedDescription(model, description);
  return { model, description };
}
