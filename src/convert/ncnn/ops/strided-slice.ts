/**
 * Step-2 Slices over H and W (YOLOv5's Focus stem: x[..., ::2, ::2], x[..., 1::2, ::2], ...)
 * rewritten before lowering as SpaceToDepth (ncnn Reorg, mode 1) followed by a step-1 Slice of
 * one channel block: SpaceToDepth(2) puts phase (row offset sh, column offset sw) of every channel
 * in the block (2*sh + sw), so x[..., sh::2, sw::2] is channels [(2sh+sw)C, (2sh+sw+1)C). ncnn's
 * Crop has no step. Needs static, even H and W (an odd size gives the slice one more row).
 */
import type { Model, Node } from '../../../onnx/model.js';
import { opsetVersion } from '../../../onnx/model.js';
import { inferShapes, type TensorInfo } from '../../../onnx/shape-inference.js';
import { Tensor } from '../../../onnx/tensor.js';
import { int } from '../format/param.js';
import type { LowerContext } from '../lower.js';
import type { LowerResult, OpEntry } from '../op-table.js';
import { P, single } from './emit.js';

export function rewriteStridedSlices(model: Model, inputShapes?: Record<string, number[]>): Model {
  const g = model.graph;
  if (opsetVersion(model) < 10) return model;
  const ints = (name: string) => g.initializers.get(name)?.toNumbers();
  const candidates = g.nodes.filter((n) => n.opType === 'Slice' && n.inputs[4] && ints(n.inputs[4])?.some((s) => s === 2));
  if (!candidates.length) return model;
  let infos: Map<string, TensorInfo>;
  try {
    infos = inferShapes(model, { inputShapes, allowSymbolic: true });
  } catch {
    return model;
  }
  const initializers = new Map(g.initializers);
  const fresh = (base: string) => {
    let n = base;
    for (let k = 1; initializers.has(n) || infos.has(n); k++) n = `${base}_${k}`;
    return n;
  };
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const s2d = new Map<string, string>(); // one SpaceToDepth per source tensor
  const rewritten = new Set<Node>();
  let nodes: Node[] = [];
  for (const n of g.nodes) {
    const plan = candidates.includes(n) ? planOf(n) : undefined;
    if (!plan) {
      nodes.push(n);
      continue;
    }
    let d = s2d.get(plan.src);
    if (!d) {
      d = fresh(`${plan.src}_s2d`);
      nodes.push({ name: `${n.name || n.outputs[0]}_s2d`, opType: 'SpaceToDepth', domain: '', inputs: [plan.src], outputs: [d], attrs: { blocksize: { type: 'int', value: 2 } } });
      s2d.set(plan.src, d);
    }
    const c = plan.channels, b = plan.block;
    const name = (k: string) => {
      const t = fresh(`${n.outputs[0]}_${k}`);
      initializers.set(t, Tensor.int64(t, [1], [k === 'starts' ? b * c : k === 'ends' ? (b + 1) * c : 1]));
      return t;
    };
    nodes.push({ ...n, inputs: [d, name('starts'), name('ends'), name('axes')], attrs: {} });
    rewritten.add(n);
  }
  // first halves of rewritten two-node chains that nothing reads any more
  const outputs = new Set(g.outputs.map((o) => o.name));
  for (let changed = true; changed; ) {
    const read = new Set(nodes.flatMap((n) => n.inputs));
    const before = nodes.length;
    nodes = nodes.filter((n) => !(n.opType === 'Slice' && candidates.includes(n) && !rewritten.has(n) && n.outputs.every((o) => !read.has(o) && !outputs.has(o))));
    changed = nodes.length !== before;
  }
  return { ...model, graph: { ...g, nodes, initializers } };

  /** Start offsets per axis of a step-2 slice of whole H and/or W: { 2: sh, 3: sw }. */
  function phases(n: Node): Map<number, number> | undefined {
    const dims = infos.get(n.inputs[0])?.shape;
    if (!dims || dims.length !== 4 || !dims.every((x) => typeof x === 'number')) return undefined;
    const starts = ints(n.inputs[1]), ends = ints(n.inputs[2]), steps = ints(n.inputs[4]);
    const axes = (n.inputs[3] ? ints(n.inputs[3]) : starts?.map((_, i) => i))?.map((a) => (a < 0 ? a + 4 : a));
    if (!starts || !ends || !steps || !axes) return undefined;
    const out = new Map<number, number>();
    for (let i = 0; i < axes.length; i++) {
      const size = dims[axes[i]] as number;
      if ((axes[i] !== 2 && axes[i] !== 3) || steps[i] !== 2 || size % 2 || ends[i] < size || (starts[i] !== 0 && starts[i] !== 1)) return undefined;
      out.set(axes[i], starts[i]);
    }
    return out;
  }

  /** Source tensor and channel block of a step-2 H and W slice (one node or a chain of two). */
  function planOf(n: Node): { src: string; block: number; channels: number } | undefined {
    const p = phases(n);
    if (!p) return undefined;
    let src = n.inputs[0];
    if (p.size === 1) {
      const first = producer.get(src);
      const q = first && candidates.includes(first) ? phases(first) : undefined;
      if (!q || q.size !== 1 || [...q.keys()][0] === [...p.keys()][0]) return undefined;
      q.forEach((v, k) => p.set(k, v));
      src = first!.inputs[0];
    }
    const dims = infos.get(src)?.shape as number[];
    return { src, block: 2 * p.get(2)! + p.get(3)!, channels: dims[1] };
  }
}

export const SPACE_TO_DEPTH_OPS: Record<string, OpEntry> = {
  SpaceToDepth: {
    ncnn: 'Reorg',
    lower: (c: LowerContext): LowerResult => {
      if (c.rank(0) !== 4) c.fail('SpaceToDepth of a tensor that is not 4-D');
      // ncnn Reorg mode 1 is ONNX's default DCR order (block-major), mode 0 the CRD order (channel-major)
      const mode = c.node.attrs.mode?.type === 'string' ? c.node.attrs.mode.value : 'DCR';
      if (mode !== 'DCR' && mode !== 'CRD') c.fail(`SpaceToDepth mode '${mode}'`);
      return single('Reorg', c, P([0, int(c.node.attrs.blocksize?.type === 'int' ? c.node.attrs.blocksize.value : 1)], [1, int(mode === 'DCR' ? 1 : 0)]), 4);
    },
  },
};
