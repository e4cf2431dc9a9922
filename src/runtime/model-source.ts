/**
 * Resolves the MODEL argument of `fdk bench` / `fdk parity`: a file path (.onnx, or .param for ncnn
 * only), or a manifest model id. Manifest models with an ONNX file use it; models that only have a
 * PyTorch checkpoint use fdk's own export (`exportedOnnxPath`, dynamic H/W, cached in .fdk/exports).
 */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { getModel, loadManifest, modelFile, type ModelEntry } from '../models/manifest.js';
import { loadOnnx } from '../onnx/io.js';
import { FdkError } from '../util/errors.js';
import { declaredInputs, type NcnnConversion } from './ncnn-convert.js';
import { paramInputShapes } from './ncnn.js';
import { readFileSync } from 'node:fs';

export interface ModelSource {
  /** What the user passed. */
  arg: string;
  /** .onnx or .param file every runtime loads. */
  path: string;
  kind: 'onnx' | 'ncnn';
  entry?: ModelEntry;
  /** Real inputs and their declared shapes (strings = symbolic dims, e.g. dynamic H/W). */
  inputs: Record<string, (number | string)[]>;
  /** How the file came about, for reports ("manifest onnx", "fdk export of slim_Final.pth", ...). */
  origin: string;
}

type ExportModule = { exportedOnnxPath: (id: string, opts?: { dynamic?: boolean }) => string | Promise<string> };

async function exportedOnnx(entry: ModelEntry): Promise<string> {
  const spec = '../convert/onnx-export.js'; // fdk's own PyTorch -> ONNX export, resolved at run time
  let mod: ExportModule;
  try {
    mod = (await import(spec)) as ExportModule;
  } catch (e) {
    throw new FdkError(`model '${entry.id}' has no ONNX file and fdk's PyTorch->ONNX export is not available (${(e as Error).message.split('\n')[0]})`);
  }
  return await mod.exportedOnnxPath(entry.id, { dynamic: true });
}

export async function resolveModelSource(arg: string): Promise<ModelSource> {
  if (existsSync(arg)) {
    const ext = extname(arg).toLowerCase();
    if (ext === '.onnx') return { arg, path: arg, kind: 'onnx', inputs: declaredInputs(loadOnnx(arg)), origin: 'file' };
    if (ext === '.param') return { arg, path: arg, kind: 'ncnn', inputs: paramInputsOrName(arg), origin: 'file' };
    throw new FdkError('expected an .onnx file, an ncnn .param file, or a model id', { file: arg });
  }
  const looksLikePath = /[\\/]|\.(onnx|param|bin)$/i.test(arg);
  if (looksLikePath) throw new FdkError('no such file', { file: arg });
  const ids = loadManifest().map((m) => m.id);
  if (!ids.includes(arg)) throw new FdkError(`'${arg}' is neither a file nor a model id (model ids: ${ids.join(', ')})`);
  const entry = getModel(arg);
  let path: string;
  let origin: string;
  if (entry.files.onnx) {
    path = modelFile(entry, 'onnx');
    origin = `manifest ONNX (${entry.source.repo})`;
  } else {
    path = await exportedOnnx(entry);
    origin = `fdk export of ${entry.files.pth?.path ?? 'the checkpoint'} (dynamic H/W)`;
  }
  return { arg, path, kind: 'onnx', entry, inputs: declaredInputs(loadOnnx(path)), origin };
}

/** .param inputs: declared shape if the Input layer has one, else the name with unknown dims. */
function paramInputsOrName(param: string): Record<string, (number | string)[]> {
  const text = readFileSync(param, 'utf8');
  const shaped = paramInputShapes(text);
  const out: Record<string, (number | string)[]> = {};
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'Input' && f.length >= 5) out[f[4 + Number(f[2])]] = shaped[f[4 + Number(f[2])]] ?? [1, 'C', 'H', 'W'];
  }
  return out;
}

/** True when every dim of `shape` is a fixed number (no symbolic H/W). */
export function isFixedShape(shape: (number | string)[]): shape is number[] {
  return shape.length > 0 && shape.every((d) => typeof d === 'number' && d > 0);
}

/** Describes a conversion the ncnn runtime did before loading, for the user. */
export function conversionNote(c: NcnnConversion | undefined): string | undefined {
  return c
    ? `ncnn: converted ${c.onnx} to ncnn with fdk's converter${c.optimize ? '' : ' (no fusion)'}${c.ms ? ` in ${c.ms.toFixed(0)} ms` : ''} -> ${c.param}`
    : undefined;
}
