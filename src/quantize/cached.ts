/**
 * The int8 model of a manifest entry for accuracy runs and the report (`--runtime ncnn-int8`):
 * the entry's fdk model file quantized with the WIDER calibration set (`wider/calib-200`, 200 val
 * images disjoint from val-mini), cached in `.fdk/int8/` under a key of everything that decides it.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ModelEntry } from '../models/manifest.js';
import type { Int8Recipe, ModelDescription } from '../models/description.js';
import type { ModelFileChoice } from '../accuracy/pipeline.js';
import { resolveDataDir, workDir } from '../util/data.js';
import { FdkError } from '../util/errors.js';
import { isFile, readFileOrThrow, sha256File } from '../util/fs.js';
import { DEFAULT_METHOD, type CalibMethod } from './thresholds.js';

export const DEFAULT_CALIB = 'wider/calib-200/list.txt';

export interface Int8Choice {
  method?: CalibMethod;
  /** Calibration list or folder (default <data>/wider/calib-200/list.txt). */
  calib?: string;
  /** Keep the N layers with the largest end-to-end gain in fp32 (the key says so: an earlier ranking by own drift chose others). */
  autoKeep?: number;
  keepFp32?: string[];
  limit?: number;
  /** Only an int8 model made before (bench:int8 --cached-only): a missing one is an error, not a calibration run. */
  cachedOnly?: boolean;
}

/** Fields replacing a model's recipe (the command line's --int8-method / --int8-auto-keep). */
export interface Int8Override {
  method?: CalibMethod;
  /** 0 = every layer int8. */
  autoKeep?: number;
}

/** The int8 recipe a row runs with, and where it comes from (accuracy and report output name it). */
export interface Int8Plan extends Int8Recipe {
  from: 'model description' | 'default' | 'command line';
  /** e.g. "percentile, 6 layers fp32" or "percentile, all layers int8". */
  label: string;
}

/**
 * The model's own recipe (its description's `int8`), else fdk's default (DEFAULT_METHOD, every
 * layer int8); each field given in `override` (the command line's --int8-method / --int8-auto-keep,
 * autoKeep 0 = none) replaces that field.
 */
export function int8Plan(entry: Pick<ModelDescription, 'int8'>, override: Int8Override = {}): Int8Plan {
  const base: Int8Recipe = entry.int8 ?? { method: DEFAULT_METHOD };
  const method = override.method ?? base.method;
  const autoKeep = override.autoKeep ?? base.autoKeep ?? 0;
  const keepFp32 = base.keepFp32 ?? [];
  const from = override.method !== undefined || override.autoKeep !== undefined ? 'command line' : entry.int8 ? 'model description' : 'default';
  const kept = [autoKeep ? `${autoKeep} layers fp32` : '', keepFp32.length ? `fp32: ${keepFp32.join(' ')}` : ''].filter(Boolean);
  return {
    method,
    ...(autoKeep ? { autoKeep } : {}),
    ...(keepFp32.length ? { keepFp32 } : {}),
    from,
    label: `${method}, ${kept.length ? kept.join(', ') : 'all layers int8'}`,
  };
}

/** Calibration runs at the row's long side: activation ranges depend on the input scale. */
export async function int8ModelFile(entry: ModelEntry, longSide: number, o: Int8Choice = {}): Promise<ModelFileChoice> {
  const { modelFileFor } = await import('../accuracy/pipeline.js');
  const src = await modelFileFor(entry);
  const method = o.method ?? DEFAULT_METHOD;
  const calib = o.calib ?? join(resolveDataDir()!, DEFAULT_CALIB);
  const ls = entry.input.resize.mode === 'fixed' ? entry.input.resize.width! : longSide;
  const key = createHash('sha256')
    .update(readFileOrThrow(src.path))
    .update(JSON.stringify({ v: 1, method, ls, calib, list: isFile(calib) ? sha256File(calib) : '', autoKeep: o.autoKeep ? `${o.autoKeep}-by-output` : 0, keep: o.keepFp32 ?? [], limit: o.limit ?? 0 }))
    .digest('hex')
    .slice(0, 12);
  const prefix = workDir('int8', `${entry.id}-${ls}-${method}${o.autoKeep ? `-mp${o.autoKeep}` : ''}-${key}`);
  if (!existsSync(`${prefix}.param`) || !existsSync(`${prefix}.bin`)) {
    if (o.cachedOnly) throw new FdkError('not made in this round (no cached int8 model)', { file: `${prefix}.param` });
    const { quantizeModel } = await import('./quantize.js');
    await quantizeModel({ model: src.path, entry, calib, method, longSide: ls, autoKeep: o.autoKeep, keepFp32: o.keepFp32, limit: o.limit, out: prefix, force: true });
  }
  return { path: `${prefix}.param`, boxesDecoded: src.boxesDecoded, origin: `fdk quantize (${method}, ${basename(calib)}) of ${basename(src.path)}` };
}
