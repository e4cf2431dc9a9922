/**
 * `fdk parity --per-layer`: finds the first layer where ncnn and onnxruntime diverge.
 * Every tensor that exists in both graphs (ncnn blob names follow the ONNX tensor names) is taken:
 * on the ort side by adding the intermediates as graph outputs of a temporary copy of the model,
 * on the ncnn side by extracting the blobs in the worker. They are compared in the ONNX node order
 * (topological), and the first one outside tolerance is reported with its op, attributes, ncnn layer
 * and error size.
 *
 * Speed (a 500-layer model should take a small multiple of a plain Python loop over the blobs):
 * the ncnn worker is started first, so Python's imports overlap with loading and converting; ort
 * runs while the worker loads; the blobs come through shared memory in parts, and each part is
 * compared while the worker computes the next one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeOnnx, loadOnnx } from '../onnx/io.js';
import type { Attr, Node } from '../onnx/model.js';
import { ortRuntime } from '../runtime/ort.js';
import { ncnnRuntime, prestartNcnnWorker, type NcnnExtracted, type NcnnModel } from '../runtime/ncnn.js';
import { convertOnnxForNcnn } from '../runtime/ncnn-convert.js';
import { readFileOrThrow } from '../util/fs.js';
import { conversionNote, type ModelSource } from '../runtime/model-source.js';
import type { TensorMap } from '../runtime/types.js';
import { FdkError } from '../util/errors.js';
import { tensorDiff, type TensorDiff, type Tolerance } from './metrics.js';

export interface LayerDiff extends TensorDiff {
  tensor: string;
  node: string;
  op: string;
  /** The node's inputs (to show whether they still matched). */
  inputs: string[];
  attrs: Record<string, unknown>;
  ncnnLayer?: { type: string; name: string; params: string };
  onnxDims: number[];
  ncnnDims: number[];
  /** Not compared (element counts differ: the ncnn blob has another layout). */
  skipped?: string;
}

export interface PerLayerReport {
  tool: 'fdk parity --per-layer';
  model: { arg: string; path: string };
  ncnn: { param: string; bin: string; note?: string };
  input: string;
  /** A layer diverges when max|ort - ncnn| > atol + rtol * max|ort| over the tensor. */
  tolerance: Tolerance;
  compared: number;
  skipped: number;
  onnxOnly: number;
  layers: LayerDiff[];
  firstDiverging?: LayerDiff;
  ok: boolean;
  /** Where the time went (ms): conversion (0 when cached), ort load + run, ncnn extraction inside the worker, comparison. */
  timings: { convert: number; ort: number; ncnn: number; compare: number; total: number };
}

function attrValue(a: Attr): unknown {
  switch (a.type) {
    case 'tensor':
      return `tensor${JSON.stringify(a.value.dims)}`;
    case 'tensors':
      return `${a.value.length} tensors`;
    case 'graph':
    case 'graphs':
      return 'subgraph';
    case 'other':
      return 'other';
    default:
      return a.value;
  }
}

/** The .param line of the ncnn layer that produces `blob`: type, name and its key=value params. */
function ncnnLayerLines(paramText: string): Map<string, { type: string; name: string; params: string }> {
  const out = new Map<string, { type: string; name: string; params: string }>();
  for (const line of paramText.split('\n').slice(2)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const nIn = Number(f[2]);
    const nOut = Number(f[3]);
    const tops = f.slice(4 + nIn, 4 + nIn + nOut);
    const params = f.slice(4 + nIn + nOut).join(' ');
    for (const t of tops) out.set(t, { type: f[0], name: f[1], params });
  }
  return out;
}

