/**
 * PyTorch checkpoint -> ONNX model, without PyTorch: read the state_dict (src/convert/pytorch),
 * rebuild the network graph in TypeScript (src/convert/builders) with the checkpoint's tensors as
 * initializers, after checking that the checkpoint's keys and shapes match the architecture.
 *
 * `exportedOnnxPath(id)` exports a manifest model once into .fdk/exports/ and returns the path;
 * other modules' tests use it to get seed ONNX files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GraphBuilder } from '../onnx/builder.js';
import type { Dim, Model } from '../onnx/model.js';
import { saveOnnx } from '../onnx/io.js';
import { FdkError } from '../util/errors.js';
import { workDir } from '../util/data.js';
import { writeFileAtomic } from '../util/fs.js';
import { getModel, loadManifest, modelFile } from '../models/manifest.js';
import { embedDescription, fixedInputShape, type ModelDescription } from '../models/description.js';
import { familyOf } from '../families/index.js';
import type { PriorParams } from '../families/prior.js';
import { loadCheckpoint } from './pytorch/checkpoint.js';
import { ARCH_IDS, findArch } from './builders/index.js';
import { Layers, Weights } from './builders/layers.js';

export const DEFAULT_OPSET = 13;
export const MIN_OPSET = 11;
export const MAX_OPSET = 21;

export interface ExportOptions {
  /** Path of the .pth checkpoint. */
  weights: string;
  arch: string;
  /** Fixed input shape [1, 3, H, W]; default: H and W dynamic. */
  input?: number[];
  foldBn?: boolean;
  opset?: number;
  /** Ultra-Light: include the prior-decoding tail (default true). */
  postprocess?: boolean;
}

export interface ExportSummary {
  arch: string;
  weights: string;
  checkpointFormat: 'legacy' | 'zip';
  opset: number;
  input: Dim[];
  outputs: { name: string; shape: Dim[] }[];
  nodes: number;
  /** Elements of the Conv and BatchNormalization weight tensors (BN running stats included). */
  params: number;
  foldBn: boolean;
  postprocess: boolean;
}

/**
 * The model description of an export: the manifest's description of that architecture (for
 * Ultra-Light the 320 or 640 entry, by the arch id's suffix or the fixed input width), with the
 * export's own facts: its fixed input size, and whether the graph decodes its boxes.
 */
export function describeExport(archId: string, o: { fixedHW?: [number, number]; postprocess: boolean; name?: string }): ModelDescription {
  const arch = findArch(archId);
  if (!arch) throw new FdkError(`unknown --arch '${archId}' (known: ${ARCH_IDS.join(', ')})`);
  const sized = /-(320|640)$/.exec(archId)?.[1] ?? (o.fixedHW && o.fixedHW[1] >= 640 ? '640' : '320');
  const entries = loadManifest().filter((m) => m.arch === arch.id);
  const entry = entries.find((m) => m.size === undefined || String(m.size) === sized) ?? entries[0];
  if (!entry) throw new FdkError(`no manifest model describes --arch ${arch.id}`);
  const d: ModelDescription = structuredClone(entry.description);
  // the int8 recipe was measured on the manifest's weights, not on any checkpoint of the
  // architecture; and an fp32 export's bytes (the key of every cache made from it) stay put when it is re-tuned
  delete d.int8;
  if (o.name) d.name = o.name;
  d.title = entry.title;
  if (d.input.resize.mode === 'fixed' && o.fixedHW) [d.input.resize.height, d.input.resize.width] = o.fixedHW;
  if (d.decode.family === 'prior' && d.decode.variant === 'ultra-light') d.decode.boxesDecoded = o.postprocess;
  return d;
}

