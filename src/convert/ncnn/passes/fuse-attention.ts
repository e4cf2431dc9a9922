/**
 * Attention fusion: the self-attention torch exports for nn.MultiheadAttention (ViT, DETR-style
 * encoders) lowers to ~25 ncnn layers per block — the packed in_proj Gemm, Reshape / Permute /
 * Squeeze / Slice to split q, k, v into heads, scalar Muls, MatMul, Softmax, MatMul, Permute /
 * Reshape to merge the heads, the out_proj Gemm. pnnx writes one ncnn MultiHeadAttention for
 * it; this pass does the same.
 *
 * The layout glue between the projections and the MatMuls is not matched layer by layer (its
 * form changes with the exporter, the opset and fdk's own lowering): it is traced. Every element
 * of q, k and v is followed back through the glue to the projection output element it holds, and
 * every element of the out_proj input back to the attention output element; the pattern fuses
 * only when that map is exactly a head split (q[h, i, d] = Q[i, col(h, d)], the same column for
 * every row i) and a head merge. That is also what gives ncnn's weight order: MultiHeadAttention
 * row h*hd + d of q_weight is the projection's column col(h, d).
 *
 * Left as it is (no match): masks or any other non-scalar op on the scores, Softmax on another
 * axis, cross-attention (q, k, v projected from different blobs), glue that is not a pure
 * layout change, any intermediate read outside the pattern or a graph output.
 */
import { float, int, type NcnnLayer, type WeightBlob } from '../format/param.js';
import { layerRecord, paramsOf, permuteAxes, type Dims } from '../layers/index.js';
import { blobDims, blobReaders, type Pass } from './graph-util.js';
import { strides } from '../../../onnx/ops/value.js';

/** Layers that move no data or move it without computing (their element map is traced). */
const LAYOUT = new Set(['Reshape', 'Permute', 'Squeeze', 'ExpandDims', 'Flatten', 'Slice']);

const params = (l: NcnnLayer) => paramsOf(layerRecord(l.type)!, l.params);
const vol = (d: Dims) => d.reduce((a, b) => a * b, 1);

/** The factor of a BinaryOp that multiplies or divides by a scalar param (x * b, x / b). */
function scalarFactor(l: NcnnLayer): number | undefined {
  if (l.type !== 'BinaryOp' || l.inputs.length !== 1) return undefined;
  const p = params(l);
  if (!p.num('with_scalar')) return undefined;
  const b = p.num('b');
  return p.num('op_type') === 2 ? b : p.num('op_type') === 3 && b !== 0 ? 1 / b : undefined;
}

/**
 * A projection: Gemm of 2-D rows by a constant B, optional C of N values, nothing else. ncnn's
 * MultiHeadAttention wants weights as one row of K per output feature; fdk writes B as (K, N)
 * (transB 0), so they are gathered in 16x16 tiles (ViT-B: 28 M weights).
 */
interface Projection {
  layer: NcnnLayer; K: number; N: number;
  /** Row j = the weights of output feature col[j] (K values). */
  rows: (col: Int32Array) => Float32Array;
  /** All N output features as rows, with input feature e written at column at[e]. */
  columnsPermuted: (at: Int32Array) => Float32Array;
  bias: (n: number) => number;
}

const TILE = 16;

