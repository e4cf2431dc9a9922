/**
 * Slice -> ncnn Crop, and for positive steps a Reshape/Crop/Reshape per stepped axis.
 *
 * ncnn's Crop takes step 1 only. A step s along an axis of (static) length n = len * s is taken by
 * viewing the tensor as (outer, len, s, inner), cropping index 0 of the s axis and viewing it back;
 * a last incomplete group adds one more Crop + Concat. Only copies, no arithmetic: the YOLO "Focus"
 * pattern x[..., ::2, ::2] becomes 6 layers. A negative step (reversal) has no copy-only form in
 * ncnn: the axis is viewed as (outer, n, inner) and multiplied by a constant 0/1 selection matrix
 * (MatMul), exact but a dense product.
 */
import { attrInts } from '../../../onnx/model.js';
import { int, ints } from '../format/param.js';
import { reshapeParams } from '../passes/batch-axis.js';
import type { EmittedLayer, LowerContext } from '../lower.js';
import { P, memoryData, type Lower, type LowerResult } from '../lowering-helpers.js';

const clampI = (v: number) => Math.max(-2147483647, Math.min(2147483647, v));

function reshapeLayer(dims: number[], input: string, output: string, suffix: string): EmittedLayer {
  const pm = reshapeParams([1, ...dims], dims.length + 1);
  return { type: 'Reshape', params: new Map([...pm.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, int(v)])), inputs: [input], outputs: [output], suffix };
}
const crop = (axis: number, start: number, end: number, input: string, output: string, suffix: string): EmittedLayer => ({
  type: 'Crop', params: P([9, ints([start])], [10, ints([end])], [11, ints([axis])]), inputs: [input], outputs: [output], suffix,
});

