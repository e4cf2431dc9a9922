/**
 * Linzaer Ultra-Light-Fast-Generic-Face-Detector-1MB, "version-slim" / "version-RFB" (original):
 * Mb_Tiny(_RFB) backbone (`base_net.N`), one extra stride-64 level (`extras.0`), SSD heads
 * (`classification_headers.i`, `regression_headers.i`) with 3/2/2/3 anchors at strides 8/16/32/64.
 * See vision/ssd/mb_tiny_fd.py, mb_tiny_RFB_fd.py, ssd.py and vision/nn/mb_tiny*.py.
 *
 * Outputs follow the project's own exports: `scores` (softmax over 2 classes) and `boxes`.
 * With the prior-decoding tail `boxes` are corner-form boxes normalised to [0,1]; without it
 * (`--no-postprocess`, like `*_without_postprocessing.onnx`) they are the raw location offsets.
 *
 * The tail needs the priors (fd_config.generate_priors): for level k with feature map fw x fh
 * (= ceil(W/stride), ceil(H/stride)), prior (j, i, box) is ((i+.5)/fw, (j+.5)/fh, box/W, box/H),
 * clamped to [0,1]. Their parameters (min boxes, strides, variances) come from the model
 * description (the manifest's), not from here. With a fixed input size they are baked in as a
 * constant (src/accuracy/priors.ts, the pipeline's own generator); with dynamic H/W they are
 * computed in the graph from the head shapes, so the export works at any input size.
 */
import { A } from '../../onnx/builder.js';
import { ultraLightPriors } from '../../accuracy/priors.js';
import type { PriorParams } from '../../families/prior.js';
import { basicRfb, convBnRelu, convDw, depthConv2d } from './blocks.js';
import type { Layers } from './layers.js';
import type { ArchOutputs } from './types.js';

export interface UlfdOptions {
  variant: 'slim' | 'rfb';
  postprocess: boolean;
  /** Fixed [H, W] to bake the priors; undefined = compute them in the graph. */
  fixedHW?: [number, number];
  /** The prior parameters of the model description (needed for the decoding tail). */
  priors?: PriorParams;
}

export function buildUlfd(L: Layers, input: string, o: UlfdOptions): ArchOutputs {
  const base: [number, number, number][] = [
    [16, 32, 1], [32, 32, 2], [32, 32, 1], [32, 64, 2], [64, 64, 1], [64, 64, 1], [64, 64, 1],
    [64, 128, 2], [128, 128, 1], [128, 128, 1], [128, 256, 2], [256, 256, 1],
  ];
  let x = convBnRelu(L, input, 'base_net.0', 3, 16, 2);
  const sources: string[] = [];
  base.forEach(([cin, cout, s], i) => {
    const p = `base_net.${i + 1}`;
    x = o.variant === 'rfb' && i + 1 === 7 ? basicRfb(L, x, p, cin, cout, s) : convDw(L, x, p, cin, cout, s);
    if (i + 1 === 7 || i + 1 === 10 || i + 1 === 12) sources.push(x); // source_layer_indexes 8, 11, 13
  });
  let y = L.relu(L.conv(x, 'extras.0.0', { cin: 256, cout: 64, k: 1, bias: true }), 'extras.0.1');
  sources.push(L.relu(depthConv2d(L, y, 'extras.0.2', 64, 256, 3, 2, 1), 'extras.0.3'));

  const chans = [64, 128, 256, 256];
  const anchors = [3, 2, 2, 3]; // priors per cell at each level (fixed by the checkpoint's head shapes)
  const confs: string[] = [];
  const locs: string[] = [];
  const levelMaps: string[] = [];
  sources.forEach((f, i) => {
    for (const [head, per, list] of [['classification_headers', 2, confs], ['regression_headers', 4, locs]] as [string, number, string[]][]) {
      const p = `${head}.${i}`;
      y = i < 3 ? depthConv2d(L, f, p, chans[i], anchors[i] * per, 3, 1, 1) : L.conv(f, p, { cin: chans[i], cout: anchors[i] * per, k: 3, pad: 1, bias: true });
      if (per === 4) levelMaps.push(y);
      list.push(L.flattenHead(y, per, p));
    }
  });
  const scores = L.softmax(L.concat(confs, 1, 'confidences'), 2, 'scores.softmax');
  const locations = L.concat(locs, 1, 'locations');
  if (!o.postprocess) return [{ tensor: scores, name: 'scores', last: 2 }, { tensor: locations, name: 'boxes', last: 4 }];

  const pp = o.priors;
  if (!pp) throw new Error('the Ultra-Light decoding tail needs the prior parameters of the model description');
  const baked = o.fixedHW ? ultraLightPriors(pp, o.fixedHW[0], o.fixedHW[1]) : undefined;
  const priors = baked ? L.g.constFloat('priors', [baked.length / 4, 4], baked) : priorsInGraph(L, input, levelMaps, pp);
  return [{ tensor: scores, name: 'scores', last: 2 }, { tensor: decodeBoxes(L, locations, priors, pp.variance), name: 'boxes', last: 4 }];
}

