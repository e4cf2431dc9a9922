/**
 * Blocks shared by the seed (biubug6) and Ultra-Light (Linzaer) networks, named after the Python
 * helpers they mirror so the state_dict key layout is easy to follow:
 *   conv_bn      Sequential(Conv3x3 no-bias, BN, ReLU)                  keys .0 / .1
 *   conv_dw      Sequential(DW3x3, BN, ReLU, PW1x1, BN, ReLU)            keys .0 .1 / .3 .4
 *   depth_conv2d Sequential(DW kxk with bias, ReLU, PW1x1 with bias)     keys .0 / .2
 *                (Ultra-Light calls the same thing SeperableConv2d)
 *   BasicConv    conv (+ bn) (+ relu)                                    keys .conv / .bn
 *   BasicRFB     three dilated branches + 1x1 linear + shortcut, ReLU    (used with scale 1.0)
 */
import type { ConvSpec, Layers } from './layers.js';

export function convBnRelu(L: Layers, x: string, p: string, cin: number, cout: number, stride: number): string {
  return L.relu(L.convBn(x, `${p}.0`, `${p}.1`, { cin, cout, k: 3, stride, pad: 1, bias: false }), `${p}.2`);
}

export function convDw(L: Layers, x: string, p: string, cin: number, cout: number, stride: number): string {
  let y = L.relu(L.convBn(x, `${p}.0`, `${p}.1`, { cin, cout: cin, k: 3, stride, pad: 1, groups: cin, bias: false }), `${p}.2`);
  y = L.relu(L.convBn(y, `${p}.3`, `${p}.4`, { cin, cout, k: 1, bias: false }), `${p}.5`);
  return y;
}

export function depthConv2d(L: Layers, x: string, p: string, cin: number, cout: number, k: number, stride: number, pad: number): string {
  const y = L.relu(L.conv(x, `${p}.0`, { cin, cout: cin, k, stride, pad, groups: cin, bias: true }), `${p}.1`);
  return L.conv(y, `${p}.2`, { cin, cout, k: 1, bias: true });
}

/** BasicConv of net_rfb.py: a bias-free, ungrouped conv + BN, with ReLU unless `relu: false`. */
export type BasicConvSpec = Omit<ConvSpec, 'groups' | 'bias'> & { relu?: boolean };

export function basicConv(L: Layers, x: string, p: string, s: BasicConvSpec): string {
  const y = L.convBn(x, `${p}.conv`, `${p}.bn`, { cin: s.cin, cout: s.cout, k: s.k, stride: s.stride, pad: s.pad, dilation: s.dilation, bias: false });
  return s.relu === false ? y : L.relu(y, `${p}.relu`);
}

/** BasicRFB(in, out, stride, scale=1.0, map_reduce=8, vision=1). scale 1.0: `out * scale` is the identity, so no Mul. */
export function basicRfb(L: Layers, x: string, p: string, cin: number, cout: number, stride = 1, vision = 1): string {
  const inter = Math.floor(cin / 8);
  const b0 = [
    { cin, cout: inter, k: 1, relu: false },
    { cin: inter, cout: 2 * inter, k: 3, stride, pad: 1 },
    { cin: 2 * inter, cout: 2 * inter, k: 3, pad: vision + 1, dilation: vision + 1, relu: false },
  ];
  const b1 = [
    { cin, cout: inter, k: 1, relu: false },
    { cin: inter, cout: 2 * inter, k: 3, stride, pad: 1 },
    { cin: 2 * inter, cout: 2 * inter, k: 3, pad: vision + 2, dilation: vision + 2, relu: false },
  ];
  const half3 = Math.floor(inter / 2) * 3;
  const b2 = [
    { cin, cout: inter, k: 1, relu: false },
    { cin: inter, cout: half3, k: 3, pad: 1 },
    { cin: half3, cout: 2 * inter, k: 3, stride, pad: 1 },
    { cin: 2 * inter, cout: 2 * inter, k: 3, pad: vision + 4, dilation: vision + 4, relu: false },
  ];
  const branch = (specs: BasicConvSpec[], name: string) => specs.reduce((y, s, i) => basicConv(L, y, `${p}.${name}.${i}`, s), x);
  const cat = L.concat([branch(b0, 'branch0'), branch(b1, 'branch1'), branch(b2, 'branch2')], 1, `${p}.cat`);
  const lin = basicConv(L, cat, `${p}.ConvLinear`, { cin: 6 * inter, cout, k: 1, relu: false });
  const short = basicConv(L, x, `${p}.shortcut`, { cin, cout, k: 1, stride, relu: false });
  return L.relu(L.add(lin, short, `${p}.add`), `${p}.relu`);
}
