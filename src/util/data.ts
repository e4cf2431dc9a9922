import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FdkError } from './errors.js';

/** Root of the fdk package (the folder holding package.json), from dist/util or src/util. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The data folder holding third-party models, images and WIDER files.
 * Order: explicit --data, then FDK_DATA, then ../shared beside the working directory,
 * then ../shared beside the project checkout. Data is never inside the project.
 */
export function resolveDataDir(explicit?: string, opts: { required?: boolean } = {}): string | undefined {
  const candidates: [string, string][] = [];
  if (explicit) candidates.push([explicit, '--data']);
  else if (process.env.FDK_DATA) candidates.push([process.env.FDK_DATA, 'FDK_DATA']);
  else {
    candidates.push([resolve(process.cwd(), '..', 'shared'), 'default']);
    candidates.push([resolve(PROJECT_ROOT, '..', 'shared'), 'default']);
  }
  for (const [dir, src] of candidates) {
    if (existsSync(dir)) return resolve(dir);
    if (src !== 'default') throw new FdkError(`data folder does not exist (from ${src})`, { file: dir });
  }
  if (opts.required ?? true)
    throw new FdkError('no data folder: pass --data DIR or set FDK_DATA (default ../shared was not found)');
  return undefined;
}

/**
 * Folder for fdk's internal caches (exports of manifest models, ncnn conversions for the runtime,
 * the ncnn venv, predictions): `$FDK_WORK`, else `.fdk/` in a git checkout (git-ignored; what the
 * tests use), else `$FDK_CACHE` or `~/.cache/fdk` — never inside a package installed from npm.
 */
export function workDir(...parts: string[]): string {
  return join(process.env.FDK_WORK ?? cacheBase(), ...parts);
}

function cacheBase(): string {
  if (existsSync(join(PROJECT_ROOT, '.git'))) return join(PROJECT_ROOT, '.fdk');
  if (process.env.FDK_CACHE) return resolve(process.env.FDK_CACHE);
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fdk');
}
