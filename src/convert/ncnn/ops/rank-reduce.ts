/**
 * Rank reduction by axis merging, run before lowering (after the batch-major re-layout).
 *
 * ncnn Mats have at most 4 axes besides the batch, but exports of windowed / multi-head attention
 * view tensors at rank 6 for one step: Swin's window partition is
 *   Reshape [1,56,56,96] -> [1,8,7,8,7,96], Transpose perm [0,1,3,2,4,5], Reshape -> [64,49,96]
 * and its q/k/v split is Reshape -> [.., 3, heads, hd], Transpose moving the 3 in front, Gather.
 * With batch 1 and static sizes the same bytes move with fewer axes. Four rewrites, each exact:
 *
 *   1. Gather through Transpose: a constant scalar Gather of a Transpose output picks along the
 *      permuted input axis instead, and a Transpose of one axis less follows.
 *   2. Gather through Reshape: a scalar Gather on the outer factor of a split input axis
 *      (in[j] = out[a] * inner) is a Slice of that input axis [k*inner, (k+1)*inner) + Reshape.
 *   3. Axis merging: input axes that stay adjacent and in order through a Transpose's perm are
 *      one axis, unit axes are none: Reshape to the merged dims -> Transpose -> Reshape back.
 *   4. Reshape of a Reshape reads the first one's input (the target is made static), so the
 *      rank-6 views of 3 meet their neighbours and vanish.
 * Only tensors of rank > 5 (4 without the batch) are touched; the batch axis is never merged.
 */
import type { Model, Node } from '../../../onnx/model.js';
import { attrInt, attrInts } from '../../../onnx/model.js';
import { inferShapes } from '../../../onnx/shape-inference.js';
import { Tensor } from '../../../onnx/tensor.js';

/** ONNX rank (with the batch axis) that ncnn's 4-D Mats hold. */
const MAX_RANK = 5;
const prod = (a: number[]) => a.reduce((p, q) => p * q, 1);

