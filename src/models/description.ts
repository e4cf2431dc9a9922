/**
 * The model description: everything fdk needs to run a face detector it has never seen — input
 * name and size rule, preprocessing, output names, the decode family with its parameters, and the
 * score / NMS settings. One versioned JSON format (models/model-description.schema.json), used by
 * the manifest's entries, embedded in ONNX exports (`metadata_props['fdk.description']`), written
 * beside ncnn conversions (`NAME.fdk.json`), or given with `--spec FILE`.
 *
 * API (stable; other commands build on it):
 *   validateDescription(obj, file)            -> ModelDescription (defaults filled in) or one FdkError line
 *   loadDescription(fileOrObject)             -> the same, from a JSON file or an object
 *   descriptionForModelFile(path, {spec?})    -> where a model file's description comes from, if anywhere
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import type { Model } from '../onnx/model.js';
import { FdkError } from '../util/errors.js';
import { readFileOrThrow } from '../util/fs.js';
import { FieldChecker, type Json } from './check.js';
import { findFamily, familyIds } from '../families/index.js';
import type { DecodeParams } from '../families/types.js';
import { CALIB_METHODS, type CalibMethod } from '../quantize/thresholds.js';

export const DESCRIPTION_VERSION = 1;
/** ONNX metadata_props key holding the description as JSON. */
export const METADATA_KEY = 'fdk.description';
/** Sidecar file beside a model: `NAME.param` / `NAME.onnx` -> `NAME.fdk.json`. */
export const SIDECAR_SUFFIX = '.fdk.json';
export const SCHEMA_FILE = 'models/model-description.schema.json';

export interface ResizeRule {
  /**
   * fixed: resize to width x height (aspect ratio not kept);
   * long-side: the seed rule (test_widerface.py): r = size / short side, unless round(r * long side) > size, then r = size / long side;
   * short-side: r = size / short side, unless round(r * long side) > max, then r = max / long side.
   */
  mode: 'fixed' | 'long-side' | 'short-side';
  width?: number;
  height?: number;
  /** long-side: default target (the CLI's --long-side wins); short-side: the short side's target. */
  size?: number;
  /** short-side: the long side's cap. */
  max?: number;
  /** The filter, reproduced bit for bit (OpenCV's INTER_LINEAR). */
  interpolation: 'cv2-linear';
  /** Resize the image as uint8 (OpenCV fixed point) or as float32. */
  pixelType: 'float32' | 'uint8';
}

export interface PostprocessSettings {
  /** Keep candidates with score > this. */
  scoreThreshold: number;
  /** NMS IoU threshold. */
  nms: number;
  /** IoU with (x2 - x1 + 1) areas (the seed's py_cpu_nms) instead of plain areas. */
  nmsAreaPlusOne: boolean;
  /** At most this many detections after NMS (null: all). */
  topK: number | null;
  /** NMS looks at the best this-many candidates only (null: all). */
  candidateSize: number | null;
  /** WIDER prediction lines: seed `int()` truncation + str(float32), or Ultra-Light floor/ceil + %.3f. */
  widerFormat: 'int-truncate' | 'floor-ceil';
}

/**
 * How fdk quantizes the model to ncnn int8 unless the command line says otherwise (`fdk accuracy
 * --runtime ncnn-int8`, the report's ncnn-int8 row): the recipe measured to keep its WIDER AP loss
 * within issue #14's goal (docs/int8.md). Without one, fdk's default method quantizes every layer.
 */
export interface Int8Recipe {
  /** Activation calibration method (`fdk quantize --method`). */
  method: CalibMethod;
  /** Keep in fp32 the N layers whose fp32 copy brings the outputs closest to fp32 (`--auto-keep N`). */
  autoKeep?: number;
  /** Keep these layers fp32 (`--keep-fp32`). */
  keepFp32?: string[];
}

export interface ModelDescription {
  $schema?: string;
  fdkDescription: 1;
  name?: string;
  title?: string;
  input: { name: string; layout: 'NCHW'; resize: ResizeRule };
  preprocess: { channelOrder: 'RGB' | 'BGR'; mean: number[]; std: number[] };
  /** Role (boxes, scores, landmarks) -> output tensor name. */
  outputs: Record<string, string>;
  decode: DecodeParams;
  postprocess: PostprocessSettings;
  int8?: Int8Recipe;
}

const TOP_KEYS = ['$schema', 'fdkDescription', 'name', 'title', 'input', 'preprocess', 'outputs', 'decode', 'postprocess', 'int8'] as const;

