/**
 * biubug6 "Retinaface-Mobilenet-0.25" (our): MobileNetV1 x0.25 body (stage1..3, strides 8/16/32),
 * FPN with nearest upsampling, one SSH context module per level, and 1x1 class/box/landmark heads
 * with 2 anchors per location. In this repository's models/net.py the FPN/SSH conv_bn blocks use
 * plain ReLU (the `leaky` value is computed but unused), and so do we.
 */
import { convBnRelu, convDw } from './blocks.js';
import type { Layers } from './layers.js';
import type { ArchOutputs } from './types.js';

/** conv_bn_no_relu / conv_bn1X1: conv + BN (+ ReLU). */
function convBn(L: Layers, x: string, p: string, cin: number, cout: number, k: 1 | 3, relu: boolean): string {
  const y = L.convBn(x, `${p}.0`, `${p}.1`, { cin, cout, k, pad: k === 3 ? 1 : 0, bias: false });
  return relu ? L.relu(y, `${p}.2`) : y;
}

function ssh(L: Layers, x: string, p: string, cin: number, cout: number): string {
  const c3 = convBn(L, x, `${p}.conv3X3`, cin, cout / 2, 3, false);
  const c51 = convBn(L, x, `${p}.conv5X5_1`, cin, cout / 4, 3, true);
  const c5 = convBn(L, c51, `${p}.conv5X5_2`, cout / 4, cout / 4, 3, false);
  const c72 = convBn(L, c51, `${p}.conv7X7_2`, cout / 4, cout / 4, 3, true);
  const c7 = convBn(L, c72, `${p}.conv7x7_3`, cout / 4, cout / 4, 3, false);
  return L.relu(L.concat([c3, c5, c7], 1, `${p}.cat`), `${p}.relu`);
}

export function buildMnet(L: Layers, input: string): ArchOutputs {
  let x = convBnRelu(L, input, 'body.stage1.0', 3, 8, 2);
  const s1: [number, number, number][] = [[8, 16, 1], [16, 32, 2], [32, 32, 1], [32, 64, 2], [64, 64, 1]];
  s1.forEach(([cin, cout, s], i) => (x = convDw(L, x, `body.stage1.${i + 1}`, cin, cout, s)));
  const f1 = x;
  const s2: [number, number, number][] = [[64, 128, 2], [128, 128, 1], [128, 128, 1], [128, 128, 1], [128, 128, 1], [128, 128, 1]];
  s2.forEach(([cin, cout, s], i) => (x = convDw(L, x, `body.stage2.${i}`, cin, cout, s)));
  const f2 = x;
  const s3: [number, number, number][] = [[128, 256, 2], [256, 256, 1]];
  s3.forEach(([cin, cout, s], i) => (x = convDw(L, x, `body.stage3.${i}`, cin, cout, s)));
  const f3 = x;

  const out = 64;
  const o1 = convBn(L, f1, 'fpn.output1', 64, out, 1, true);
  let o2 = convBn(L, f2, 'fpn.output2', 128, out, 1, true);
  const o3 = convBn(L, f3, 'fpn.output3', 256, out, 1, true);
  o2 = L.add(o2, L.resizeNearestLike(o3, o2, 'fpn.up3'), 'fpn.add2');
  o2 = convBnRelu(L, o2, 'fpn.merge2', out, out, 1);
  let m1 = L.add(o1, L.resizeNearestLike(o2, o1, 'fpn.up2'), 'fpn.add1');
  m1 = convBnRelu(L, m1, 'fpn.merge1', out, out, 1);

  const feats = [ssh(L, m1, 'ssh1', out, out), ssh(L, o2, 'ssh2', out, out), ssh(L, o3, 'ssh3', out, out)];
  const heads: [string, number][] = [['BboxHead', 4], ['ClassHead', 2], ['LandmarkHead', 10]];
  const cat = heads.map(([h, per]) =>
    L.concat(feats.map((f, i) => L.flattenHead(L.conv(f, `${h}.${i}.conv1x1`, { cin: out, cout: 2 * per, k: 1, bias: true }), per, `${h}.${i}`)), 1, `${h}.cat`));
  return [
    { tensor: cat[0], name: 'loc', last: 4 },
    { tensor: L.softmax(cat[1], -1, 'ClassHead.softmax'), name: 'conf', last: 2 },
    { tensor: cat[2], name: 'landms', last: 10 },
  ];
}
