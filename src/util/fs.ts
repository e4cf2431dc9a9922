import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { createHash, randomInt } from 'node:crypto';
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

/**
 * The temp name an output is written under before its rename (same folder, so the rename is
 * atomic): `.NAME.PID.UNIQUE.tmp`. userPathOf() maps it back, so no message ever names it.
 * UNIQUE is random, not the time: the accuracy pool's worker threads share one pid and converted
 * the same model into the same cache folder within one millisecond, so two threads wrote one temp
 * file and the second rename found it gone (a CI report run failed with "cannot be created").
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomInt(2 ** 47)}.tmp`);
}

const TEMP_NAME = /^\.(.+)\.\d+\.\d+\.tmp$/;

/** The output path a temp name stands for (itself when it is not a temp name). */
export function userPathOf(path: string): string {
  const m = TEMP_NAME.exec(basename(path));
  return m ? userPathOf(join(dirname(path), m[1])) : path;
}

/** What an OS error code means, in words; `writing` picks the wording for an output path. */
const OS_PROBLEMS: Record<string, [read: string, write: string]> = {
  ENOENT: ['no such file', 'cannot be created: its folder does not exist or does not accept new files'],
  EISDIR: ['is a directory, expected a file', 'is a directory; outputs go to a regular file or a new name'],
  EACCES: ['permission denied', 'permission denied: the folder is not writable'],
  EPERM: ['permission denied', 'operation not permitted here'],
  ENOTDIR: ['a parent path is not a directory', 'a parent path is not a directory'],
  EROFS: ['read-only file system', 'read-only file system'],
  ENOSPC: ['no space left on device', 'no space left on device'],
  EDQUOT: ['disk quota exceeded', 'disk quota exceeded'],
  EFBIG: ['file too large', 'file too large for this file system'],
  ENAMETOOLONG: ['name too long', 'name too long'],
  ELOOP: ['too many symbolic links in the path', 'too many symbolic links in the path'],
  EEXIST: ['already exists', 'exists and is not a folder'],
  EBUSY: ['resource busy', 'resource busy'],
  ETXTBSY: ['file is busy (a running program)', 'file is busy (a running program)'],
  EMFILE: ['too many open files', 'too many open files'],
  ENFILE: ['too many open files in the system', 'too many open files in the system'],
  EIO: ['input/output error', 'input/output error'],
  ENXIO: ['no such device', 'no such device'],
};

/**
 * The one place OS errors become messages: an FdkError naming `path`, with the code in words. A
 * temp name (or an error about one) is reported as the output path it stands for; an FdkError
 * passes through (also re-pointed at the user's path when it named a temp file).
 */
