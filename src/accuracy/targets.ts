/**
 * The numbers `fdk accuracy` prints beside its own:
 *  - published: the seed README's WIDER val table (biubug6/Face-Detector-1MB-with-landmark), which
 *    for the Ultra-Light rows cites an older Ultra-Light release; plus Linzaer's current README for
 *    those rows — both from the manifest entries (`publishedAp`).
 *  - re-run: the original pipelines re-run on the same machine class, read at run time from the data
 *    folder (`wider/val-mini/expected.json`: full val and val-mini), never committed here.
 */
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { resolveDataDir } from '../util/data.js';
import { FdkError } from '../util/errors.js';
import { loadManifest } from '../models/manifest.js';

export interface Ap3 {
  easy: number;
  medium: number;
  hard: number;
}

const ap = (easy: number, medium: number, hard: number): Ap3 => ({ easy, medium, hard });

/** Published AP by accuracy row id (`<arch>-<long side>`, e.g. slim-320, ulfd-rfb-640) from the manifest's `publishedAp`. */
function publishedRows(which: 'seedReadme' | 'linzaerReadmeNow'): Record<string, Ap3> {
  const out: Record<string, Ap3> = {};
  for (const m of loadManifest()) for (const [ls, v] of Object.entries(m.publishedAp?.[which] ?? {})) out[`${m.arch}-${ls}`] = v;
  return out;
}

/** Seed README table (which cites an older Ultra-Light release for the Ultra-Light rows), by row id. */
export const PUBLISHED: Record<string, Ap3> = publishedRows('seedReadme');

/** Linzaer's README today for the Ultra-Light rows. */
export const PUBLISHED_ULTRA_LIGHT_NOW: Record<string, Ap3> = publishedRows('linzaerReadmeNow');

/** libfacedetection rows of the seed table: cited only, no model to run. */
export const CITED_ONLY: { title: string; ap: Record<320 | 640, Ap3> }[] = [
  { title: 'libfacedetection v1 (caffe)', ap: { 320: ap(0.65, 0.5, 0.233), 640: ap(0.741, 0.683, 0.421) } },
  { title: 'libfacedetection v2 (caffe)', ap: { 320: ap(0.714, 0.585, 0.306), 640: ap(0.773, 0.718, 0.485) } },
];

export interface RerunTargets {
  full?: Ap3;
  valMini?: Ap3;
  referencePredictions?: string;
}

/** Re-run numbers of the original pipelines from `<data>/wider/val-mini/expected.json`, if present. */
export function rerunTargets(dataDir?: string): Record<string, RerunTargets> {
  const dir = resolveDataDir(dataDir, { required: false });
  if (!dir) return {};
  const p = join(dir, 'wider', 'val-mini', 'expected.json');
  if (!existsSync(p)) return {};
  let j: { rows?: Record<string, { full?: Ap3; val_mini?: Ap3; reference_predictions?: string }> };
  try {
    j = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new FdkError(`cannot parse expected AP file: ${(e as Error).message}`, { file: p });
  }
  const out: Record<string, RerunTargets> = {};
  for (const [row, v] of Object.entries(j.rows ?? {}))
    out[row] = { full: v.full, valMini: v.val_mini, referencePredictions: v.reference_predictions ? join(dir, 'wider', 'val-mini', v.reference_predictions) : undefined };
  return out;
}
