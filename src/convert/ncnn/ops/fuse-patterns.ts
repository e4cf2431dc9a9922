/**
 * Fuses the decomposed forms that older exporters write for transformer-era layers, like pnnx
 * does, into one ONNX node each before lowering (one ncnn layer instead of 5-9):
 *   x * 0.5 * (1 + erf(x / sqrt 2))                        -> Gelu          (ncnn GELU)
 *   (x - mean) / sqrt(mean((x - mean)^2) + eps) * g + b     -> LayerNormalization (ncnn LayerNorm)
 *   x * sigmoid(x)                                           -> Swish         (ncnn Swish; ONNX 24's op, alpha 1)
 *   x * hardsigmoid(x) (alpha 1/6, beta 1/2, torch's hardswish below opset 14) -> HardSwish (ncnn
 *                                                              HardSwish, which convolutions then take over as activation 6)
 * A pattern fuses only when every intermediate tensor is read by the pattern alone.
 */
import type { Model, Node } from '../../../onnx/model.js';
import { attrFloat, attrInt, attrInts } from '../../../onnx/model.js';
import { Tensor } from '../../../onnx/tensor.js';

export function fusePatterns(model: Model): Model {
  const g = model.graph;
  const ops = new Set(g.nodes.map((n) => n.opType));
  if (!ops.has('Erf') && !ops.has('ReduceMean') && !ops.has('Sigmoid') && !ops.has('HardSigmoid')) return model;
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const readers = new Map<string, Node[]>();
  const producer = new Map<string, Node>();
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
    for (const o of n.outputs) producer.set(o, n);
  }
  const initializers = new Map(g.initializers);
  const scalar = (name: string): number | undefined => {
    const t = initializers.get(name) ?? constantNode(producer.get(name));
    return t && t.dims.reduce((a, b) => a * b, 1) === 1 ? t.toNumbers()[0] : undefined;
  };
  /** The only reader of tensor t, when t is not a graph output. */
  const only = (t: string, op: string): Node | undefined => {
    const r = readers.get(t);
    return r && r.length === 1 && r[0].opType === op && !graphOutputs.has(t) ? r[0] : undefined;
  };
  /** For a binary node reading `t`, its other operand. */
  const other = (n: Node, t: string) => (n.inputs[0] === t ? n.inputs[1] : n.inputs[0]);
  const near = (a: number | undefined, b: number, tol = 1e-4) => a !== undefined && Math.abs(a - b) <= tol * Math.abs(b);

  const removed = new Set<Node>();
  const replace = new Map<Node, Node>();
  const fuse = (last: Node, parts: Node[], fused: Node) => {
    for (const p of parts) removed.add(p);
    removed.delete(last);
    replace.set(last, fused);
  };

  for (const n of g.nodes) {
    if (removed.has(n) || replace.has(n)) continue;
    // GELU: Div(x, sqrt2) -> Erf -> Add(1) -> Mul(x) -> Mul(0.5)   (or Mul(x, 1/sqrt2) first)
    if (n.opType === 'Erf') {
      const pre = producer.get(n.inputs[0]);
      if (!pre || (pre.opType !== 'Div' && pre.opType !== 'Mul') || only(pre.outputs[0], 'Erf') !== n) continue;
      const x = pre.inputs[0];
      if (!(pre.opType === 'Div' ? near(scalar(pre.inputs[1]), Math.SQRT2) : near(scalar(pre.inputs[1]), Math.SQRT1_2))) continue;
      const add = only(n.outputs[0], 'Add');
      if (!add || !near(scalar(other(add, n.outputs[0])), 1)) continue;
      const m1 = only(add.outputs[0], 'Mul');
      if (!m1 || other(m1, add.outputs[0]) !== x) continue;
      const m2 = only(m1.outputs[0], 'Mul');
      if (!m2 || !near(scalar(other(m2, m1.outputs[0])), 0.5)) continue;
      fuse(m2, [pre, n, add, m1, m2], { name: m2.name, opType: 'Gelu', domain: '', inputs: [x], outputs: m2.outputs, attrs: {} });
    }
    // SiLU: Sigmoid(x) -> Mul(x, .)
    if (n.opType === 'Sigmoid') {
      const mul = only(n.outputs[0], 'Mul');
      if (!mul || other(mul, n.outputs[0]) !== n.inputs[0]) continue;
      fuse(mul, [n, mul], { name: mul.name, opType: 'Swish', domain: '', inputs: [n.inputs[0]], outputs: mul.outputs, attrs: {} });
    }
    // HardSwish: HardSigmoid(x; 1/6, 1/2) -> Mul(x, .)
    if (n.opType === 'HardSigmoid') {
      if (!near(attrFloat(n, 'alpha', 0.2), 1 / 6) || !near(attrFloat(n, 'beta', 0.5), 0.5)) continue;
      const mul = only(n.outputs[0], 'Mul');
      if (!mul || other(mul, n.outputs[0]) !== n.inputs[0]) continue;
      fuse(mul, [n, mul], { name: mul.name, opType: 'HardSwish', domain: '', inputs: [n.inputs[0]], outputs: mul.outputs, attrs: {} });
    }
    // LayerNorm: ReduceMean(x) -> Sub(x, m) -> Pow(d, 2) -> ReduceMean -> Add(eps) -> Sqrt -> Div(d, s) [-> Mul(g) -> Add(b)]
    if (n.opType === 'ReduceMean') {
      const axes = reduceAxes(n);
      if (!axes || attrInt(n, 'keepdims', 1) !== 1) continue;
      const x = n.inputs[0];
      const sub = only(n.outputs[0], 'Sub');
      if (!sub || sub.inputs[0] !== x || sub.inputs[1] !== n.outputs[0]) continue;
      const d = sub.outputs[0];
      const dr = readers.get(d) ?? [];
      const pow = dr.find((r) => r.opType === 'Pow' && r.inputs[0] === d && near(scalar(r.inputs[1]), 2));
      const div = dr.find((r) => r.opType === 'Div' && r.inputs[0] === d);
      if (dr.length !== 2 || !pow || !div || graphOutputs.has(d)) continue;
      const mean2 = only(pow.outputs[0], 'ReduceMean');
      if (!mean2 || String(reduceAxes(mean2)) !== String(axes) || attrInt(mean2, 'keepdims', 1) !== 1) continue;
      const addEps = only(mean2.outputs[0], 'Add');
      const eps = addEps && scalar(other(addEps, mean2.outputs[0]));
      if (!addEps || eps === undefined) continue;
      const sqrt = only(addEps.outputs[0], 'Sqrt');
      if (!sqrt || only(sqrt.outputs[0], 'Div') !== div || div.inputs[1] !== sqrt.outputs[0]) continue;
      // negative axes -k..-1 (torch's form) are LayerNormalization's axis -k; a positive list
      // would need the rank to tell whether it ends at the last axis
      const sorted = [...axes].sort((a, b) => a - b);
      if (!sorted.every((a, i) => a < 0 && a === sorted[0] + i) || sorted[sorted.length - 1] !== -1) continue;
      let last = div;
      const parts = [n, sub, pow, mean2, addEps, sqrt, div];
      let gamma: string | undefined, beta: string | undefined;
      const mul = only(div.outputs[0], 'Mul');
      if (mul && initializers.has(other(mul, div.outputs[0]))) {
        gamma = other(mul, div.outputs[0]);
        parts.push(mul);
        last = mul;
        const add = only(mul.outputs[0], 'Add');
        if (add && initializers.has(other(add, mul.outputs[0]))) {
          beta = other(add, mul.outputs[0]);
          parts.push(add);
          last = add;
        }
      }
      if (!gamma) continue; // without a constant scale the op-by-op form is kept
      fuse(last, parts, {
        name: last.name, opType: 'LayerNormalization', domain: '', inputs: beta ? [x, gamma, beta] : [x, gamma], outputs: last.outputs,
        attrs: { axis: { type: 'int', value: sorted[0] }, epsilon: { type: 'float', value: eps } },
      });
    }
  }
  if (!replace.size) return model;
  const nodes = g.nodes.filter((n) => !removed.has(n)).map((n) => replace.get(n) ?? n);
  return { ...model, graph: { ...g, nodes, initializers } };

  function reduceAxes(n: Node): number[] | undefined {
    const fromInput = n.inputs[1];
    if (fromInput) return initializers.get(fromInput)?.toNumbers();
    return attrInts(n, 'axes');
  }
}

function constantNode(n: Node | undefined): Tensor | undefined {
  const a = n?.opType === 'Constant' ? n.attrs.value : undefined;
  return a?.type === 'tensor' ? a.value : undefined;
}