/** Checks a parsed description field by field; returns a normalised copy (defaults filled in). */
export function validateDescription(obj: unknown, file: string): ModelDescription {
  const c = new FieldChecker(file);
  const o = c.object(obj, '(description)');
  c.onlyKeys(o, '', TOP_KEYS);
  const version = c.required(o, 'fdkDescription', '');
  if (version !== DESCRIPTION_VERSION) c.fail('fdkDescription', `unsupported description version ${JSON.stringify(version)} (this fdk reads version ${DESCRIPTION_VERSION})`);
  const out: ModelDescription = { fdkDescription: DESCRIPTION_VERSION } as ModelDescription;
  if (o.$schema !== undefined) out.$schema = c.string(o.$schema, '$schema');
  if (o.name !== undefined) out.name = c.string(o.name, 'name');
  if (o.title !== undefined) out.title = c.string(o.title, 'title');
  out.input = validateInput(c, c.object(c.required(o, 'input', ''), 'input'));
  out.preprocess = validatePreprocess(c, c.object(c.required(o, 'preprocess', ''), 'preprocess'));
  const dec = c.object(c.required(o, 'decode', ''), 'decode');
  const famId = c.string(c.required(dec, 'family', 'decode'), 'decode.family');
  const family = findFamily(famId);
  if (!family) return c.fail('decode.family', `unknown decode family '${famId}' (known: ${familyIds().join(', ')})`);
  out.decode = family.validate(dec, c, 'decode');
  out.outputs = validateOutputs(c, c.object(c.required(o, 'outputs', ''), 'outputs'), family.outputRoles(out.decode).map((r) => r.role));
  out.postprocess = validatePostprocess(c, c.object(c.required(o, 'postprocess', ''), 'postprocess'));
  if (o.int8 !== undefined) out.int8 = validateInt8(c, c.object(o.int8, 'int8'));
  return out;
}

function validateInt8(c: FieldChecker, q: Json): Int8Recipe {
  c.onlyKeys(q, 'int8', ['method', 'autoKeep', 'keepFp32']);
  const out: Int8Recipe = { method: c.oneOf(c.required(q, 'method', 'int8'), 'int8.method', CALIB_METHODS) };
  if (q.autoKeep !== undefined) out.autoKeep = c.number(q.autoKeep, 'int8.autoKeep', { int: true, min: 1 });
  if (q.keepFp32 !== undefined) out.keepFp32 = c.array(q.keepFp32, 'int8.keepFp32', { minLength: 1 }).map((x, i) => c.string(x, `int8.keepFp32[${i}]`));
  return out;
}

function validateInput(c: FieldChecker, i: Json): ModelDescription['input'] {
  c.onlyKeys(i, 'input', ['name', 'layout', 'resize']);
  const name = c.string(c.required(i, 'name', 'input'), 'input.name');
  const layout = c.oneOf(i.layout ?? 'NCHW', 'input.layout', ['NCHW'] as const);
  const r = c.object(c.required(i, 'resize', 'input'), 'input.resize');
  c.onlyKeys(r, 'input.resize', ['mode', 'width', 'height', 'size', 'max', 'interpolation', 'pixelType']);
  const mode = c.oneOf(c.required(r, 'mode', 'input.resize'), 'input.resize.mode', ['fixed', 'long-side', 'short-side'] as const);
  const resize: ResizeRule = {
    mode,
    interpolation: c.oneOf(r.interpolation ?? 'cv2-linear', 'input.resize.interpolation', ['cv2-linear'] as const),
    pixelType: c.oneOf(r.pixelType ?? 'float32', 'input.resize.pixelType', ['float32', 'uint8'] as const),
  };
  const pos = (k: 'width' | 'height' | 'size' | 'max') => c.number(c.required(r, k, 'input.resize'), `input.resize.${k}`, { int: true, min: 1 });
  const refuse = (keys: string[]) => {
    for (const k of keys) if (r[k] !== undefined) c.fail(`input.resize.${k}`, `not used with mode '${mode}'`);
  };
  if (mode === 'fixed') {
    resize.width = pos('width');
    resize.height = pos('height');
    refuse(['size', 'max']);
  } else if (mode === 'long-side') {
    if (r.size !== undefined) resize.size = pos('size');
    refuse(['width', 'height', 'max']);
  } else {
    resize.size = pos('size');
    resize.max = pos('max');
    if (resize.max < resize.size) c.fail('input.resize.max', `must be >= size (${resize.size}), got ${resize.max}`);
    refuse(['width', 'height']);
  }
  return { name, layout, resize };
}

function validatePreprocess(c: FieldChecker, p: Json): ModelDescription['preprocess'] {
  c.onlyKeys(p, 'preprocess', ['channelOrder', 'mean', 'std']);
  return {
    channelOrder: c.oneOf(c.required(p, 'channelOrder', 'preprocess'), 'preprocess.channelOrder', ['RGB', 'BGR'] as const),
    mean: p.mean === undefined ? [0, 0, 0] : c.numbers(p.mean, 'preprocess.mean', { length: 3 }),
    std: p.std === undefined ? [1, 1, 1] : c.numbers(p.std, 'preprocess.std', { length: 3, min: 0, exclusiveMin: true }),
  };
}

function validateOutputs(c: FieldChecker, o: Json, roles: string[]): Record<string, string> {
  c.onlyKeys(o, 'outputs', roles);
  const out: Record<string, string> = {};
  for (const r of roles) out[r] = c.string(c.required(o, r, 'outputs'), `outputs.${r}`);
  return out;
}

