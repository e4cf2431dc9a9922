/**
 * `fdk parity` engine: the same preprocessed real images go through every runtime; each pair of
 * runtimes is compared per output (max abs / rel diff, cosine) and, when fdk's postprocessing is
 * available for the model, per detection.
 */
import { getRuntime, runtimeEntry } from '../runtime/index.js';
import { NcnnModel } from '../runtime/ncnn.js';
import { NcnnWasmModel } from '../runtime/ncnn-wasm/runtime.js';
import { conversionNote, type ModelSource } from '../runtime/model-source.js';
import type { LoadedModel, RuntimeName, TensorMap } from '../runtime/types.js';
import type { ModelEntry } from '../models/manifest.js';
import { FdkError } from '../util/errors.js';
import { tensorDiff, worstOf, type TensorDiff, type Tolerance } from './metrics.js';
import { compareDetections, worstDetections, type Det, type DetectionDiff } from './detections.js';
import type { ParityInput } from './images.js';
import { postprocessFor } from './postprocess.js';

export interface ParityOptions {
  runtimes: RuntimeName[];
  tol: Tolerance;
  threads?: number;
  /** ncnn: load this .param (+.bin) instead of converting the ONNX. */
  ncnnParam?: string;
  onProgress?: (msg: string) => void;
}

export interface PairResult {
  a: RuntimeName;
  b: RuntimeName;
  outputs: Record<string, TensorDiff & { dimsA: number[]; dimsB: number[]; dimsVary?: boolean }>;
  detections?: DetectionDiff;
  ok: boolean;
}

export interface ParityReport {
  tool: 'fdk parity';
  model: { arg: string; path: string; origin: string; id?: string };
  preprocessing: string;
  tolerance: Tolerance;
  runtimes: { name: RuntimeName; version: string; detail?: string; notes: string[] }[];
  inputs: { label: string; dims: number[] }[];
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

/** The input shape when every parity input has the same one (fixed-size models), else undefined. */
function sharedInputShape(src: ModelSource, inputs: ParityInput[]): Record<string, number[]> | undefined {
  const shapes = new Set(inputs.map((i) => i.pre.dims.join('x')));
  const name = Object.keys(src.inputs)[0];
  return shapes.size === 1 && name ? { [name]: [...inputs[0].pre.dims] } : undefined;
}

export async function runParity(src: ModelSource, entry: ModelEntry, inputs: ParityInput[], opts: ParityOptions): Promise<ParityReport> {
  if (opts.runtimes.length < 2) throw new FdkError('parity needs at least two runtimes');
  // detections need the ONNX graph to know the box format; a bare .param run has no postprocessing here
  const post: { fn?: ReturnType<typeof postprocessFor>['fn']; note?: string } =
    src.kind === 'onnx' ? postprocessFor(src.path, entry) : { note: 'detection-level comparison skipped: MODEL is an ncnn .param' };
  const models: Partial<Record<RuntimeName, LoadedModel>> = {};
  const runtimes: ParityReport['runtimes'] = [];
  // outputs[runtime][inputIndex]
  const outs: Partial<Record<RuntimeName, TensorMap[]>> = {};
  try {
    for (const r of opts.runtimes) {
      opts.onProgress?.(`loading ${r}`);
      const m = await loadOn(r, src, { ...opts, inputShapes: sharedInputShape(src, inputs) });
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
      const inputName = m.inputNames[0];
      outs[r] = [];
      for (const inp of inputs) {
        opts.onProgress?.(`${r}: ${inp.label}`);
        const feeds: TensorMap = { [inputName]: { data: inp.pre.tensor, dims: [...inp.pre.dims] } };
        outs[r]!.push((await m.run(feeds)).outputs);
      }
    }
  } finally {
    for (const m of Object.values(models)) await m?.release();
  }

  const dets: Partial<Record<RuntimeName, (Det[] | undefined)[]>> = {};
  if (post.fn) for (const r of opts.runtimes) dets[r] = outs[r]!.map((o, i) => post.fn!(entry, o, inputs[i].pre));

  const pairs: PairResult[] = [];
  for (let i = 0; i < opts.runtimes.length; i++)
    for (let j = i + 1; j < opts.runtimes.length; j++) {
      const a = opts.runtimes[i];
      const b = opts.runtimes[j];
      const names = Object.keys(outs[a]![0] ?? {}).filter((n) => n in (outs[b]![0] ?? {}));
      if (names.length === 0)
        throw new FdkError(`${a} and ${b} have no output name in common (${Object.keys(outs[a]![0]).join(', ')} vs ${Object.keys(outs[b]![0]).join(', ')})`);
      const outputs: PairResult['outputs'] = {};
      for (const name of names) {
        const per = inputs.map((_, k) => {
          const ta = outs[a]![k][name];
          const tb = outs[b]![k][name];
          const d = tensorDiff(ta.data, tb.data, opts.tol);
          const sameDims = ta.dims.join('x') === tb.dims.join('x');
          return { ...d, ok: d.ok && sameDims, dimsA: ta.dims, dimsB: tb.dims };
        });
        // dims of the first input's outputs; inputs of other sizes (long-side models) have other dims
        outputs[name] = { ...worstOf(per), dimsA: per[0].dimsA, dimsB: per[0].dimsB, dimsVary: new Set(per.map((d) => d.dimsA.join('x'))).size > 1 };
      }
      let detections: DetectionDiff | undefined;
      if (post.fn) {
        const ds: DetectionDiff[] = [];
        for (let k = 0; k < inputs.length; k++) {
          const da = dets[a]![k];
          const db = dets[b]![k];
          if (da && db) ds.push(compareDetections(da, db, { scoreThreshold: entry.postprocess.scoreThreshold }));
        }
        if (ds.length) detections = worstDetections(ds);
      }
      const ok = Object.values(outputs).every((d) => d.ok) && (detections?.ok ?? true);
      pairs.push({ a, b, outputs, detections, ok });
    }
  return {
    tool: 'fdk parity',
    model: { arg: src.arg, path: src.path, origin: src.origin, id: src.entry?.id },
    preprocessing: entry.id,
    tolerance: opts.tol,
    runtimes,
    inputs: inputs.map((x) => ({ label: x.label, dims: [...x.pre.dims] })),
    pairs,
    detectionsNote: post.note,
    ok: pairs.every((p) => p.ok),
  };
}