export function reduceRanks(model: Model, inputShapes?: Record<string, number[]>): Model {
  const g = model.graph;
  const wide = (n: Node) =>
    (n.opType === 'Reshape' && (g.initializers.get(n.inputs[1])?.dims[0] ?? 0) > MAX_RANK) || (n.opType === 'Transpose' && (attrInts(n, 'perm')?.length ?? 0) > MAX_RANK);
  if (!g.nodes.some(wide)) return model;
  let infos;
  try {
    infos = inferShapes(model, { inputShapes, allowSymbolic: true });
  } catch {
    return model;
  }
  const shapes = new Map<string, number[]>();
  for (const [k, v] of infos) if (v.shape?.every((d) => typeof d === 'number' && d >= 0)) shapes.set(k, v.shape as number[]);
  for (const [k, t] of g.initializers) shapes.set(k, t.dims);
  const initializers = new Map(g.initializers);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const taken = new Set([...shapes.keys(), ...g.nodes.flatMap((n) => n.outputs)]);
  const fresh = (base: string) => {
    let n = base;
    for (let k = 1; taken.has(n); k++) n = `${base}_${k}`;
    taken.add(n);
    return n;
  };
  const ints = (base: string, values: number[]) => {
    const name = fresh(base);
    initializers.set(name, Tensor.int64(name, [values.length], values));
    return name;
  };
  const scalarInt = (base: string, v: number) => {
    const name = fresh(base);
    initializers.set(name, Tensor.int64(name, [], [v]));
    return name;
  };
  const reshape = (name: string, x: string, to: number[], out?: string): Node => {
    const o = out ?? fresh(`${name}_out`);
    shapes.set(o, to);
    return { name, opType: 'Reshape', domain: '', inputs: [x, ints(`${name}_shape`, to)], outputs: [o], attrs: {} };
  };
  const scalarIndex = (n: Node): number | undefined => {
    const t = initializers.get(n.inputs[1]);
    return n.opType === 'Gather' && t && t.dims.length === 0 ? t.toNumbers()[0] : undefined;
  };
  const rankOf = (t: string) => shapes.get(t)?.length ?? 0;

  let nodes = g.nodes;
  // 1. Gathers through Transposes
  nodes = rewrite(nodes, (n, readers) => {
    if (n.opType !== 'Transpose' || rankOf(n.outputs[0]) <= MAX_RANK || graphOutputs.has(n.outputs[0])) return undefined;
    const rs = readers.get(n.outputs[0]) ?? [];
    const x = shapes.get(n.inputs[0]);
    if (!x || !rs.length || !rs.every((r) => scalarIndex(r) !== undefined && r.inputs[0] === n.outputs[0])) return undefined;
    const perm = attrInts(n, 'perm') ?? [...x.keys()].reverse();
    const replaced = new Map<Node, Node[]>();
    for (const r of rs) {
      let a = attrInt(r, 'axis', 0);
      if (a < 0) a += perm.length;
      const src = perm[a];
      let k = scalarIndex(r)!;
      if (k < 0) k += x[src];
      const picked = fresh(`${r.outputs[0]}_picked`);
      shapes.set(picked, x.filter((_, i) => i !== src));
      const rest = perm.filter((_, i) => i !== a).map((p) => (p > src ? p - 1 : p));
      replaced.set(r, [
        { ...r, inputs: [n.inputs[0], scalarInt(`${r.outputs[0]}_index`, k)], outputs: [picked], attrs: { axis: { type: 'int', value: src } } },
        { name: `${r.name}_transpose`, opType: 'Transpose', domain: '', inputs: [picked], outputs: r.outputs, attrs: { perm: { type: 'ints', value: rest } } },
      ]);
    }
    return { remove: [n], replace: replaced };
  });
  // 2. scalar Gathers on the outer factor of a split axis: Slice + Reshape
  nodes = rewrite(nodes, (n, _readers, producer) => {
    const k0 = scalarIndex(n);
    const r = producer.get(n.inputs[0]);
    if (k0 === undefined || r?.opType !== 'Reshape' || rankOf(r.outputs[0]) <= MAX_RANK) return undefined;
    const inD = shapes.get(r.inputs[0]), outD = shapes.get(r.outputs[0]);
    if (!inD || !outD) return undefined;
    let a = attrInt(n, 'axis', 0);
    if (a < 0) a += outD.length;
    const before = prod(outD.slice(0, a));
    let j = 0;
    while (j < inD.length && prod(inD.slice(0, j)) < before) j++;
    if (j >= inD.length || prod(inD.slice(0, j)) !== before || inD[j] % outD[a] !== 0) return undefined;
    const inner = inD[j] / outD[a];
    // out[a+1..m] must fill exactly the inner part of in[j]
    let p = 1, m = a + 1;
    while (m < outD.length && p < inner) p *= outD[m++];
    if (p !== inner) return undefined;
    const k = k0 < 0 ? k0 + outD[a] : k0;
    const sliced = fresh(`${n.outputs[0]}_slice`);
    shapes.set(sliced, inD.map((d, i) => (i === j ? inner : d)));
    const slice: Node = {
      name: `${n.name}_slice`, opType: 'Slice', domain: '', outputs: [sliced], attrs: {},
      inputs: [r.inputs[0], ints(`${n.name}_starts`, [k * inner]), ints(`${n.name}_ends`, [(k + 1) * inner]), ints(`${n.name}_axes`, [j])],
    };
    return { remove: [], replace: new Map([[n, [slice, reshape(n.name, sliced, outD.filter((_, i) => i !== a), n.outputs[0])]]]) };
  });
  // 3. Transposes of rank > 5: merge the axes that stay adjacent, drop unit axes
  nodes = rewrite(nodes, (n) => {
    const x = shapes.get(n.inputs[0]);
    if (n.opType !== 'Transpose' || !x || x.length <= MAX_RANK) return undefined;
    const perm = attrInts(n, 'perm') ?? [...x.keys()].reverse();
    const keep = perm.filter((p) => p === 0 || x[p] !== 1); // unit axes carry no data; axis 0 is the batch
    const groups: number[][] = [];
    for (const p of keep) {
      const last = groups[groups.length - 1];
      if (last && p !== 0 && last[0] !== 0 && p === last[last.length - 1] + 1) last.push(p);
      else groups.push([p]);
    }
    const order = [...groups].sort((u, v) => u[0] - v[0]);
    if (order.length >= x.length) return undefined;
    const mergedIn = order.map((gr) => prod(gr.map((i) => x[i])));
    const newPerm = groups.map((gr) => order.indexOf(gr));
    const outD = shapes.get(n.outputs[0]) ?? perm.map((p) => x[p]);
    const pre = reshape(`${n.name}_merge`, n.inputs[0], mergedIn);
    const t = fresh(`${n.outputs[0]}_merged`);
    shapes.set(t, newPerm.map((p) => mergedIn[p]));
    const tr: Node = { ...n, inputs: [pre.outputs[0]], outputs: [t], attrs: { perm: { type: 'ints', value: newPerm } } };
    return { remove: [], replace: new Map([[n, [pre, tr, reshape(`${n.name}_split`, t, outD, n.outputs[0])]]]) };
  });
  // 4. Reshape of a Reshape reads the first one's input
  const producer = new Map<string, Node>();
  nodes = nodes.map((n) => {
    let out = n;
    const p = producer.get(n.inputs[0]);
    const to = shapes.get(n.outputs[0]);
    if (n.opType === 'Reshape' && p?.opType === 'Reshape' && to && (rankOf(p.outputs[0]) > MAX_RANK || rankOf(n.outputs[0]) > MAX_RANK || p.name.endsWith('_split') || n.name.endsWith('_merge')))
      out = { ...n, inputs: [p.inputs[0], ints(`${n.name}_static`, to)] };
    for (const o of out.outputs) producer.set(o, out);
    return out;
  });
  nodes = withoutDead(nodes, graphOutputs);
  return { ...model, graph: { ...g, nodes, initializers } };
}

interface Rewrite { remove: Node[]; replace: Map<Node, Node[]> }

/** Applies `f` to every node (with the current readers/producers) and splices its rewrites in place. */
function rewrite(nodes: Node[], f: (n: Node, readers: Map<string, Node[]>, producer: Map<string, Node>) => Rewrite | undefined): Node[] {
  const readers = new Map<string, Node[]>();
  const producer = new Map<string, Node>();
  for (const n of nodes) {
    for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
    for (const o of n.outputs) producer.set(o, n);
  }
  const removed = new Set<Node>();
  const replace = new Map<Node, Node[]>();
  for (const n of nodes) {
    if (removed.has(n) || replace.has(n)) continue;
    const r = f(n, readers, producer);
    if (!r) continue;
    r.remove.forEach((x) => removed.add(x));
    r.replace.forEach((v, k) => replace.set(k, v));
  }
  return nodes.flatMap((n) => (removed.has(n) ? [] : replace.get(n) ?? [n]));
}

/** Nodes whose outputs nothing reads any more (the views the rewrites bypassed). */
function withoutDead(nodes: Node[], graphOutputs: Set<string>): Node[] {
  let cur = nodes;
  for (;;) {
    const read = new Set(cur.flatMap((n) => n.inputs));
    const next = cur.filter((n) => n.outputs.some((o) => read.has(o) || graphOutputs.has(o)));
    if (next.length === cur.length) return cur;
    cur = next;
  }
}