function validatePostprocess(c: FieldChecker, p: Json): PostprocessSettings {
  c.onlyKeys(p, 'postprocess', ['scoreThreshold', 'nms', 'nmsAreaPlusOne', 'topK', 'candidateSize', 'widerFormat']);
  const intOrNull = (k: string) => (p[k] === undefined || p[k] === null ? null : c.number(p[k], `postprocess.${k}`, { int: true, min: 1 }));
  return {
    scoreThreshold: c.number(c.required(p, 'scoreThreshold', 'postprocess'), 'postprocess.scoreThreshold', { min: 0, max: 1 }),
    nms: c.number(c.required(p, 'nms', 'postprocess'), 'postprocess.nms', { min: 0, max: 1, exclusiveMin: true }),
    nmsAreaPlusOne: p.nmsAreaPlusOne === undefined ? false : c.boolean(p.nmsAreaPlusOne, 'postprocess.nmsAreaPlusOne'),
    topK: intOrNull('topK'),
    candidateSize: intOrNull('candidateSize'),
    widerFormat: c.oneOf(p.widerFormat ?? 'floor-ceil', 'postprocess.widerFormat', ['int-truncate', 'floor-ceil'] as const),
  };
}

/** A description from a JSON file, or an object already parsed (`file` names it in errors). */
export function loadDescription(fileOrObject: string | object, file?: string): ModelDescription {
  if (typeof fileOrObject !== 'string') return validateDescription(fileOrObject, file ?? '(description)');
  const text = readFileOrThrow(fileOrObject).toString('utf8');
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new FdkError(`not a JSON model description: ${(e as Error).message}`, { file: fileOrObject });
  }
  return validateDescription(obj, fileOrObject);
}

/** The description embedded in an ONNX model's metadata_props, if any. */
export function embeddedDescription(model: Model, file: string): ModelDescription | undefined {
  const props = (model.extra?.metadataProps ?? []) as { key?: string; value?: string }[];
  const p = props.find((x) => x.key === METADATA_KEY);
  if (!p) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(p.value ?? '');
  } catch (e) {
    throw new FdkError(`metadata_props['${METADATA_KEY}'] is not JSON: ${(e as Error).message}`, { file });
  }
  return validateDescription(obj, `${file} (metadata_props['${METADATA_KEY}'])`);
}

/** Writes the description into the model's metadata_props (replacing an older one). */
export function embedDescription(model: Model, desc: ModelDescription): void {
  const extra = (model.extra ??= {});
  const props = ((extra.metadataProps ?? []) as { key?: string; value?: string }[]).filter((x) => x.key !== METADATA_KEY);
  props.push({ key: METADATA_KEY, value: JSON.stringify(desc) });
  extra.metadataProps = props;
}

/** `dir/NAME.param` (or .onnx / .bin) -> `dir/NAME.fdk.json`. */
export function sidecarPath(modelPath: string): string {
  return join(dirname(modelPath), `${basename(modelPath, extname(modelPath))}${SIDECAR_SUFFIX}`);
}

export interface DescribedModelFile {
  description: ModelDescription;
  /** Where it came from: --spec, the ONNX metadata, a sidecar file, or the manifest entry owning the file. */
  source: 'spec' | 'embedded' | 'sidecar' | 'manifest';
  /** The file it was read from (spec / sidecar / model / manifest). */
  from: string;
  /** The manifest entry, when the model file is one of its files. */
  manifestId?: string;
}

/**
 * Finds the description of a model file, in this order: `spec` (a --spec FILE), the ONNX
 * metadata, a sidecar `NAME.fdk.json` beside it, the manifest entry whose file it is (by path under
 * the data folder). Returns undefined when there is none; `required` throws a one-line error instead.
 */
export async function descriptionForModelFile(path: string, opts: { spec?: string; required?: boolean; dataDir?: string; loaded?: Model } = {}): Promise<DescribedModelFile | undefined> {
  if (opts.spec) return { description: loadDescription(opts.spec), source: 'spec', from: opts.spec };
  if (!existsSync(path)) throw new FdkError('no such file', { file: path });
  if (extname(path).toLowerCase() === '.onnx') {
    // `loaded`: the caller's model of this file (decoding a 300 MB file twice cost a second)
    const model = opts.loaded ?? (await import('../onnx/io.js')).loadOnnx(path);
    const d = embeddedDescription(model, path);
    if (d) return { description: d, source: 'embedded', from: path };
  }
  const side = sidecarPath(path);
  if (existsSync(side)) return { description: loadDescription(side), source: 'sidecar', from: side };
  const { manifestEntryOwning } = await import('./manifest.js');
  const entry = manifestEntryOwning(path, opts.dataDir);
  if (entry) return { description: entry.description, source: 'manifest', from: path, manifestId: entry.id };
  if (opts.required)
    throw new FdkError(`no model description: the file has none embedded, no ${relative(process.cwd(), side) || side} beside it, and is not a manifest model; pass --spec FILE (format: ${SCHEMA_FILE})`, { file: path });
  return undefined;
}

/** [1, 3, H, W] for a fixed-size description, else undefined (long-side / short-side inputs vary). */
export function fixedInputShape(desc: ModelDescription): number[] | undefined {
  const r = desc.input.resize;
  return r.mode === 'fixed' ? [1, 3, r.height!, r.width!] : undefined;
}
