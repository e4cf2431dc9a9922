/**
 * The committed model manifest (models/manifest.json): every model fdk knows, its files under the
 * data folder with sha256, upstream source, input spec, preprocessing, anchors and outputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, resolveDataDir } from '../util/data.js';
import { FdkError } from '../util/errors.js';
import { isFile, sha256File } from '../util/fs.js';

export interface FileRef {
  path: string; // relative to the data folder
  sha256: string;
  format: string;
}
export interface RetinaAnchors {
  kind: 'retinaface';
  min_sizes: number[][];
  steps: number[];
  variance: [number, number];
  clip: boolean;
  featureMap: 'ceil';
}
export interface UltraLightAnchors {
  kind: 'ultra-light';
  min_boxes: number[][];
  strides: number[];
  center_variance: number;
  size_variance: number;
  clip: boolean;
  featureMap: 'ceil';
  imageSize: [number, number]; // [w, h]
}
export interface ModelEntry {
  id: string;
  family: 'seed' | 'ultra-light';
  arch: string;
  title: string;
  size?: number;
  files: {
    pth?: FileRef;
    onnx?: FileRef;
    onnxSimplified?: FileRef;
    onnxWithoutPostprocessing?: FileRef;
    ncnn?: { param: FileRef; bin: FileRef; names?: Record<string, string> };
  };
  source: { repo: string; license: string; path: string };
  input: {
    name: string;
    layout: 'NCHW';
    channels: 'BGR' | 'RGB';
    dtype: 'float32';
    shape: (number | string)[];
    resize: { mode: 'long-side' | 'fixed'; width?: number; height?: number; interpolation: 'cv2-linear'; pixelType: 'float32' | 'uint8' };
  };
  preprocess: { mean: number[]; std: number[]; channelOrder: 'BGR' | 'RGB' };
  anchors: RetinaAnchors | UltraLightAnchors;
  outputs: Record<string, string>;
  postprocess: {
    scoreThreshold: number;
    nms: number;
    nmsAreaPlusOne: boolean;
    topK: number | null;
    candidateSize?: number;
    landmarks: number;
    widerFormat: 'int-truncate' | 'floor-ceil';
  };
  published?: { params: number; macs: number; countInput: number[]; convention: string };
}

let cached: ModelEntry[] | undefined;

export const MANIFEST_PATH = join(PROJECT_ROOT, 'models', 'manifest.json');

export function loadManifest(): ModelEntry[] {
  if (!cached) {
    try {
      cached = (JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as { models: ModelEntry[] }).models;
    } catch (e) {
      throw new FdkError(`cannot read model manifest: ${(e as Error).message}`, { file: MANIFEST_PATH });
    }
  }
  return cached;
}

/**
 * Finds a model by id. Accepts the short family ids used on the command line too:
 * `ulfd-slim` / `ulfd-rfb` resolve to the variant of the given `size` (default 320).
 */
export function getModel(id: string, size?: number): ModelEntry {
  const all = loadManifest();
  let m = all.find((x) => x.id === id);
  if (!m && /^ulfd-(slim|rfb)$/.test(id)) m = all.find((x) => x.id === `${id}-${size ?? 320}`);
  if (!m) throw new FdkError(`unknown model id '${id}' (known: ${all.map((x) => x.id).join(', ')})`);
  return m;
}

export function allFileRefs(m: ModelEntry): [string, FileRef][] {
  const out: [string, FileRef][] = [];
  for (const [k, v] of Object.entries(m.files)) {
    if (!v) continue;
    if ('param' in v) {
      out.push([`${k}.param`, v.param], [`${k}.bin`, v.bin]);
    } else out.push([k, v as FileRef]);
  }
  return out;
}

export interface VerifyResult {
  id: string;
  ok: boolean;
  files: { role: string; path: string; status: 'ok' | 'missing' | 'checksum-mismatch'; actual?: string }[];
}

const verifiedCache = new Map<string, boolean>();

/** Checks existence and sha256 of every file of a model. */
export function verifyModel(m: ModelEntry, dataDir?: string): VerifyResult {
  const dir = resolveDataDir(dataDir)!;
  const files = allFileRefs(m).map(([role, ref]) => {
    const p = join(dir, ref.path);
    if (!isFile(p)) return { role, path: p, status: 'missing' as const };
    const actual = sha256File(p);
    return actual === ref.sha256 ? { role, path: p, status: 'ok' as const } : { role, path: p, status: 'checksum-mismatch' as const, actual };
  });
  return { id: m.id, ok: files.every((f) => f.status === 'ok'), files };
}

/**
 * Resolves one file of a model and verifies its checksum (once per process), throwing a
 * one-line error naming the file when it is missing or differs.
 */
export function modelFile(m: ModelEntry, role: keyof ModelEntry['files'] | 'ncnn.param' | 'ncnn.bin', dataDir?: string): string {
  const ref = allFileRefs(m).find(([r]) => r === role)?.[1];
  if (!ref) throw new FdkError(`model '${m.id}' has no ${role} file in the manifest`);
  const p = join(resolveDataDir(dataDir)!, ref.path);
  if (verifiedCache.get(p)) return p;
  if (!isFile(p)) throw new FdkError(`missing file for model '${m.id}' (${role})`, { file: p });
  const actual = sha256File(p);
  if (actual !== ref.sha256) throw new FdkError(`sha256 mismatch for model '${m.id}' (${role}): expected ${ref.sha256.slice(0, 12)}…, got ${actual.slice(0, 12)}…`, { file: p });
  verifiedCache.set(p, true);
  return p;
}
