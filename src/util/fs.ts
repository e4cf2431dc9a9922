import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
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

export { existsSync };
