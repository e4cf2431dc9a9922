import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { FdkError } from './errors.js';
import { tempFiles } from './signals.js';

/** Reads a whole file, turning ENOENT/EISDIR/EACCES into one-line FdkErrors naming the file. */
export function readFileOrThrow(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw fsError(e, path);
  }
}

export function fsError(e: unknown, path: string): FdkError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const what =
    code === 'ENOENT' ? 'no such file' :
    code === 'EISDIR' ? 'is a directory, expected a file' :
    code === 'EACCES' || code === 'EPERM' ? 'permission denied' :
    code === 'ENOTDIR' ? 'a parent path is not a directory' :
    code === 'EROFS' ? 'read-only file system' :
    (e as Error)?.message ?? String(e);
  return new FdkError(what, { file: path, cause: e });
}

/**
 * Writes files all-or-nothing: each goes to a temp name in the same folder, and only when every
 * write succeeded are they renamed into place. On failure the temp files are removed, so a
 * failed command never leaves a half-written output behind.
 */
export function writeFilesAtomic(files: { path: string; data: Uint8Array | string | Uint8Array[] }[]): void {
  const temps: { tmp: string; path: string }[] = [];
  try {
    for (const f of files) {
      const dir = dirname(f.path);
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw fsError(e, dir);
      }
      const tmp = join(dir, `.${basename(f.path)}.${process.pid}.${Date.now()}.tmp`);
      let fd: number;
      try {
        fd = openSync(tmp, 'w');
      } catch (e) {
        throw fsError(e, f.path);
      }
      temps.push({ tmp, path: f.path });
      tempFiles.add(tmp); // removed by the SIGINT/SIGTERM handler if interrupted (util/signals.ts)
      try {
        const chunks = Array.isArray(f.data) ? f.data : [typeof f.data === 'string' ? Buffer.from(f.data) : f.data];
        for (const c of chunks) {
          let off = 0;
          while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
        }
        fsyncSync(fd);
      } catch (e) {
        throw fsError(e, f.path);
      } finally {
        closeSync(fd);
      }
    }
    for (const t of temps) renameSync(t.tmp, t.path);
  } catch (e) {
    for (const t of temps) rmSync(t.tmp, { force: true });
    throw e;
  } finally {
    for (const t of temps) tempFiles.delete(t.tmp);
  }
}

/** Writes chunks one after the other into a new file (no concatenated copy of a large .bin in memory). */
export function writeChunksSync(path: string, chunks: Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
  } finally {
    closeSync(fd);
  }
}

export function writeFileAtomic(path: string, data: Uint8Array | string | Uint8Array[]): void {
  writeFilesAtomic([{ path, data }]);
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileOrThrow(path)).digest('hex');
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// User-facing outputs: where they go, what they may overwrite.

/** Default folder for a command's outputs: `--out DIR`, else `./fdk-out` under the current directory. */
export function outputDir(out?: string): string {
  return resolve(out ?? 'fdk-out');
}

/** `base` + `-tag` for every option that changes the file (`slim_Final-foldbn-nopost.onnx`). */
export function taggedName(base: string, tags: (string | false | undefined)[], ext = ''): string {
  return [base, ...tags.filter(Boolean)].join('-') + ext;
}

/**
 * An output path may be a new name or a regular file; a symlink (writing through it lands
 * elsewhere), a directory, a device, FIFO or socket is refused, naming the option it came from.
 */
export function checkOutputTarget(path: string, option = '-o'): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fsError(e, path);
  }
  const what = st.isSymbolicLink() ? 'is a symbolic link' : st.isDirectory() ? 'is a directory' : !st.isFile() ? 'is not a regular file (device, FIFO or socket)' : undefined;
  if (what) throw new FdkError(`${option}: ${what}; outputs go to a regular file or a new name`, { file: path });
}

/**
 * Same size and bytes, compared in 4 MB blocks that stop at the first difference (hashing both
 * files read all of a 300 MB .bin twice even when the first block differed).
 */
function sameBytes(a: string, b: string): boolean {
  let fa: number | undefined, fb: number | undefined;
  try {
    if (statSync(a).size !== statSync(b).size) return false;
    fa = openSync(a, 'r');
    fb = openSync(b, 'r');
    const [ba, bb] = [Buffer.allocUnsafe(4 << 20), Buffer.allocUnsafe(4 << 20)];
    for (;;) {
      const n = readSync(fa, ba, 0, ba.length, null);
      const m = readSync(fb, bb, 0, bb.length, null);
      if (n !== m || ba.compare(bb, 0, m, 0, n) !== 0) return false;
      if (n === 0) return true;
    }
  } catch {
    return false;
  } finally {
    if (fa !== undefined) closeSync(fa);
    if (fb !== undefined) closeSync(fb);
  }
}

export type OutputOutcome = 'written' | 'replaced' | 'unchanged';

/**
 * Writes one model's output files as a group. `produce` writes them to the temp paths it is given
 * (in the same folders, so the final rename is atomic). Then: every target already holds the same
 * bytes -> nothing changes ('unchanged'); a target holds other bytes -> refused unless `force`
 * ('replaced'); else the files are renamed into place ('written'). A failure leaves no temp file.
 */
export async function writeOutputs<T>(
  paths: string[],
  produce: (tmpPaths: string[]) => T | Promise<T>,
  opts: { force?: boolean; option?: string } = {},
): Promise<{ result: T; outcome: OutputOutcome }> {
  for (const p of paths) checkOutputTarget(p, opts.option);
  const dirs = [...new Set(paths.map((p) => dirname(p)))];
  for (const d of dirs)
    try {
      mkdirSync(d, { recursive: true });
    } catch (e) {
      throw fsError(e, d);
    }
  const temps = paths.map((p) => join(dirname(p), `.${basename(p)}.${process.pid}.${Date.now()}.tmp`));
  const cleanup = () => temps.forEach((t) => rmSync(t, { force: true }));
  try {
    const result = await produce(temps);
    const existing = paths.filter((p) => existsSync(p));
    if (existing.length === paths.length && paths.every((p, i) => sameBytes(temps[i], p))) {
      cleanup();
      return { result, outcome: 'unchanged' };
    }
    const differs = existing.find((p) => !sameBytes(temps[paths.indexOf(p)], p));
    if (differs && !opts.force) throw new FdkError('exists and holds a different model; pass --force to replace it, or choose another name', { file: differs });
    paths.forEach((p, i) => renameSync(temps[i], p));
    return { result, outcome: existing.length ? 'replaced' : 'written' };
  } catch (e) {
    cleanup();
    throw e;
  }
}