export function fsError(e: unknown, path: string, mode: 'read' | 'write' = 'read'): FdkError {
  if (e instanceof FdkError) {
    if (e.file && userPathOf(e.file) !== e.file) {
      const cause = (e as { cause?: unknown }).cause;
      return cause !== undefined && (cause as NodeJS.ErrnoException).code ? fsError(cause, userPathOf(e.file), mode) : new FdkError(e.message.slice(e.file.length + 2), { file: userPathOf(e.file), exitCode: e.exitCode, cause });
    }
    return e;
  }
  const code = (e as NodeJS.ErrnoException)?.code;
  const words = code ? OS_PROBLEMS[code] : undefined;
  const msg = words ? words[mode === 'write' ? 1 : 0] : String((e as Error)?.message ?? e).replace(/(\S*\/)?\.[^/\s']+\.\d+\.\d+\.tmp/g, (t) => userPathOf(t));
  return new FdkError(msg, { file: userPathOf(path), cause: e });
}

/**
 * `mkdir -p` for an output folder, as an FdkError naming it when it cannot be made. Node's own
 * recursive mkdirSync spins forever (100% CPU, deaf to SIGINT) when a folder that exists refuses
 * a new entry with ENOENT, as /proc does (`-o /proc/x/out.param` hung); creating one level at a
 * time from the nearest existing folder ends with the error instead.
 */
export function makeDir(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  for (;;) {
    let st: Stats | undefined;
    try {
      st = statSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw fsError(e, dir, 'write');
    }
    if (st) {
      if (!st.isDirectory()) throw new FdkError(missing.length ? 'a parent path is not a directory' : 'exists and is not a folder', { file: dir });
      break;
    }
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(e, dir, 'write'); // EEXIST: made meanwhile by a concurrent run
    }
  }
}

/** What an output file holds: bytes, text, or chunks in order. */
export type FileData = Uint8Array | string | Uint8Array[];

const chunksOf = (d: FileData): Uint8Array[] => (Array.isArray(d) ? d : [typeof d === 'string' ? Buffer.from(d) : d]);

/**
 * Writes files all-or-nothing: each goes to a temp name in the same folder, and only when every
 * write succeeded are they renamed into place. On failure the temp files are removed, so a
 * failed command never leaves a half-written output behind. `fsync: false` skips flushing each
 * file to the disk before its rename (still all-or-nothing for the process; only a power loss can
 * leave it incomplete): for thousands of small regenerable files, such as a WIDER prediction
 * folder, where one fsync per file was most of the writing time.
 */
export function writeFilesAtomic(files: { path: string; data: FileData }[], opts: { fsync?: boolean } = {}): void {
  const temps: { tmp: string; path: string }[] = [];
  try {
    for (const f of files) {
      makeDir(dirname(f.path));
      const tmp = tempPathFor(f.path);
      let fd: number;
      try {
        fd = openSync(tmp, 'w');
      } catch (e) {
        throw fsError(e, f.path, 'write');
      }
      temps.push({ tmp, path: f.path });
      tempFiles.add(tmp); // removed by the SIGINT/SIGTERM handler if interrupted (util/signals.ts)
      try {
        writeAll(fd, chunksOf(f.data));
        if (opts.fsync !== false) fsyncSync(fd);
      } catch (e) {
        throw fsError(e, f.path, 'write');
      } finally {
        closeSync(fd);
      }
    }
    for (const t of temps) rename(t.tmp, t.path);
  } catch (e) {
    for (const t of temps) rmSync(t.tmp, { force: true });
    throw e;
  } finally {
    for (const t of temps) tempFiles.delete(t.tmp);
  }
}

/**
 * Writes chunks one after the other into a file (no concatenated copy of a large .bin in memory).
 * `flags` 'r+' writes into a file known to be new and empty without truncating it: on ext4 a
 * truncation to zero makes the close wait for the file's blocks to be allocated (its
 * replace-via-truncate safeguard), 15-35 ms for a 115 MB .bin.
 */
function writeChunksSync(path: string, chunks: Uint8Array[], flags: 'w' | 'r+' = 'w'): void {
  const fd = openSync(path, flags);
  try {
    writeAll(fd, chunks);
  } finally {
    closeSync(fd);
  }
}

/** Every chunk written in order (writeSync may write less than it was given). */
function writeAll(fd: number, chunks: Uint8Array[]): void {
  for (const c of chunks) {
    let off = 0;
    while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
  }
}

/** renameSync, an error naming the destination (e.g. it became a directory meanwhile). */
function rename(tmp: string, path: string): void {
  try {
    renameSync(tmp, path);
  } catch (e) {
    throw fsError(e, path, 'write');
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
 * Whether the file at `path` holds exactly `expected`: same size, then 4 MB blocks read and
 * compared in turn, stopping at the first difference (hashing read all of a 300 MB .bin even when
 * its first block differed). Any read error counts as different.
 */
function fileHolds(path: string, expected: Iterable<Uint8Array>, size: number): boolean {
  let fd: number | undefined;
  try {
    if (statSync(path).size !== size) return false;
    fd = openSync(path, 'r');
    const buf = Buffer.allocUnsafe(4 << 20);
    for (const c of expected) {
      const want = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      for (let off = 0; off < want.length;) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, want.length - off), null);
        if (n === 0 || buf.compare(want, off, off + n, 0, n) !== 0) return false;
        off += n;
      }
    }
    return readSync(fd, buf, 0, 1, null) === 0;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The blocks of a file, read in turn (for comparing two files without holding either); the file is opened on the first read. */
function* blocksOf(path: string): Generator<Uint8Array> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) yield buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export type OutputOutcome = 'written' | 'replaced' | 'unchanged';

interface OutputOptions { force?: boolean; option?: string }

/**
 * Writes one model's output files as a group. `produce` writes them to the temp paths it is given
 * (in the same folders, so the final rename is atomic). Then: every target already holds the same
 * bytes -> nothing changes ('unchanged'); a target holds other bytes -> refused unless `force`
 * ('replaced'); else the files are renamed into place ('written'). A failure leaves no temp file.
 */
export async function writeOutputs<T>(
  paths: string[],
  produce: (tmpPaths: string[]) => T | Promise<T>,
  opts: OutputOptions = {},
): Promise<{ result: T; outcome: OutputOutcome }> {
  return settleOutputs(paths, opts, async (temps) => {
    const result = await produce(temps);
    return { result, holds: (i: number, p: string) => fileHolds(p, blocksOf(temps[i]), statSync(temps[i]).size), write: () => {} };
  });
}

/**
 * writeOutputs for outputs made in memory (`produce` returns their bytes, one entry per path): an
 * existing target is compared with the bytes before anything is written, so a re-run that changes
 * nothing writes nothing. Writing, re-reading and deleting the temp first made re-converting
 * swin_t (a 115 MB .bin) spend a third of its time on the disk.
 */
export async function writeOutputData<T>(
  paths: string[],
  produce: () => { result: T; data: FileData[] } | Promise<{ result: T; data: FileData[] }>,
  opts: OutputOptions = {},
): Promise<{ result: T; outcome: OutputOutcome }> {
  return settleOutputs(paths, opts, async (temps) => {
    const { result, data } = await produce();
    const chunks = data.map(chunksOf);
    return {
      result,
      holds: (i: number, p: string) => fileHolds(p, chunks[i], chunks[i].reduce((n, c) => n + c.byteLength, 0)),
      write: () => temps.forEach((t, i) => writeChunksSync(t, chunks[i], 'r+')), // settleOutputs made each temp, empty
    };
  });
}

/**
 * The shared part: targets checked, temps created first (an unwritable folder is reported before
 * any work, naming the output), the outputs produced, compared with what is there, then written
 * to the temps (when made in memory) and renamed into place.
 */
async function settleOutputs<T>(
  paths: string[],
  opts: OutputOptions,
  produce: (temps: string[]) => Promise<{ result: T; holds: (i: number, path: string) => boolean; write: () => void }>,
): Promise<{ result: T; outcome: OutputOutcome }> {
  for (const p of paths) checkOutputTarget(p, opts.option);
  const dirs = [...new Set(paths.map((p) => dirname(p)))];
  for (const d of dirs) makeDir(d);
  const temps = paths.map(tempPathFor);
  const cleanup = () => temps.forEach((t) => rmSync(t, { force: true }));
  try {
    temps.forEach((t, i) => {
      tempFiles.add(t);
      try {
        closeSync(openSync(t, 'w'));
      } catch (e) {
        throw fsError(e, paths[i], 'write');
      }
    });
    let made: Awaited<ReturnType<typeof produce>>;
    const asOutputError = (e: unknown): unknown => {
      // an OS error (or an FdkError about a temp) while writing is about the output path
      if (e instanceof FdkError) return fsError(e, e.file ?? '', 'write');
      const err = e as NodeJS.ErrnoException;
      if (typeof err?.code !== 'string' || !/^E[A-Z0-9]+$/.test(err.code)) return e; // a bug, not the file system
      const about = err.path ? userPathOf(err.path) : undefined;
      return fsError(e, about && paths.includes(about) ? about : paths[0], 'write');
    };
    try {
      made = await produce(temps);
    } catch (e) {
      throw asOutputError(e);
    }
    const existing = paths.map((p) => existsSync(p));
    const same = paths.map((p, i) => existing[i] && made.holds(i, p));
    if (same.every(Boolean)) {
      cleanup();
      return { result: made.result, outcome: 'unchanged' };
    }
    const differs = paths.find((p, i) => existing[i] && !same[i]);
    if (differs && !opts.force) throw new FdkError('exists and holds a different model; pass --force to replace it, or choose another name', { file: differs });
    try {
      made.write();
    } catch (e) {
      throw asOutputError(e);
    }
    paths.forEach((p, i) => rename(temps[i], p));
    return { result: made.result, outcome: existing.some(Boolean) ? 'replaced' : 'written' };
  } catch (e) {
    cleanup();
    throw e;
  } finally {
    temps.forEach((t) => tempFiles.delete(t));
  }
}