export async function runPerLayer(
  src: ModelSource,
  feeds: TensorMap,
  inputLabel: string,
  opts: { tol: Tolerance; ncnnParam?: string; threads?: number; onProgress?: (msg: string) => void },
): Promise<PerLayerReport> {
  if (src.kind !== 'onnx') throw new FdkError('--per-layer needs the ONNX model as MODEL (the ncnn side is converted from it or given with --ncnn-param)', { file: src.path });
  const t0 = performance.now();
  prestartNcnnWorker();
  const model = loadOnnx(src.path);
  // unoptimised conversion: no BatchNorm folding / activation fusion, so every ONNX tensor keeps an
  // ncnn blob. The blob names come from the .param, so ort can start before the ncnn worker is up.
  opts.onProgress?.('converting for ncnn (no fusion)');
  const converted = opts.ncnnParam ? undefined : await convertOnnxForNcnn(src.path, {}, { optimize: false });
  const convertMs = performance.now() - t0;
  const param = opts.ncnnParam ?? converted!.param;
  const lines = ncnnLayerLines(readFileOrThrow(param).toString('utf8'));
  let ncnn: NcnnModel | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'fdk-per-layer-'));
  try {
    const blobs = new Set(lines.keys());
    const graphInputs = new Set(model.graph.inputs.map((v) => v.name));
    const outputs = new Set(model.graph.outputs.map((v) => v.name));
    const order: { tensor: string; node: Node }[] = [];
    let onnxOnly = 0;
    for (const node of model.graph.nodes)
      for (const t of node.outputs) {
        if (!t || graphInputs.has(t)) continue;
        if (blobs.has(t)) order.push({ tensor: t, node });
        else onnxOnly++;
      }
    if (order.length === 0) throw new FdkError('no tensor name is shared by the ONNX graph and the ncnn blobs; cannot compare layers', { file: src.path });

    // ort: a copy of the model whose outputs include every shared intermediate tensor
    for (const { tensor } of order) if (!outputs.has(tensor)) model.graph.outputs.push({ name: tensor, dtype: 'float32' });
    const probe = join(tmp, 'probe.onnx');
    writeFileSync(probe, encodeOnnx(model));
    // ort (in-process) runs while the ncnn worker loads the model; then the blobs come in parts
    opts.onProgress?.(`ort: running with ${order.length} intermediate outputs; ncnn: extracting ${order.length} blobs`);
    let ortMs = 0;
    const runOrt = async (): Promise<TensorMap> => {
      const start = performance.now();
      const ort = await ortRuntime.load(probe, { threads: opts.threads ?? 1 });
      try {
        return (await ort.run(feeds, order.map((o) => o.tensor))).outputs;
      } finally {
        await ort.release();
        ortMs = performance.now() - start;
      }
    };
    const ortDone = runOrt();
    ortDone.catch(() => undefined); // awaited below; an ort error wins over the ncnn one it causes

    const layers: LayerDiff[] = [];
    let first: LayerDiff | undefined;
    let next = 0; // parts arrive in `order`
    let compareMs = 0;
    const compare = (ortOut: TensorMap, tensor: string, node: Node, b: NcnnExtracted): void => {
      const a = ortOut[tensor];
      const attrs = Object.fromEntries(Object.entries(node.attrs).map(([k, v]) => [k, attrValue(v)]));
      const base = { tensor, node: node.name || tensor, op: node.opType, inputs: node.inputs.filter(Boolean), attrs, ncnnLayer: lines.get(tensor), onnxDims: a.dims, ncnnDims: b.ncnnDims };
      if (a.data.length !== b.tensor.data.length) {
        layers.push({ ...base, n: 0, maxAbs: NaN, maxRel: NaN, cosine: NaN, refMaxAbs: NaN, outside: 0, ok: true, skipped: `element counts differ (${a.data.length} vs ${b.tensor.data.length})` });
        return;
      }
      const d = tensorDiff(a.data, b.tensor.data, { atol: 0, rtol: 0 });
      const limit = opts.tol.atol + opts.tol.rtol * d.refMaxAbs;
      const ok = d.maxAbs <= limit;
      const ld: LayerDiff = { ...base, ...d, outside: ok ? 0 : d.outside, ok };
      layers.push(ld);
      if (!ok && !first) first = ld;
    };
    let ncnnMs = 0;
    try {
      ncnn = await ncnnRuntime.load(param, { threads: opts.threads ?? 1 });
      ({ ms: ncnnMs } = await ncnn.extractEach(feeds, order.map((o) => o.tensor), async (blobs) => {
        const ortOut = await ortDone;
        const start = performance.now();
        for (const name of Object.keys(blobs)) {
          const { tensor, node } = order[next++];
          if (tensor !== name) throw new Error(`ncnn blobs out of order: ${name} where ${tensor} was expected`);
          compare(ortOut, tensor, node, blobs[name]);
        }
        compareMs += performance.now() - start;
      }, { transient: true })); // compared and dropped: no 20 MB buffer per part for the GC
    } catch (e) {
      await ortDone; // ort's own error, if it failed too, explains more
      throw e;
    }
    return {
      tool: 'fdk parity --per-layer',
      model: { arg: src.arg, path: src.path },
      ncnn: { param, bin: param.replace(/\.param$/i, '.bin'), note: conversionNote(converted) },
      input: inputLabel,
      tolerance: opts.tol,
      compared: layers.filter((l) => !l.skipped).length,
      skipped: layers.filter((l) => l.skipped).length,
      onnxOnly,
      layers,
      firstDiverging: first,
      ok: !first,
      timings: { convert: convertMs, ort: ortMs, ncnn: ncnnMs, compare: compareMs, total: performance.now() - t0 },
    };
  } finally {
    await (ncnn as NcnnModel | undefined)?.release();
    rmSync(tmp, { recursive: true, force: true });
  }
}
