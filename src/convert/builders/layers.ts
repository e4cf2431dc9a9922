/**
 * PyTorch-module-shaped building blocks (Conv2d, BatchNorm2d, ReLU, ...) emitted as ONNX nodes,
 * reading their parameters from a state_dict by the module's key prefix.
 *
 * Every parameter an architecture asks for is recorded, so after building we can compare the
 * architecture's keys with the checkpoint's and report ALL missing / unexpected / mis-shaped keys
 * in one error (what `load_state_dict(strict=True)` would complain about).
 */
import { A, GraphBuilder } from '../../onnx/builder.js';
import { Tensor } from '../../onnx/tensor.js';
import { tensorFloat32, type StateDict } from '../pytorch/checkpoint.js';

export interface LayerOptions {
  /** Fold BatchNormalization into the preceding convolution. */
  foldBn: boolean;
}

export class Weights {
  /** key -> expected shape, in the order the architecture asks for them. */
  readonly expected = new Map<string, number[]>();
  /** BatchNorm step counters: expected, but their absence (old checkpoints) is fine. */
  readonly optional = new Set<string>();

  constructor(readonly sd: StateDict) {}

  /** Values of `key` as float32 (zeros when missing or mis-shaped: the build continues to collect all problems). */
  get(key: string, shape: number[]): Float32Array {
    this.expected.set(key, shape);
    const t = this.sd.get(key);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!t || !sameShape(t.shape, shape)) return new Float32Array(n);
    return tensorFloat32(t);
  }

  expectOptional(key: string, shape: number[]): void {
    this.expected.set(key, shape);
    this.optional.add(key);
  }

  /** Problems as short phrases; empty when the checkpoint matches the architecture exactly. */
  problems(): { missing: string[]; unexpected: string[]; mismatched: string[] } {
    const missing: string[] = [];
    const mismatched: string[] = [];
    for (const [k, shape] of this.expected) {
      const t = this.sd.get(k);
      if (!t) {
        if (!this.optional.has(k)) missing.push(k);
      } else if (!sameShape(t.shape, shape)) mismatched.push(`${k} [${t.shape.join('x')}] vs [${shape.join('x')}]`);
    }
    const unexpected = [...this.sd.keys()].filter((k) => !this.expected.has(k));
    return { missing, unexpected, mismatched };
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export interface ConvSpec {
  cin: number;
  cout: number;
  k: number;
  stride?: number;
  pad?: number;
  dilation?: number;
  groups?: number;
  bias: boolean;
}

/** The emitter: graph builder + weights + options. */
export class Layers {
  constructor(readonly g: GraphBuilder, readonly w: Weights, readonly opts: LayerOptions) {}

  private convNode(x: string, name: string, s: ConvSpec, weight: Float32Array, bias: Float32Array | undefined, wKey: string, bKey: string): string {
    const groups = s.groups ?? 1;
    const wName = this.g.addInitializer(wKey, Tensor.float32(wKey, [s.cout, s.cin / groups, s.k, s.k], weight));
    const inputs = [x, wName];
    if (bias) inputs.push(this.g.addInitializer(bKey, Tensor.float32(bKey, [s.cout], bias)));
    const pad = s.pad ?? 0;
    const dil = s.dilation ?? 1;
    return this.g.op('Conv', inputs, {
      dilations: A.ints([dil, dil]),
      group: A.int(groups),
      kernel_shape: A.ints([s.k, s.k]),
      pads: A.ints([pad, pad, pad, pad]),
      strides: A.ints([s.stride ?? 1, s.stride ?? 1]),
    }, name);
  }

  /** nn.Conv2d at `prefix` (keys prefix.weight [, prefix.bias]). */
  conv(x: string, prefix: string, s: ConvSpec): string {
    const groups = s.groups ?? 1;
    const weight = this.w.get(`${prefix}.weight`, [s.cout, s.cin / groups, s.k, s.k]);
    const bias = s.bias ? this.w.get(`${prefix}.bias`, [s.cout]) : undefined;
    return this.convNode(x, prefix, s, weight, bias, `${prefix}.weight`, `${prefix}.bias`);
  }

  /** nn.BatchNorm2d at `prefix`, as its own node (inference mode). */
  private bnParams(prefix: string, c: number) {
    const p = {
      gamma: this.w.get(`${prefix}.weight`, [c]),
      beta: this.w.get(`${prefix}.bias`, [c]),
      mean: this.w.get(`${prefix}.running_mean`, [c]),
      variance: this.w.get(`${prefix}.running_var`, [c]),
    };
    this.w.expectOptional(`${prefix}.num_batches_tracked`, []);
    return p;
  }

  bn(x: string, prefix: string, c: number, eps = 1e-5): string {
    const p = this.bnParams(prefix, c);
    const ins = [
      x,
      this.g.constFloat(`${prefix}.weight`, [c], p.gamma),
      this.g.constFloat(`${prefix}.bias`, [c], p.beta),
      this.g.constFloat(`${prefix}.running_mean`, [c], p.mean),
      this.g.constFloat(`${prefix}.running_var`, [c], p.variance),
    ];
    return this.g.op('BatchNormalization', ins, { epsilon: A.float(eps) }, prefix);
  }

  /**
   * Conv2d followed by BatchNorm2d. With --fold-bn the pair becomes one Conv:
   *   W' = W * g / sqrt(v + eps),  b' = (b - m) * g / sqrt(v + eps) + beta   (per output channel)
   * computed in float64 and stored as float32.
   */
  convBn(x: string, convPrefix: string, bnPrefix: string, s: ConvSpec, eps = 1e-5): string {
    if (!this.opts.foldBn) return this.bn(this.conv(x, convPrefix, s), bnPrefix, s.cout, eps);
    const groups = s.groups ?? 1;
    const weight = this.w.get(`${convPrefix}.weight`, [s.cout, s.cin / groups, s.k, s.k]);
    const bias = s.bias ? this.w.get(`${convPrefix}.bias`, [s.cout]) : new Float32Array(s.cout);
    const p = this.bnParams(bnPrefix, s.cout);
    const per = weight.length / s.cout;
    const w2 = new Float32Array(weight.length);
    const b2 = new Float32Array(s.cout);
    for (let o = 0; o < s.cout; o++) {
      const f = p.gamma[o] / Math.sqrt(p.variance[o] + eps);
      for (let i = 0; i < per; i++) w2[o * per + i] = weight[o * per + i] * f;
      b2[o] = (bias[o] - p.mean[o]) * f + p.beta[o];
    }
    return this.convNode(x, convPrefix, { ...s, bias: true }, w2, b2, `${convPrefix}.weight`, `${convPrefix}.bias`);
  }

  relu(x: string, name?: string): string {
    return this.g.op('Relu', [x], {}, name);
  }

  concat(xs: string[], axis: number, name?: string): string {
    return this.g.op('Concat', xs, { axis: A.int(axis) }, name);
  }

  add(a: string, b: string, name?: string): string {
    return this.g.op('Add', [a, b], {}, name);
  }

  /** x.permute(0,2,3,1).contiguous().view(N, -1, last). */
  flattenHead(x: string, last: number, name: string): string {
    const t = this.g.op('Transpose', [x], { perm: A.ints([0, 2, 3, 1]) }, `${name}.permute`);
    const shape = this.g.constInt64(`${name}.shape`, [3], [0, -1, last]);
    return this.g.op('Reshape', [t, shape], {}, `${name}.view`);
  }

  softmax(x: string, axis: number, name?: string): string {
    return this.g.op('Softmax', [x], { axis: A.int(axis) }, name);
  }

  /**
   * F.interpolate(x, size=like.shape[2:], mode='nearest'): Resize with sizes taken from `like` at run
   * time. PyTorch's nearest is floor(dst * in/out), which is ONNX asymmetric + floor.
   */
  resizeNearestLike(x: string, like: string, name: string): string {
    const g = this.g;
    const shapeX = g.op('Shape', [x], {}, `${name}.shape_x`);
    const shapeL = g.op('Shape', [like], {}, `${name}.shape_like`);
    const nc = g.op('Slice', [shapeX, g.constInt64(`${name}.s0`, [1], [0]), g.constInt64(`${name}.s2`, [1], [2])], {}, `${name}.nc`);
    const hw = g.op('Slice', [shapeL, g.constInt64(`${name}.e2`, [1], [2]), g.constInt64(`${name}.e4`, [1], [4])], {}, `${name}.hw`);
    const sizes = g.op('Concat', [nc, hw], { axis: A.int(0) }, `${name}.sizes`);
    // opset 11/12: roi and scales are required inputs (empty when sizes is given)
    const roi = g.opset < 13 ? g.constFloat(`${name}.roi`, [0], []) : '';
    const scales = g.opset < 13 ? g.constFloat(`${name}.scales`, [0], []) : '';
    return g.op('Resize', [x, roi, scales, sizes], {
      coordinate_transformation_mode: A.string('asymmetric'),
      mode: A.string('nearest'),
      nearest_mode: A.string('floor'),
    }, name);
  }
}
