/**
 * Shared-memory tensor region between fdk and one ncnn worker: tensors travel through a file in
 * /dev/shm (tmpfs, i.e. memory) instead of the stdio pipe, which then carries only small JSON
 * control frames. A 0.9 MB input over the pipe is some fifteen 64 KB hand-overs between two
 * processes, each waiting to be scheduled; through the region it is one pwrite here and a
 * zero-copy numpy view of the worker's mmap there (worker.py, class Shm), and replies are one pread.
 *
 * The file is unlinked right after it is opened, before the worker starts: the worker inherits the
 * open descriptor (as its fd 3), so no name is left in /dev/shm whatever happens later (SIGKILL of
 * fdk or of the worker included), and the kernel frees the memory when both descriptors are closed.
 *
 * Layout: each tensor at an offset aligned to 64 bytes; a request's tensors from 0, the reply's
 * right after them (a reply never overwrites the request it answers).
 */
import { closeSync, existsSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FdkError } from '../util/errors.js';
import { wireEntries, type WireTensorMeta, type WireTensors } from './ncnn-protocol.js';
import type { NamedTensor } from './types.js';

const ALIGN = 64;
/** A reply bigger than this (per-layer parity: every blob) is not kept in memory between requests. */
const KEEP_BYTES = 64 << 20;

export const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** Where the region lives: tmpfs when there is one, else the temp dir (page cache). */
export function shmDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

export class ShmRegion {
  /** Two buffers used in turn by transient reads (see read()). */
  private scratch: (Buffer | undefined)[] = [undefined, undefined];
  private turn = 0;

  private constructor(readonly fd: number) {}

  /** Creates the backing file and removes its name at once (see the header comment). */
  static create(): ShmRegion {
    const dirs = [...new Set([shmDir(), tmpdir()])];
    for (const [i, dir] of dirs.entries()) {
      const path = join(dir, `fdk-ncnn-${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        const fd = openSync(path, 'w+', 0o600);
        unlinkSync(path);
        return new ShmRegion(fd);
      } catch (e) {
        // a read-only or missing /dev/shm: the temp dir still works
        if (i === dirs.length - 1) throw new FdkError(`cannot create the ncnn worker's shared memory in ${dir} (${(e as Error).message}); FDK_NCNN_TRANSPORT=stdio avoids it`);
      }
    }
    throw new Error('unreachable');
  }

  /**
   * Writes the tensors (float32) at aligned offsets and returns their metas (offset included).
   * A list may repeat a name (several inputs per request, NcnnModel.runMany).
   */
  write(tensors: WireTensors): WireTensorMeta[] {
    const metas: WireTensorMeta[] = [];
    let off = 0;
    for (const [name, t] of wireEntries(tensors)) {
      const bytes = t.data.byteLength;
      const view = new Uint8Array(t.data.buffer, t.data.byteOffset, bytes);
      for (let done = 0; done < bytes; ) done += writeSync(this.fd, view, done, bytes - done, off + done);
      metas.push({ name, dims: t.dims, bytes, offset: off });
      off = align(off + bytes);
    }
    return metas;
  }

  /**
   * Reads the tensors a reply placed in the region with one pread into a fresh buffer; the
   * Float32Arrays are views of it (offsets are 64-byte aligned, and so is the buffer's start).
   * `transient`: into one of two buffers used in turn instead, so a reply stays valid until the
   * next-but-one read (a caller that works on one part while the next is read, as per-layer parity
   * does, is safe; a fresh 20 MB buffer per part kept V8's garbage collector busy).
   */
  read(metas: WireTensorMeta[], transient = false): { name: string; tensor: NamedTensor; ncnnDims?: number[] }[] {
    if (!metas.length) return [];
    const start = Math.min(...metas.map((m) => m.offset ?? 0));
    const end = metas.reduce((e, m) => Math.max(e, (m.offset ?? 0) + m.bytes), start);
    let buf: Buffer;
    if (transient) {
      const t = (this.turn ^= 1);
      const have = this.scratch[t];
      if (!have || have.length < end - start) this.scratch[t] = Buffer.allocUnsafeSlow(Math.max(end - start, (have?.length ?? 0) * 2));
      buf = this.scratch[t]!.subarray(0, end - start);
    } else buf = Buffer.allocUnsafeSlow(end - start);
    for (let done = 0; done < buf.length; ) {
      const n = readSync(this.fd, buf, done, buf.length - done, start + done);
      if (n === 0) throw new Error(`shared memory region ends at ${start + done} of ${end} bytes`);
      done += n;
    }
    // the worker grew the file for this reply; a very large one is given back right away
    if (end > KEEP_BYTES) ftruncateSync(this.fd, 0);
    return metas.map((m) => ({
      name: m.name,
      tensor: { data: new Float32Array(buf.buffer, buf.byteOffset + (m.offset ?? 0) - start, m.bytes / 4), dims: m.dims },
      ncnnDims: m.ncnn_dims,
    }));
  }

  close(): void {
    this.scratch = [undefined, undefined];
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}