/** Builds the ONNX model and a summary of it (used by the CLI). */
export function exportOnnxWithSummary(o: ExportOptions): { model: Model; summary: ExportSummary } {
  const arch = findArch(o.arch);
  if (!arch) throw new FdkError(`unknown --arch '${o.arch}' (known: ${ARCH_IDS.join(', ')})`);
  const opset = o.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET)
    throw new FdkError(`unsupported --opset ${o.opset} (supported: ${MIN_OPSET}..${MAX_OPSET})`);
  let fixedHW: [number, number] | undefined;
  if (o.input) {
    const d = o.input;
    if (d.length !== 4 || d[0] !== 1 || d[1] !== 3 || d[2] < 1 || d[3] < 1)
      throw new FdkError(`bad --input ${d.join('x')}: expected 1x3xHxW`);
    fixedHW = [d[2], d[3]];
  }
  const postprocess = o.postprocess ?? true;
  const ckpt = loadCheckpoint(o.weights);
  const g = new GraphBuilder({ opset, name: arch.id });
  const w = new Weights(ckpt.tensors);
  const L = new Layers(g, w, { foldBn: !!o.foldBn });
  const inputShape: Dim[] = fixedHW ? [1, 3, fixedHW[0], fixedHW[1]] : [1, 3, 'H', 'W'];
  const input = g.addInput('input', 'float32', inputShape);
  const description = describeExport(o.arch, { fixedHW, postprocess, name: basename(o.weights).replace(/\.[^.]*$/, '') });
  const priors = description.decode.family === 'prior' ? (description.decode as PriorParams) : undefined;
  const outs = arch.build(L, input, { postprocess, fixedHW, priors });

  const pr = w.problems();
  if (pr.missing.length || pr.unexpected.length || pr.mismatched.length) {
    const parts: string[] = [];
    const list = (xs: string[]) => (xs.length > 8 ? `${xs.slice(0, 8).join(', ')}, … (+${xs.length - 8} more)` : xs.join(', '));
    if (pr.missing.length) parts.push(`${pr.missing.length} missing key(s): ${list(pr.missing)}`);
    if (pr.unexpected.length) parts.push(`${pr.unexpected.length} unexpected key(s): ${list(pr.unexpected)}`);
    if (pr.mismatched.length) parts.push(`${pr.mismatched.length} shape mismatch(es) (checkpoint vs --arch ${arch.id}): ${list(pr.mismatched)}`);
    throw new FdkError(`checkpoint does not match --arch ${arch.id}: ${parts.join('; ')}`, { file: o.weights });
  }

  const n: Dim = fixedHW ? familyOf(description.decode).count(description.decode, fixedHW[0], fixedHW[1]) : 'N';
  const outputs = outs.map((x) => ({ name: x.name, shape: [1, n, x.last] as Dim[] }));
  outs.forEach((x, i) => g.addOutput(x.tensor, x.name, 'float32', outputs[i].shape));
  const model = g.build({ producerName: 'fdk', producerVersion: '0.1.0', docString: `${arch.title}; converted from ${basename(o.weights)} by fdk (no PyTorch)` });
  // every command that later takes this file reads how to run and decode it from here
  embedDescription(model, description);
  // weights = the initializers feeding Conv / BatchNormalization (not shape constants or priors)
  const weightNames = new Set(g.nodes.filter((n) => n.opType === 'Conv' || n.opType === 'BatchNormalization').flatMap((n) => n.inputs.slice(1)));
  let params = 0;
  for (const [name, t] of g.initializers) if (weightNames.has(name)) params += t.size;
  return {
    model,
    summary: {
      arch: arch.id, weights: o.weights, checkpointFormat: ckpt.format, opset, input: inputShape, outputs,
      nodes: g.nodes.length, params, foldBn: !!o.foldBn, postprocess,
    },
  };
}

/** Builds the ONNX model of checkpoint `o.weights` for architecture `o.arch`. */
export function exportOnnx(o: ExportOptions): Model {
  return exportOnnxWithSummary(o).model;
}

/** Bumped when the builders change what they emit, so cached exports are redone. */
const EXPORT_VERSION = 2; // 2: the model description is embedded (metadata_props)

let codeHash: string | undefined;
/** Hash of the exporter's own code (this folder, builders, reader): a changed exporter re-exports. */
function exporterCodeHash(): string {
  if (codeHash) return codeHash;
  const here = dirname(fileURLToPath(import.meta.url));
  const h = createHash('sha256');
  const files: string[] = [];
  for (const dir of [here, join(here, 'builders'), join(here, 'pytorch')]) {
    try {
      files.push(...readdirSync(dir).filter((n) => /\.(ts|js)$/.test(n)).sort().map((n) => join(dir, n)));
    } catch {
      // folder missing in a trimmed install: hash what exists
    }
  }
  for (const n of ['builder', 'model', 'io', 'tensor']) for (const ext of ['.ts', '.js']) files.push(join(here, '..', 'onnx', n + ext));
  for (const ext of ['.ts', '.js']) files.push(join(here, '..', 'accuracy', `priors${ext}`)); // baked prior tables
  for (const f of files) if (existsSync(f)) h.update(basename(f)).update(readFileSync(f));
  codeHash = h.digest('hex').slice(0, 16);
  return codeHash;
}

export interface ExportedOptions {
  /** H and W dynamic (default true); false = the model's reference size (Ultra-Light 320x240 / 640x480, seed 320x240). */
  dynamic?: boolean;
  foldBn?: boolean;
  postprocess?: boolean;
  opset?: number;
}

/**
 * Exports the manifest model `modelId` (slim, rfb, mnet0.25, ulfd-{slim,rfb}-{320,640}) into
 * `.fdk/exports/` once, and returns the .onnx path. Safe to call from parallel test workers
 * (atomic writes; a stamp file records the export version and options).
 */
export function exportedOnnxPath(modelId: string, opts: ExportedOptions = {}): string {
  const entry = getModel(modelId);
  const dynamic = opts.dynamic ?? true;
  const postprocess = opts.postprocess ?? true;
  const opset = opts.opset ?? DEFAULT_OPSET;
  const tag = [entry.id, dynamic ? 'dyn' : 'fixed', opts.foldBn ? 'foldbn' : '', postprocess ? '' : 'nopp', `op${opset}`].filter(Boolean).join('-');
  const path = workDir('exports', `${tag}.onnx`);
  const stampPath = `${path}.stamp.json`;
  const weights = modelFile(entry, 'pth');
  const stamp = JSON.stringify({ version: EXPORT_VERSION, code: exporterCodeHash(), weights: entry.files.pth?.sha256, description: entry.description });
  if (existsSync(path) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) return path;
  const input = dynamic ? undefined : fixedInputShape(entry) ?? [1, 3, 240, 320];
  const model = exportOnnx({ weights, arch: entry.size ? `${entry.arch}-${entry.size}` : entry.arch, input, foldBn: opts.foldBn, opset, postprocess });
  saveOnnx(model, path);
  writeFileAtomic(stampPath, stamp);
  return path;
}