function projection(l: NcnnLayer | undefined, dims: Map<string, Dims>): Projection | undefined {
  if (l?.type !== 'Gemm' || l.inputs.length !== 1 || l.outputs.length !== 1) return undefined;
  const p = params(l);
  const plain = p.num('constantA') === 0 && p.num('constantB') === 1 && p.num('transA') === 0 && p.num('alpha') === 1 && p.num('beta') === 1
    && p.num('output_N1M') === 0 && p.num('output_transpose') === 0 && p.num('int8_scale_term') === 0;
  const hasC = p.num('constantC') === 1;
  if (!plain || (hasC && p.num('constant_broadcast_type_C') !== 4) || (!hasC && p.num('constantC') !== 0)) return undefined;
  const x = dims.get(l.inputs[0]);
  const K = p.num('constantK'), N = p.num('constantN');
  if (x?.length !== 2 || x[1] !== K || l.weights.length !== (hasC ? 2 : 1)) return undefined;
  const B = l.weights[0].data, C = hasC ? l.weights[1].data : undefined;
  if (B.length !== K * N || (C && C.length !== N)) return undefined;
  // element (k, n) of the (K, N) matrix
  const [sk, sn] = p.num('transB') ? [1, K] : [N, 1];
  const rows = (col: Int32Array) => {
    const out = new Float32Array(col.length * K);
    for (let j0 = 0; j0 < col.length; j0 += TILE)
      for (let k0 = 0; k0 < K; k0 += TILE)
        for (let j = j0; j < Math.min(col.length, j0 + TILE); j++)
          for (let k = k0, o = j * K + k0, at = k0 * sk + col[j] * sn; k < Math.min(K, k0 + TILE); k++, o++, at += sk) out[o] = B[at];
    return out;
  };
  const columnsPermuted = (at: Int32Array) => {
    const out = new Float32Array(N * K);
    for (let n0 = 0; n0 < N; n0 += TILE)
      for (let k0 = 0; k0 < K; k0 += TILE)
        for (let n = n0; n < Math.min(N, n0 + TILE); n++)
          for (let k = k0; k < Math.min(K, k0 + TILE); k++) out[n * K + at[k]] = B[k * sk + n * sn];
    return out;
  };
  return { layer: l, K, N, rows, columnsPermuted, bias: (n) => (C ? C[n] : 0) };
}