/** convert_locations_to_boxes + center_form_to_corner_form. */
function decodeBoxes(L: Layers, loc: string, priors: string, variance: [number, number]): string {
  const g = L.g;
  const i64 = (n: string, v: number[]) => g.constInt64(n, [v.length], v);
  const slice = (x: string, a: number, b: number, name: string) => g.op('Slice', [x, i64(`${name}.start`, [a]), i64(`${name}.end`, [b]), i64(`${name}.axes`, [-1])], {}, name);
  const pXY = slice(priors, 0, 2, 'priors.xy');
  const pWH = slice(priors, 2, 4, 'priors.wh');
  const lXY = slice(loc, 0, 2, 'loc.xy');
  const lWH = slice(loc, 2, 4, 'loc.wh');
  const cv = g.constFloat('center_variance', [], [variance[0]]);
  const sv = g.constFloat('size_variance', [], [variance[1]]);
  const xy = g.op('Add', [g.op('Mul', [g.op('Mul', [lXY, cv], {}, 'decode.xy_var'), pWH], {}, 'decode.xy_scale'), pXY], {}, 'decode.xy');
  const wh = g.op('Mul', [g.op('Exp', [g.op('Mul', [lWH, sv], {}, 'decode.wh_var')], {}, 'decode.wh_exp'), pWH], {}, 'decode.wh');
  const half = g.op('Div', [wh, g.constFloat('two', [], [2])], {}, 'decode.half');
  const tl = g.op('Sub', [xy, half], {}, 'decode.tl');
  const br = g.op('Add', [xy, half], {}, 'decode.br');
  return g.op('Concat', [tl, br], { axis: A.int(2) }, 'decode.corners');
}

/** Priors from the head feature map shapes and the input size, at run time. */
function priorsInGraph(L: Layers, input: string, levelMaps: string[], pp: PriorParams): string {
  const g = L.g;
  const i64 = (n: string, v: number[]) => g.constInt64(n, [v.length], v);
  const f32 = (n: string, v: number[], dims = [v.length]) => g.constFloat(n, dims, v);
  const dimOf = (x: string, axis: number, name: string) => // shape[axis] as float scalar-ish [1]
    g.op('Cast', [g.op('Slice', [g.op('Shape', [x], {}, `${name}.shape`), i64(`${name}.a0`, [axis]), i64(`${name}.a1`, [axis + 1])], {}, `${name}.slice`)], { to: A.int(1) }, name);
  const imgH = dimOf(input, 2, 'priors.img_h');
  const imgW = dimOf(input, 3, 'priors.img_w');
  const levels = levelMaps.map((m, k) => {
    const p = `priors.l${k}`;
    const nb = pp.minSizes[k].length;
    const fh = dimOf(m, 2, `${p}.fh`);
    const fw = dimOf(m, 3, `${p}.fw`);
    const fhS = g.op('Squeeze', g.opset >= 13 ? [fh, i64(`${p}.sq_h`, [0])] : [fh], g.opset >= 13 ? {} : { axes: A.ints([0]) }, `${p}.fh_s`);
    const fwS = g.op('Squeeze', g.opset >= 13 ? [fw, i64(`${p}.sq_w`, [0])] : [fw], g.opset >= 13 ? {} : { axes: A.ints([0]) }, `${p}.fw_s`);
    const one = g.constFloat(`${p}.one`, [], [1]);
    const halfC = g.constFloat(`${p}.half`, [], [0.5]);
    const z = g.constFloat(`${p}.start`, [], [0]);
    // (arange(f) + 0.5) / f
    const cx = g.op('Div', [g.op('Add', [g.op('Range', [z, fwS, one], {}, `${p}.rx`), halfC], {}, `${p}.cx0`), fwS], {}, `${p}.cx`);
    const cy = g.op('Div', [g.op('Add', [g.op('Range', [z, fhS, one], {}, `${p}.ry`), halfC], {}, `${p}.cy0`), fhS], {}, `${p}.cy`);
    const boxes = f32(`${p}.min_boxes`, pp.minSizes[k]);
    const w = g.op('Div', [boxes, imgW], {}, `${p}.w`); // [nb]
    const h = g.op('Div', [boxes, imgH], {}, `${p}.h`);
    // broadcast everything to [fh, fw, nb, 1] and concat on the last axis
    const fhI = g.op('Cast', [fh], { to: A.int(7) }, `${p}.fh_i`);
    const fwI = g.op('Cast', [fw], { to: A.int(7) }, `${p}.fw_i`);
    const full = g.op('Concat', [fhI, fwI, i64(`${p}.nb1`, [nb, 1])], { axis: A.int(0) }, `${p}.full`);
    const cxE = g.op('Expand', [g.op('Reshape', [cx, i64(`${p}.cx_shape`, [1, -1, 1, 1])], {}, `${p}.cx_r`), full], {}, `${p}.cx_e`);
    const cyE = g.op('Expand', [g.op('Reshape', [cy, i64(`${p}.cy_shape`, [-1, 1, 1, 1])], {}, `${p}.cy_r`), full], {}, `${p}.cy_e`);
    const wE = g.op('Expand', [g.op('Reshape', [w, i64(`${p}.w_shape`, [1, 1, nb, 1])], {}, `${p}.w_r`), full], {}, `${p}.w_e`);
    const hE = g.op('Expand', [g.op('Reshape', [h, i64(`${p}.h_shape`, [1, 1, nb, 1])], {}, `${p}.h_r`), full], {}, `${p}.h_e`);
    const cat = g.op('Concat', [cxE, cyE, wE, hE], { axis: A.int(3) }, `${p}.cat`);
    return g.op('Reshape', [cat, i64(`${p}.flat`, [-1, 4])], {}, `${p}.flat`);
  });
  const all = g.op('Concat', levels, { axis: A.int(0) }, 'priors.cat');
  if (!pp.clip) return all;
  // Clip's min/max are inputs since opset 11
  return g.op('Clip', [all, g.constFloat('priors.min', [], [0]), g.constFloat('priors.max', [], [1])], {}, 'priors');
}
