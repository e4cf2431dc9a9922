/** Shared test helpers: where the data is, running the CLI from source, reading reference arrays. */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { join, resolve } from 'node:path';
import { resolveDataDir, PROJECT_ROOT } from '../../src/util/data.js';

export const ROOT = PROJECT_ROOT;
/** tsx by absolute path, so the CLI also runs from a working directory outside the checkout. */
export const TSX = resolve(ROOT, 'node_modules/tsx/dist/loader.mjs');
export const SHARED = resolveDataDir()!;
export const shared = (...p: string[]) => join(SHARED, ...p);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `fdk ARGS` from the TypeScript sources (no build needed), capturing output. */
export function runCli(args: string[], opts: SpawnSyncOptions = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', TSX, resolve(ROOT, 'src/cli/entry.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', FORCE_COLOR: '0' },
    maxBuffer: 256 * 1024 * 1024,
    ...opts,
  });
  return { code: r.status ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Asserts the bad-input contract: non-zero exit, one error line naming `needle`, no stack trace. */
export function expectOneLineError(r: CliResult, needle: string | RegExp): void {
  const lines = r.stderr.trim().split('\n').filter(Boolean);
  if (r.code === 0) throw new Error(`expected failure, got exit 0; stdout=${r.stdout.slice(0, 500)}`);
  if (lines.length !== 1) throw new Error(`expected one stderr line, got ${lines.length}:\n${r.stderr}`);
  if (/\n\s+at /.test(r.stderr)) throw new Error(`stack trace printed:\n${r.stderr}`);
  const ok = typeof needle === 'string' ? lines[0].includes(needle) : needle.test(lines[0]);
  if (!ok) throw new Error(`error line does not mention ${needle}: ${lines[0]}`);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