function sliceWith(c: LowerContext, starts: number[], ends: number[], axesIn?: number[], stepsIn?: number[]): LowerResult {
  const r = c.rank(0);
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
  const steps = stepsIn ?? axes.map(() => 1);
  if (steps.some((s) => s === 0)) c.fail(`Slice steps [${steps}] include 0`);
  const st: number[] = [], en: number[] = [], ax: number[] = [];
  axes.forEach((aa, i) => {
    if (aa === 0) {
      if (starts[i] !== 0 || ends[i] < 1 || steps[i] !== 1) c.fail('Slice along the batch axis', 'batch');
      return;
    }
    if (steps[i] < 0) return; // selected by a matrix below
    st.push(clampI(starts[i]));
    en.push(clampI(ends[i]));
    ax.push(aa - 1);
  });
  const reversed = axes.map((a, i) => [a, i]).filter(([a, i]) => a > 0 && steps[i] < 0);
  if (ax.length === 0 && !reversed.length) return { alias: 0 };
  const base = c.node.outputs[0];
  const layers: EmittedLayer[] = [];
  let x = c.blob(0);
  if (ax.length) {
    layers.push({ type: 'Crop', params: P([9, ints(st)], [10, ints(en)], [11, ints(ax)]), inputs: [x], outputs: [`${base}_range`], suffix: 'range' });
    x = `${base}_range`;
  }
  const stepped = axes.map((a, i) => [a, steps[i], i]).filter(([a, s]) => a > 0 && s > 1);
  if (stepped.length || reversed.length) {
    const dims = c.dimsOf(c.inputName(0));
    if (!dims?.every((d) => typeof d === 'number' && d > 0)) c.fail(`Slice steps [${steps}] need static input sizes (fix them with --input NAME:1x3xHxW)`);
    // ncnn dims (no batch) after the step-1 crop, following ONNX's clamping
    const cur = (dims as number[]).slice(1);
    axes.forEach((a, i) => {
      if (a === 0 || steps[i] < 0) return;
      const n = cur[a - 1];
      const norm = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
      cur[a - 1] = Math.max(0, norm(ends[i]) - norm(starts[i]));
    });
    for (const [a, i] of reversed) {
      // indices start, start+step, ... > end (ONNX clamping for negative steps), as a 0/1 matrix
      const axis = a - 1, n = cur[axis];
      const s0 = Math.min(n - 1, Math.max(0, starts[i] < 0 ? starts[i] + n : starts[i]));
      const e0 = Math.min(n - 1, Math.max(-1, ends[i] < 0 ? ends[i] + n : ends[i]));
      const picks: number[] = [];
      for (let j = s0; j > e0; j += steps[i]) picks.push(j);
      if (!picks.length) c.fail('Slice selects nothing: ncnn has no empty Mats');
      const sel = new Float32Array(picks.length * n);
      picks.forEach((j, r) => (sel[r * n + j] = 1));
      const outer = cur.slice(0, axis).reduce((p, q) => p * q, 1), inner = cur.slice(axis + 1).reduce((p, q) => p * q, 1);
      const tag = `r${axis}`;
      layers.push(reshapeLayer([outer, n, inner], x, `${base}_${tag}_view`, `${tag}_view`));
      layers.push(memoryData(`${base}_${tag}_select`, [picks.length, n], sel, `${tag}_select`));
      layers.push({ type: 'MatMul', params: P(), inputs: [`${base}_${tag}_select`, `${base}_${tag}_view`], outputs: [`${base}_${tag}_picked`], suffix: `${tag}_picked` });
      cur[axis] = picks.length;
      layers.push(reshapeLayer([...cur], `${base}_${tag}_picked`, `${base}_${tag}_out`, `${tag}_out`));
      x = `${base}_${tag}_out`;
    }
    let k = 0;
    for (const [a, s] of stepped) {
      const axis = a - 1;
      const n = cur[axis];
      const len = Math.ceil(n / s), full = Math.floor(n / s);
      const outer = cur.slice(0, axis).reduce((p, q) => p * q, 1), inner = cur.slice(axis + 1).reduce((p, q) => p * q, 1);
      const next = [...cur];
      next[axis] = len;
      const tag = `s${k++}`;
      if (full === 0) {
        layers.push(crop(axis, 0, 1, x, `${base}_${tag}_tail`, `${tag}_tail`));
        x = `${base}_${tag}_tail`;
        cur.splice(0, cur.length, ...next);
        continue;
      }
      // full groups: (outer, full, s, inner) -> index 0 of the s axis
      layers.push(crop(axis, 0, full * s, x, `${base}_${tag}_full`, `${tag}_full`));
      layers.push(reshapeLayer([outer, full, s, inner], `${base}_${tag}_full`, `${base}_${tag}_groups`, `${tag}_groups`));
      layers.push(crop(2, 0, 1, `${base}_${tag}_groups`, `${base}_${tag}_picked`, `${tag}_picked`));
      const picked = [...cur];
      picked[axis] = full;
      layers.push(reshapeLayer(picked, `${base}_${tag}_picked`, `${base}_${tag}_out`, `${tag}_out`));
      if (len > full) {
        // the first element of the incomplete last group
        layers.push(crop(axis, full * s, full * s + 1, x, `${base}_${tag}_tail`, `${tag}_tail`));
        layers.push({ type: 'Concat', params: P([0, int(axis)]), inputs: [`${base}_${tag}_out`, `${base}_${tag}_tail`], outputs: [`${base}_${tag}_cat`], suffix: `${tag}_cat` });
        x = `${base}_${tag}_cat`;
      } else x = `${base}_${tag}_out`;
      cur.splice(0, cur.length, ...next);
    }
  }
  const last = layers[layers.length - 1];
  layers[layers.length - 1] = { ...last, outputs: undefined, suffix: undefined };
  return { layers, ranks: [r] };
}

/** Slice-1 reads attributes; Slice-10 reads inputs and adds steps. */
export const SLICE_VERSIONS: Record<number, Lower> = {
  1: (c) => sliceWith(c, attrInts(c.node, 'starts') ?? [], attrInts(c.node, 'ends') ?? [], attrInts(c.node, 'axes')),
  10: (c) =>
    sliceWith(c, c.constNumbers(1, 'starts'), c.constNumbers(2, 'ends'), c.hasInput(3) ? c.constNumbers(3, 'axes') : undefined, c.hasInput(4) ? c.constNumbers(4, 'steps') : undefined),
};
