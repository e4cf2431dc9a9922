/**
 * `fdk parity` engine: the same inputs (preprocessed real images for a described model, else seeded
 * synthetic tensors or the user's arrays) go through every runtime; each pair of runtimes is
 * compared per output (max abs / rel diff, cosine; outputs paired by pairing.ts) and, when the
 * model has a description and fdk's postprocessing applies, per detection.
 */
import { getRuntime, runtimeEntry } from '../runtime/index.js';
import { NcnnModel } from '../runtime/ncnn.js';
import { NcnnWasmModel } from '../runtime/ncnn-wasm/runtime.js';
import { conversionNote, type ModelSource } from '../runtime/model-source.js';
import type { LoadedModel, RuntimeName, TensorMap } from '../runtime/types.js';
import type { ModelEntry } from '../models/manifest.js';
import { FdkError } from '../util/errors.js';
import { loadOnnx } from '../onnx/io.js';
import { tensorDiff, worstOf, type TensorDiff, type Tolerance } from './metrics.js';
import { compareDetections, worstDetections, type Det, type DetectionDiff } from './detections.js';
import type { ParityCase } from './feeds.js';
import { feedsFor, pairOutputs, type OutputPair } from './pairing.js';
import { postprocessFor } from './postprocess.js';

export interface ParityOptions {
  runtimes: RuntimeName[];
  tol: Tolerance;
  threads?: number;
  /** ncnn: load this .param (+.bin) instead of converting the ONNX. */
  ncnnParam?: string;
  /** onnxName=ncnnName pairs for outputs (and inputs) whose names differ between runtimes. */
  map?: Record<string, string>;
  /** Called before each load and each run: what happens now, and the steps done of the total. */
  onProgress?: (msg: string, step?: { done: number; total: number }) => void;
}

export interface PairResult {
  a: RuntimeName;
  b: RuntimeName;
  /** Keyed by runtime A's output name; `pairedWith`/`pairedBy` say which output of B it was compared with. */
  outputs: Record<string, TensorDiff & { dimsA: number[]; dimsB: number[]; dimsVary?: boolean; pairedWith: string; pairedBy: OutputPair['how'] }>;
  /** Outputs of either runtime that found no counterpart (not compared). */
  unpaired?: { a: string[]; b: string[] };
  detections?: DetectionDiff;
  ok: boolean;
}

export interface ParityReport {
  tool: 'fdk parity';
  model: { arg: string; path: string; origin: string; id?: string };
  /** The description whose preprocessing made the inputs; undefined for synthetic / user arrays. */
  preprocessing?: string;
  /** Where the inputs came from: 'images', 'synthetic' or 'arrays'. */
  inputSource: 'images' | 'synthetic' | 'arrays';
  tolerance: Tolerance;
  runtimes: { name: RuntimeName; version: string; detail?: string; notes: string[] }[];
  /** dims = the first input's; shapes = every input's. */
  inputs: { label: string; dims: number[]; shapes: Record<string, number[]> }[];
  pairs: PairResult[];
  detectionsNote?: string;
  ok: boolean;
}

export async function loadOn(
  runtime: RuntimeName,
  src: ModelSource,
  opts: { threads?: number; ncnnParam?: string; inputShapes?: Record<string, number[]> },
): Promise<LoadedModel> {
  const rt = await getRuntime(runtime);
  // ncnn converts with the input size fixed when all inputs share it (e.g. Ultra-Light priors built from H/W)
  if (runtimeEntry(runtime).engine === 'ncnn') return rt.load(opts.ncnnParam ?? src.path, { threads: opts.threads ?? 1, inputShapes: opts.inputShapes });
  if (src.kind !== 'onnx') throw new FdkError(`${runtime} cannot run an ncnn .param; pass the .onnx model`, { file: src.path });
  return rt.load(src.path, { threads: opts.threads ?? 1 });
}

/** Feeds of a case: its own, or the preprocessed image as the model's first input. */
function caseFeeds(src: ModelSource, c: ParityCase): TensorMap {
  if (c.feeds) return c.feeds;
  if (!c.pre) throw new FdkError(`parity input '${c.label}' has neither tensors nor a preprocessed image`);
  return { [Object.keys(src.inputs)[0]]: { data: c.pre.tensor, dims: [...c.pre.dims] } };
}

/** The input shapes when every parity case has the same ones (fixed-size conversion for ncnn), else undefined. */
function sharedInputShape(feeds: TensorMap[]): Record<string, number[]> | undefined {
  const key = (f: TensorMap) => JSON.stringify(Object.entries(f).map(([n, t]) => [n, t.dims]));
  const shapes = new Set(feeds.map(key));
  return shapes.size === 1 ? Object.fromEntries(Object.entries(feeds[0]).map(([n, t]) => [n, [...t.dims]])) : undefined;
}

