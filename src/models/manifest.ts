/**
 * The committed model manifest (models/manifest.json): every model fdk knows, its files under the
 * data folder with sha256, upstream source, published numbers and model description.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT, resolveDataDir } from '../util/data.js';
import { FdkError } from '../util/errors.js';
import { isFile, sha256File } from '../util/fs.js';
import { validateDescription, type ModelDescription } from './description.js';

export interface FileRef {
  path: string; // relative to the data folder
  sha256: string;
  format: string;
}
/**
 * One manifest record: the model's id, its files (with sha256) under the data folder, where they
 * come from, the published numbers, and its model description (src/models/description.ts) — the
 * one place that says how to preprocess, run and decode it.
 */
export interface ManifestRecord {
  id: string;
  /**
   * The project line it comes from (seed = biubug6, ultra-light = Linzaer; 'user' = a model file
   * with a description, not in the manifest). Decoding is the description's business.
   */
  family: 'seed' | 'ultra-light' | 'user';
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
  published?: { params: number; macs: number; countInput: number[]; convention: string };
  /** Published WIDER FACE val AP by long side: the seed README's table, and Linzaer's README today. */
  publishedAp?: { seedReadme?: Record<string, WiderAp>; linzaerReadmeNow?: Record<string, WiderAp> };
  description: ModelDescription;
}

export interface WiderAp {
  easy: number;
  medium: number;
  hard: number;
}

/**
 * A manifest record with its description's fields also readable at the top level (`entry.input`,
 * `entry.postprocess`, ...): a view, not a copy — the description object is shared — so code can
 * hand an entry wherever a ModelDescription is expected.
 */
export type ModelEntry = ManifestRecord & ModelDescription;

let cached: ModelEntry[] | undefined;

export const MANIFEST_PATH = join(PROJECT_ROOT, 'models', 'manifest.json');

export function loadManifest(): ModelEntry[] {
  if (!cached) {
    try {
      const records = (JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as { models: ManifestRecord[] }).models;
      // each entry's description goes through the same validation as a user's --spec file
      cached = records.map((r, i) => {
        const description = validateDescription(r.description, `${MANIFEST_PATH} (models[${i}] '${r.id}')`);
        return { ...description, ...r, description };
      });
    } catch (e) {
      if (e instanceof FdkError) throw e;
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

/** The manifest entry one of whose files is `path` (same absolute path under the data folder), if any. */
export function manifestEntryOwning(path: string, dataDir?: string): ModelEntry | undefined {
  // no data folder: no bundled model can own the file (a user's model converts without ../shared)
  const dir = resolveDataDir(dataDir, { required: false });
  if (!dir) return undefined;
  const abs = resolve(path);
  return loadManifest().find((m) => allFileRefs(m).some(([, ref]) => resolve(dir, ref.path) === abs));
}

/**
 * Makes a model file with a description (not in the manifest) known by id for this process, so
 * commands that work on manifest ids (fdk report) take it like a bundled model. It has no files
 * of its own: callers pass the model file (e.g. the report's --model-file).
 */
export function registerDescribedModel(id: string, description: ModelDescription, path: string): ModelEntry {
  const all = loadManifest();
  if (all.some((m) => m.id === id)) throw new FdkError(`model id '${id}' is already a manifest model; give the description another name`, { file: path });
  const entry: ModelEntry = {
    ...description,
    id,
    family: 'user',
    arch: id,
    title: description.title ?? id,
    files: {},
    source: { repo: 'user', license: 'unknown', path },
    description,
  };
  all.push(entry);
  return entry;
}
