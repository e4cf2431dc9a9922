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
import { fixedInputShape } from '../models/description.js';
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
  // the one model-id resolver (getModel) every command uses: `ulfd-rfb` means ulfd-rfb-320 everywhere
  let entry: ModelEntry;
  try {
    entry = getModel(arg);
  } catch {
    throw new FdkError(`'${arg}' is neither a file nor a model id (model ids: ${loadManifest().map((m) => m.id).join(', ')})`);
  }
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

/** True when `dims` fits a declared shape (symbolic dims take any size). */
export function fitsDeclared(declared: (number | string)[], dims: number[]): boolean {
  return declared.length === dims.length && declared.every((d, i) => typeof d !== 'number' || d <= 0 || d === dims[i]);
}

/** Size fdk feeds a dynamic 4-D image input when nothing else says (320x240, the seed's size). */
export const DEFAULT_DYNAMIC_SHAPE = [1, 3, 240, 320];

/**
 * Concrete shapes for every input, as bench and parity feed them. `named` fixes an input
 * (`--input name:dims`; '' = the first input); `firstShapes` are alternative sizes of the first input
 * (one set each). An input left dynamic gets the manifest's size, or 1x3x240x320 for a 4-D image
 * input; anything else must be given, and the error says how.
 */
export function concreteInputShapes(src: ModelSource, named: Record<string, number[]> = {}, firstShapes: number[][] = []): Record<string, number[]>[] {
  const shapes = firstShapes;
  const names = Object.keys(src.inputs);
  if (names.length === 0) throw new FdkError('the model has no runtime input', { file: src.path });
  const fit = (name: string, dims: number[]): number[] => {
    if (!fitsDeclared(src.inputs[name], dims))
      throw new FdkError(`--input ${name === names[0] ? '' : `${name}:`}${dims.join('x')} does not fit the model's input '${name}' [${src.inputs[name].join('x')}]${isFixedShape(src.inputs[name]) ? ' (fixed-size model)' : ''}`, { file: src.path });
    return dims;
  };
  for (const n of Object.keys(named))
    if (n && !names.includes(n)) throw new FdkError(`--input names '${n}', but the model's inputs are: ${names.join(', ')}`, { file: src.path });
  const base: Record<string, number[]> = {};
  for (const [i, name] of names.entries()) {
    const given = named[name] ?? (i === 0 ? named[''] : undefined);
    const declared = src.inputs[name];
    if (given) base[name] = fit(name, given);
    else if (isFixedShape(declared)) base[name] = declared;
    else {
      // dynamic graph: the manifest's input size if it has one (Ultra-Light 640 = 1x3x480x640), else 320x240
      const manifestShape = i === 0 && src.entry ? fixedInputShape(src.entry) : undefined;
      const fallback = manifestShape && isFixedShape(manifestShape) ? manifestShape : DEFAULT_DYNAMIC_SHAPE;
      if (i === 0 && fitsDeclared(declared, fallback)) base[name] = fallback;
      else if (i === 0 && shapes.length > 0) base[name] = shapes[0];
      else throw new FdkError(`input '${name}' has dynamic dims [${declared.join('x')}]; give them with --input ${name}:${declared.map((d) => (typeof d === 'number' && d > 0 ? d : 'N')).join('x')}`, { file: src.path });
    }
  }
  if (shapes.length === 0) return [base];
  return shapes.map((dims) => ({ ...base, [names[0]]: fit(names[0], dims) }));
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
