/**
 * biubug6 "version-slim" / "version-RFB" (our): a MobileNet-like backbone (conv_bn + conv_dw),
 * four detection levels at strides 8/16/32/64 with 3/2/2/3 anchors, and box (4), class (2) and
 * 5-landmark (10) heads. RFB differs only in conv8, a BasicRFB block. See models/net_slim.py,
 * models/net_rfb.py of Face-Detector-1MB-with-landmark.
 */
import { basicRfb, convBnRelu, convDw, depthConv2d } from './blocks.js';
import type { Layers } from './layers.js';
import type { ArchOutputs } from './types.js';

export function buildSlimLike(L: Layers, input: string, variant: 'slim' | 'rfb'): ArchOutputs {
  const dw: [string, number, number, number][] = [
    ['conv2', 16, 32, 1], ['conv3', 32, 32, 2], ['conv4', 32, 32, 1], ['conv5', 32, 64, 2],
    ['conv6', 64, 64, 1], ['conv7', 64, 64, 1],
  ];
  let x = convBnRelu(L, input, 'conv1', 3, 16, 2);
  for (const [p, cin, cout, s] of dw) x = convDw(L, x, p, cin, cout, s);
  const x8 = variant === 'rfb' ? basicRfb(L, x, 'conv8', 64, 64, 1) : convDw(L, x, 'conv8', 64, 64, 1);
  x = convDw(L, x8, 'conv9', 64, 128, 2);
  x = convDw(L, x, 'conv10', 128, 128, 1);
  const x11 = convDw(L, x, 'conv11', 128, 128, 1);
  x = convDw(L, x11, 'conv12', 128, 256, 2);
  const x13 = convDw(L, x, 'conv13', 256, 256, 1);
  let y = L.relu(L.conv(x13, 'conv14.0', { cin: 256, cout: 64, k: 1, bias: true }), 'conv14.1');
  const x14 = L.relu(depthConv2d(L, y, 'conv14.2', 64, 256, 3, 2, 1), 'conv14.3');

  const feats: [string, number, number][] = [[x8, 64, 3], [x11, 128, 2], [x13, 256, 2], [x14, 256, 3]];
  const heads = { loc: 4, conf: 2, landm: 10 } as const;
  const parts: Record<keyof typeof heads, string[]> = { loc: [], conf: [], landm: [] };
  feats.forEach(([f, c, anchors], i) => {
    for (const [head, per] of Object.entries(heads) as [keyof typeof heads, number][]) {
      const p = `${head}.${i}`;
      y = i < 3 ? depthConv2d(L, f, p, c, anchors * per, 3, 1, 1) : L.conv(f, p, { cin: c, cout: anchors * per, k: 3, pad: 1, bias: true });
      parts[head].push(L.flattenHead(y, per, p));
    }
  });
  const loc = L.concat(parts.loc, 1, 'loc.cat');
  const conf = L.softmax(L.concat(parts.conf, 1, 'conf.cat'), -1, 'conf.softmax');
  const landms = L.concat(parts.landm, 1, 'landm.cat');
  return [
    { tensor: loc, name: 'loc', last: 4 },
    { tensor: conf, name: 'conf', last: 2 },
    { tensor: landms, name: 'landms', last: 10 },
  ];
}