/** src read with an odometer over outDims, input offset start + sum idx[k] * step[k] (transpose, slice). */
function gather(src: Int32Array, outDims: Dims, step: number[], start: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(vol(outDims));
  const idx = new Array<number>(outDims.length).fill(0);
  let at = start;
  for (let o = 0; o < out.length; o++) {
    out[o] = src[at];
    for (let k = outDims.length - 1; k >= 0; k--) {
      idx[k]++;
      at += step[k];
      if (idx[k] < outDims[k]) break;
      at -= step[k] * outDims[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** One step of a traced chain: the layer and the output blob the chain follows. */
interface Step { layer: NcnnLayer; out: string }

interface Traced { map: Int32Array; dims: Dims; key: string }

/** What decides a step's element map: type, params, the dims it writes (and which Slice output). */
function stepKey({ layer: l, out }: Step, dims: Map<string, Dims>): string {
  const ps = [...l.params].map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
  const outs = l.type === 'Slice' ? `${l.outputs.map((o) => dims.get(o)?.join('x')).join('/')}#${l.outputs.indexOf(out)}` : dims.get(out)?.join('x');
  return `${l.type}(${ps})${outs}`;
}

/**
 * The element map of a chain of layout layers: result[e] = the flat index, in the chain's first
 * input (dims d0), of the element at flat index e of the last output. Undefined when a layer is
 * not a pure layout change or dims are unknown. `cache` holds the maps of chains traced before,
 * by structure: q, k and v share the glue up to their split, and every block of a transformer
 * has the same glue, so each distinct chain is traced once.
 */
function trace(steps: Step[], d0: Dims, dims: Map<string, Dims>, cache: Map<string, Traced>): Traced | undefined {
  const keys: string[] = [];
  for (const s of steps) keys.push(`${keys.length ? keys[keys.length - 1] : d0.join('x')}|${stepKey(s, dims)}`);
  let from = steps.length;
  while (from > 0 && !cache.has(keys[from - 1])) from--;
  let map: Int32Array, d: Dims;
  if (from > 0) ({ map, dims: d } = cache.get(keys[from - 1])!);
  else {
    map = new Int32Array(vol(d0));
    for (let i = 0; i < map.length; i++) map[i] = i;
    d = d0;
  }
  for (let i = from; i < steps.length; i++) {
    const { layer: l, out } = steps[i];
    const od = dims.get(out);
    if (!od) return undefined;
    if (l.type === 'Permute') {
      const axes = permuteAxes(params(l).num('order_type'), d.length);
      if (!axes) return undefined;
      const s = strides(d);
      map = gather(map, od, axes.map((a) => s[a]), 0);
    } else if (l.type === 'Slice') {
      const a0 = params(l).num('axis'), axis = a0 < 0 ? a0 + d.length : a0;
      if (od.length !== d.length || axis < 0 || axis >= d.length) return undefined;
      // this output starts where the outputs before it end along the axis
      let offset = 0;
      for (const o of l.outputs.slice(0, l.outputs.indexOf(out))) offset += dims.get(o)?.[axis] ?? NaN;
      if (!Number.isInteger(offset)) return undefined;
      const s = strides(d);
      map = gather(map, od, s, offset * s[axis]);
    } else if (l.type === 'Reshape' && params(l).num('permute')) return undefined;
    // Reshape, Squeeze, ExpandDims, Flatten and scalar factors keep the element order
    if (vol(od) !== map.length) return undefined;
    d = od;
    cache.set(keys[i], { map, dims: d, key: keys[i] });
  }
  return { map, dims: d, key: keys.length ? keys[keys.length - 1] : d0.join('x') };
}

/** Follows a blob back through layout layers (and scalar factors when allowed) to a projection. */
function backToProjection(blob: string, producer: Map<string, NcnnLayer>, dims: Map<string, Dims>, allowScale: boolean): { proj: Projection; steps: Step[]; scale: number } | undefined {
  const steps: Step[] = [];
  let scale = 1;
  for (let b = blob; ;) {
    const l = producer.get(b);
    const proj = projection(l, dims);
    if (proj) return { proj, steps: steps.reverse(), scale };
    if (!l || l.inputs.length !== 1) return undefined;
    const f = allowScale ? scalarFactor(l) : undefined;
    if (f !== undefined) scale *= f;
    else if (!LAYOUT.has(l.type)) return undefined;
    steps.push({ layer: l, out: b });
    b = l.inputs[0];
  }
}

/** [heads, rows, cols] from dims of rank 2 (one head) or with leading unit axes. */
function asHeads(d: Dims | undefined): Dims | undefined {
  if (!d) return undefined;
  let x = [...d];
  while (x.length > 3 && x[0] === 1) x = x.slice(1);
  if (x.length === 2) x = [1, ...x];
  return x.length === 3 ? x : undefined;
}

/**
 * The projection column of every (head, d) of q, k or v: element (h, r, d) must come from row r of
 * the projection output, and from the same column for every r. `at(h, r, d)` is the flat index of
 * that element in the traced tensor (k may be transposed).
 */
function headColumns(map: Int32Array, N: number, H: number, rows: number, hd: number, at: (h: number, r: number, d: number) => number): Int32Array | undefined {
  const col = new Int32Array(H * hd);
  for (let h = 0; h < H; h++)
    for (let d = 0; d < hd; d++)
      for (let r = 0; r < rows; r++) {
        const f = map[at(h, r, d)];
        if (Math.floor(f / N) !== r) return undefined;
        if (r === 0) col[h * hd + d] = f % N;
        else if (f % N !== col[h * hd + d]) return undefined;
      }
  return col;
}

/**
 * For a head merge traced from the attention output [H, L, hd] to [L, E]: the embed index
 * h * hd + d that each column e holds, the same for every row; undefined otherwise.
 */
function headMerge(map: Int32Array, H: number, L: number, hd: number): Int32Array | undefined {
  const E = H * hd, embOf = new Int32Array(E);
  for (let r = 0; r < L; r++)
    for (let e = 0; e < E; e++) {
      const f = map[r * E + e], j = Math.floor(f / (L * hd)) * hd + (f % hd);
      if (Math.floor(f / hd) % L !== r || (r > 0 && embOf[e] !== j)) return undefined;
      embOf[e] = j;
    }
  return embOf;
}

export const fuseAttention: Pass = (net, { outputs }) => {
  const fused: string[] = [];
  if (!net.layers.some((l) => l.type === 'Softmax')) return { changes: fused };
  const dims = blobDims(net.layers);
  if (!dims) return { changes: fused };
  const producer = new Map<string, NcnnLayer>();
  for (const l of net.layers) for (const o of l.outputs) producer.set(o, l);
  const consumers = blobReaders(net.layers);
  const sole = (b: string) => {
    const c = consumers.get(b);
    return c?.length === 1 && !outputs.has(b) ? c[0] : undefined;
  };
  const traces = new Map<string, Traced>(), colCache = new Map<string, Int32Array | undefined>(), mergeCache = new Map<string, Int32Array | undefined>();
  const replaced = new Map<NcnnLayer, NcnnLayer>();
  const removed = new Set<NcnnLayer>();

  for (const sm of net.layers.filter((l) => l.type === 'Softmax')) {
    // scores = MatMul(q, kT) [* or / scalars] -> Softmax over the last axis -> MatMul(., v)
    const sd = asHeads(dims.get(sm.inputs[0]));
    const axis = params(sm).num('axis');
    if (!sd || sm.inputs.length !== 1 || (axis !== dims.get(sm.inputs[0])!.length - 1 && axis !== -1)) continue;
    const between: NcnnLayer[] = [];
    let scale = 1;
    let m1 = producer.get(sm.inputs[0]);
    for (let f = m1 && scalarFactor(m1); m1 && f !== undefined; f = m1 && scalarFactor(m1)) {
      scale *= f;
      between.push(m1);
      m1 = producer.get(m1.inputs[0]);
    }
    const m2 = sole(sm.outputs[0]);
    if (m1?.type !== 'MatMul' || m1.inputs.length !== 2 || m2?.type !== 'MatMul' || m2.inputs.length !== 2 || m2.inputs[0] !== sm.outputs[0] || params(m2).num('transB')) continue;
    const [H, L, S] = sd;
    const qd = asHeads(dims.get(m1.inputs[0])), kd = asHeads(dims.get(m1.inputs[1])), vd = asHeads(dims.get(m2.inputs[1]));
    const kT = !params(m1).num('transB');
    if (!qd || !kd || !vd || qd[0] !== H || qd[1] !== L) continue;
    const hd = qd[2];
    if (kd.join() !== (kT ? [H, hd, S] : [H, S, hd]).join() || vd.join() !== [H, S, hd].join()) continue;
    const q = backToProjection(m1.inputs[0], producer, dims, true);
    const k = backToProjection(m1.inputs[1], producer, dims, true);
    const v = backToProjection(m2.inputs[1], producer, dims, false);
    if (!q || !k || !v) continue;
    // self-attention: q, k and v projected from one blob X (L rows of qdim)
    const x = q.proj.layer.inputs[0];
    if (k.proj.layer.inputs[0] !== x || v.proj.layer.inputs[0] !== x || dims.get(x)![0] !== L || L !== S) continue;
    const qdim = q.proj.K;
    const tq = trace(q.steps, [L, q.proj.N], dims, traces), tk = trace(k.steps, [L, k.proj.N], dims, traces), tv = trace(v.steps, [L, v.proj.N], dims, traces);
    if (!tq || !tk || !tv) continue;
    const cols = (t: Traced, N: number, rows: number, at: (h: number, r: number, d: number) => number, role: string) => {
      const key = `${role}:${t.key}:${N}:${H}:${rows}:${hd}`;
      if (!colCache.has(key)) colCache.set(key, headColumns(t.map, N, H, rows, hd, at));
      return colCache.get(key);
    };
    const colQ = cols(tq, q.proj.N, L, (h, r, d) => (h * L + r) * hd + d, 'q');
    const colK = cols(tk, k.proj.N, S, kT ? (h, r, d) => (h * hd + d) * S + r : (h, r, d) => (h * S + r) * hd + d, kT ? 'kT' : 'k');
    const colV = cols(tv, v.proj.N, S, (h, r, d) => (h * S + r) * hd + d, 'v');
    if (!colQ || !colK || !colV) continue;

    // head merge: MatMul output [H, L, hd] -> layout layers -> out_proj Gemm on [L, E]
    const E = H * hd;
    const outSteps: Step[] = [];
    let b = m2.outputs[0], outProj: Projection | undefined;
    for (let l = sole(b); l; l = sole(b)) {
      outProj = projection(l, dims);
      if (outProj || !LAYOUT.has(l.type) || l.type === 'Slice' || l.inputs.length !== 1 || l.outputs.length !== 1) break;
      outSteps.push({ layer: l, out: l.outputs[0] });
      b = l.outputs[0];
    }
    if (!outProj || outProj.K !== E || outProj.N !== qdim) continue;
    const to = trace(outSteps, [H, L, hd], dims, traces);
    if (!to || to.dims.length !== 2 || to.dims[0] !== L || to.dims[1] !== E) continue;
    if (!mergeCache.has(to.key)) mergeCache.set(to.key, headMerge(to.map, H, L, hd));
    const embOf = mergeCache.get(to.key);
    if (!embOf) continue;

    // nothing in the pattern may be read from outside it
    const inside = new Set<NcnnLayer>([q.proj.layer, k.proj.layer, v.proj.layer, ...[q, k, v].flatMap((c) => c.steps.map((s) => s.layer)), m1, ...between, sm, m2, ...outSteps.map((s) => s.layer)]);
    // (and no layer may belong to a pattern fused before: as a part, or as the out_proj it replaced)
    if (removed.has(outProj.layer) || replaced.has(outProj.layer)) continue;
    if ([...inside].some((l) => removed.has(l) || replaced.has(l) || l.outputs.some((o) => outputs.has(o) || (consumers.get(o) ?? []).some((c) => !inside.has(c) && c !== outProj!.layer)))) continue;

    // ncnn's layout: q/k/v weights (E rows of qdim), out weights (qdim rows of E), biases raw
    const rowsOf = (p: Projection, col: Int32Array): WeightBlob[] => {
      const bias = new Float32Array(E);
      for (let j = 0; j < E; j++) bias[j] = p.bias(col[j]);
      return [{ data: p.rows(col), tagged: true }, { data: bias, tagged: false }];
    };
    const ob = new Float32Array(qdim);
    for (let o = 0; o < qdim; o++) ob[o] = outProj.bias(o);
    // every scalar factor (on q, on k, on the scores) multiplies the scores once: ncnn's scale (6),
    // left out when it is ncnn's default 1/sqrt(hd) (torch's sqrt(scale) on q and k squares back to
    // it within float rounding), as pnnx writes the layer
    const s = q.scale * k.scale * scale;
    const mhaParams = new Map([[0, int(E)], [1, int(H)], [2, int(E * qdim)], [3, int(k.proj.K)], [4, int(v.proj.K)]]);
    if (Math.abs(s * Math.sqrt(hd) - 1) > 1e-6) mhaParams.set(6, float(s));
    const mha: NcnnLayer = {
      type: 'MultiHeadAttention',
      name: outProj.layer.name,
      inputs: [x],
      outputs: [...outProj.layer.outputs],
      params: mhaParams,
      weights: [...rowsOf(q.proj, colQ), ...rowsOf(k.proj, colK), ...rowsOf(v.proj, colV), { data: outProj.columnsPermuted(embOf), tagged: true }, { data: ob, tagged: false }],
    };
    replaced.set(outProj.layer, mha);
    for (const l of inside) removed.add(l);
    fused.push(`${m1.name} .. ${outProj.layer.name} -> MultiHeadAttention (${H} heads of ${hd})`);
  }
  if (fused.length) net.layers = net.layers.flatMap((l) => (replaced.has(l) ? [replaced.get(l)!] : removed.has(l) ? [] : [l]));
  return { changes: fused };
};