export async function runParity(src: ModelSource, entry: ModelEntry | undefined, inputs: ParityCase[], opts: ParityOptions): Promise<ParityReport> {
  if (opts.runtimes.length < 2) throw new FdkError('parity needs at least two runtimes');
  if (inputs.length === 0) throw new FdkError('parity has no inputs to run');
  // detections need a description and the ONNX graph (to know the box format)
  const post: { fn?: ReturnType<typeof postprocessFor>['fn']; note?: string } =
    !entry || !inputs.every((c) => c.pre) ? { note: 'detection-level comparison skipped: no model description for these inputs (outputs compared as tensors)' } :
    src.kind === 'onnx' ? postprocessFor(src.path, entry) : { note: 'detection-level comparison skipped: MODEL is an ncnn .param' };
  const feeds = inputs.map((c) => caseFeeds(src, c));
  const map = opts.map ?? {};
  // ncnn lists only unconsumed blobs as outputs; an ONNX output that another layer also reads
  // (or its --map name) is still a blob there, so ask for it by name
  const onnxOutputs = src.kind === 'onnx' ? loadOnnx(src.path).graph.outputs.map((o) => o.name) : [];
  const wanted = (m: LoadedModel): string[] | undefined => {
    if (!(m instanceof NcnnModel)) return undefined;
    const extra = onnxOutputs.map((n) => (m.blobs.includes(n) ? n : map[n])).filter((n): n is string => !!n && m.blobs.includes(n));
    return [...new Set([...m.outputNames, ...extra])];
  };
  const models: Partial<Record<RuntimeName, LoadedModel>> = {};
  const runtimes: ParityReport['runtimes'] = [];
  // outputs[runtime][inputIndex]
  const outs: Partial<Record<RuntimeName, TensorMap[]>> = {};
  const steps = { done: 0, total: opts.runtimes.length * (1 + inputs.length) };
  try {
    for (const r of opts.runtimes) {
      opts.onProgress?.(`loading ${r}`, { ...steps });
      steps.done++;
      const m = await loadOn(r, src, { ...opts, inputShapes: sharedInputShape(feeds) });
      models[r] = m;
      const info = await (await getRuntime(r)).info();
      const notes: string[] = [];
      if (m instanceof NcnnModel || m instanceof NcnnWasmModel) {
        const n = conversionNote(m.converted);
        if (n) notes.push(n);
        if (opts.ncnnParam) notes.push(`ncnn: using ${opts.ncnnParam} as given (no conversion)`);
      }
      notes.push(...((m as LoadedModel).notes ?? []));
      runtimes.push({ name: r, version: info.version, detail: info.detail, notes });
    }
    for (const r of opts.runtimes) {
      const m = models[r]!;
      outs[r] = [];
      for (const [k, inp] of inputs.entries()) {
        opts.onProgress?.(`${r}: ${inp.label}`, { ...steps });
        steps.done++;
        outs[r]!.push((await m.run(feedsFor(m.inputNames, feeds[k], map), wanted(m))).outputs);
      }
    }
  } finally {
    for (const m of Object.values(models)) await m?.release();
  }

  const dets: Partial<Record<RuntimeName, (Det[] | undefined)[]>> = {};
  if (post.fn && entry) for (const r of opts.runtimes) dets[r] = outs[r]!.map((o, i) => post.fn!(entry, o, inputs[i].pre!));

  const pairs: PairResult[] = [];
  for (let i = 0; i < opts.runtimes.length; i++)
    for (let j = i + 1; j < opts.runtimes.length; j++) {
      const a = opts.runtimes[i];
      const b = opts.runtimes[j];
      const paired = pairOutputs(outs[a]![0], outs[b]![0], map);
      if (paired.pairs.length === 0)
        throw new FdkError(`cannot pair any output of ${a} (${Object.keys(outs[a]![0]).join(', ')}) with one of ${b} (${Object.keys(outs[b]![0]).join(', ')}): no common name, no unique shape; pass --map onnxName=ncnnName`);
      const outputs: PairResult['outputs'] = {};
      for (const { a: name, b: nameB, how } of paired.pairs) {
        const per = inputs.map((_, k) => {
          const ta = outs[a]![k][name];
          const tb = outs[b]![k][nameB];
          const d = tensorDiff(ta.data, tb.data, opts.tol);
          // unit axes aside: ncnn has no batch axis, so a sequence-major [T, 1, C] output comes back as
          // [1, T, C]; the same elements in the same order, which is what the values are compared in
          const sameDims = ta.dims.filter((d) => d !== 1).join('x') === tb.dims.filter((d) => d !== 1).join('x');
          return { ...d, ok: d.ok && sameDims, dimsA: ta.dims, dimsB: tb.dims };
        });
        // dims of the first input's outputs; inputs of other sizes (long-side models) have other dims
        outputs[name] = { ...worstOf(per), dimsA: per[0].dimsA, dimsB: per[0].dimsB, dimsVary: new Set(per.map((d) => d.dimsA.join('x'))).size > 1, pairedWith: nameB, pairedBy: how };
      }
      let detections: DetectionDiff | undefined;
      if (post.fn && entry) {
        const ds: DetectionDiff[] = [];
        for (let k = 0; k < inputs.length; k++) {
          const da = dets[a]![k];
          const db = dets[b]![k];
          if (da && db) ds.push(compareDetections(da, db, { scoreThreshold: entry.postprocess.scoreThreshold }));
        }
        if (ds.length) detections = worstDetections(ds);
      }
      const ok = Object.values(outputs).every((d) => d.ok) && (detections?.ok ?? true);
      const unpaired = paired.unpairedA.length || paired.unpairedB.length ? { a: paired.unpairedA, b: paired.unpairedB } : undefined;
      pairs.push({ a, b, outputs, unpaired, detections, ok });
    }
  return {
    tool: 'fdk parity',
    model: { arg: src.arg, path: src.path, origin: src.origin, id: src.entry?.id },
    preprocessing: inputs.every((c) => c.pre) ? entry?.id : undefined,
    inputSource: inputs.every((c) => c.pre) ? 'images' : inputs[0].label.startsWith('synthetic') ? 'synthetic' : 'arrays',
    tolerance: opts.tol,
    runtimes,
    inputs: inputs.map((x, k) => {
      const shapes = Object.fromEntries(Object.entries(feeds[k]).map(([n, t]) => [n, [...t.dims]]));
      return { label: x.label, dims: Object.values(shapes)[0], shapes };
    }),
    pairs,
    detectionsNote: post.note,
    ok: pairs.every((p) => p.ok),
  };
}
