/**
 * One ncnn worker process: spawns `python worker.py`, sends one request at a time and waits for
 * its reply with a timeout. A worker that dies or hangs turns into an FdkError (a hung worker is
 * killed), so the CLI never waits forever. Idle workers don't keep Node alive, and all workers
 * are killed when Node exits.
 *
 * Tensors go through a shared-memory region (ncnn-shm.ts) by default; FDK_NCNN_TRANSPORT=stdio
 * sends them inside the frames on the pipe instead (the reference path the tests compare with).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FdkError } from '../util/errors.js';
import { encodeFrame, encodeHeaderFrame, FrameReader, wireEntries, type Frame, type WireTensors } from './ncnn-protocol.js';
import { ShmRegion } from './ncnn-shm.js';

/** The worker script, next to this module in src/ (tsx) or dist/ (copied by scripts/copy-assets.mjs). */
export const WORKER_SCRIPT = fileURLToPath(new URL('./ncnn-worker/worker.py', import.meta.url));

const live = new Set<ChildProcessWithoutNullStreams>();
let exitHook = false;

/** Default reply timeout; FDK_NCNN_TIMEOUT_MS overrides it (tests of hangs use small values). */
export function defaultTimeoutMs(): number {
  const v = Number(process.env.FDK_NCNN_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 300_000;
}

export type NcnnTransport = 'shm' | 'stdio';

export interface RequestOptions {
  /** The reply's tensors may live in a buffer reused by the next reply (shared memory only). */
  transient?: boolean;
}

/** FDK_NCNN_TRANSPORT=stdio|shm; shared memory unless told otherwise. */
export function defaultTransport(): NcnnTransport {
  const v = process.env.FDK_NCNN_TRANSPORT;
  if (v && v !== 'shm' && v !== 'stdio') throw new FdkError(`FDK_NCNN_TRANSPORT must be 'shm' or 'stdio', not '${v}'`);
  return (v as NcnnTransport | undefined) ?? 'shm';
}

/**
 * FDK_NCNN_PROFILE=1 (inherited by the worker too): each reply's header.prof gets fdk's own
 * CLOCK_MONOTONIC marks (ns) next to the worker's: fdk_send (request handed over, before the input
 * copy), fdk_sent (frame written to the pipe), fdk_data (reply bytes arrived), fdk_read (outputs
 * read back). perf/ncnn-steps.ts prints the steps.
 */
const now = (): number => Number(process.hrtime.bigint());

interface Pending {
  op: string;
  marks?: Record<string, number>;
  transient: boolean;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class NcnnWorker {
  private child: ChildProcessWithoutNullStreams;
  private reader = new FrameReader();
  private pending?: Pending;
  private queue: Promise<unknown> = Promise.resolve();
  /** Requests sent or queued and not yet answered. */
  private waiting = 0;
  private stderrTail = '';
  private exited?: string;
  private shm?: ShmRegion;
  private profile = process.env.FDK_NCNN_PROFILE === '1';

  constructor(python: string, public label: string, readonly transport: NcnnTransport = defaultTransport()) {
    if (!existsSync(WORKER_SCRIPT)) throw new FdkError('ncnn worker script is missing (broken install)', { file: WORKER_SCRIPT });
    this.shm = transport === 'shm' ? ShmRegion.create() : undefined;
    // the region's (already unlinked) file becomes the worker's fd 3
    this.child = this.shm
      ? (spawn(python, ['-u', WORKER_SCRIPT, '--shm-fd', '3'], { stdio: ['pipe', 'pipe', 'pipe', this.shm.fd] }) as unknown as ChildProcessWithoutNullStreams)
      : spawn(python, ['-u', WORKER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this.child);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const c of live) c.kill('SIGKILL');
      });
    }
    this.child.stdout.on('data', (chunk: Buffer) => {
      if (this.pending?.marks) this.pending.marks.fdk_data ??= now();
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch (e) {
        this.fail(new FdkError(`ncnn worker sent a malformed reply (${(e as Error).message}); killed it`));
        this.child.kill('SIGKILL');
        return;
      }
      for (const f of frames) this.settle(f);
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000);
      if (process.env.FDK_DEBUG) process.stderr.write(chunk);
    });
    this.child.stdin.on('error', () => {
      /* EPIPE when the worker died: reported through 'exit' */
    });
    this.child.on('error', (e) => {
      this.shm?.close();
      this.exited = `could not start (${e.message})`;
      this.fail(new FdkError(`cannot start the ncnn worker with ${python}: ${e.message}; run 'fdk setup ncnn'`));
    });
    this.child.on('exit', (code, signal) => {
      live.delete(this.child);
      this.shm?.close();
      this.exited = signal ? `killed by ${signal}` : `exited with code ${code}`;
      const hint = this.lastStderrLine();
      this.fail(
        new FdkError(`ncnn worker (pid ${this.child.pid}) ${this.exited} during '${this.pending?.op}' of ${this.label}${hint ? `: ${hint}` : ''}`),
      );
    });
    this.idle();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private lastStderrLine(): string {
    const lines = this.stderrTail.split('\n').map((l) => l.trim()).filter(Boolean);
    return lines.at(-1) ?? '';
  }

  /** Neither the idle child nor its pipes keep the event loop alive; a pending request's timer does. */
  private idle(): void {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
  }

  private settle(f: Frame): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    if (f.header.ok === false) {
      const file = typeof f.header.file === 'string' ? f.header.file : undefined;
      p.reject(new FdkError(`${file ? '' : 'ncnn: '}${String(f.header.error ?? 'unknown error')}`, { file }));
    }
    else {
      let reply = f;
      if (f.header.shm && this.shm) {
        try {
          reply = { header: f.header, tensors: this.shm.read(f.header.tensors ?? [], p.transient) };
        } catch (e) {
          p.reject(new FdkError(`ncnn worker reply: ${(e as Error).message}`));
          return;
        }
      }
      if (p.marks) reply.header.prof = { ...(reply.header.prof as object), ...p.marks, fdk_read: now() };
      p.resolve(reply);
    }
  }

  private fail(e: Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.reject(e);
  }

  /**
   * Sends one request; requests are queued so at most one is in flight. With none waiting, it is
   * written at once (not in a later microtask), so a caller can hand the worker its next request
   * and then do synchronous work on the previous reply while the worker computes.
   */
  request(header: Record<string, unknown>, tensors?: WireTensors, timeoutMs = defaultTimeoutMs(), opts: RequestOptions = {}): Promise<Frame> {
    const send = () => this.send(header, tensors, timeoutMs, opts.transient ?? false);
    const next = this.waiting === 0 ? send() : this.queue.then(send);
    this.waiting++;
    const settled = next.then(
      () => void this.waiting--,
      () => void this.waiting--,
    );
    this.queue = settled;
    return next;
  }

  private send(header: Record<string, unknown>, tensors: WireTensors | undefined, timeoutMs: number, transient: boolean): Promise<Frame> {
    const op = String(header.op);
    if (this.exited) return Promise.reject(new FdkError(`ncnn worker for ${this.label} is gone (${this.exited})`));
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new FdkError(`ncnn worker did not answer '${op}' within ${(timeoutMs / 1000).toFixed(1)} s for ${this.label}; killed it`));
        this.child.kill('SIGKILL');
      }, timeoutMs);
      this.pending = { op, transient, resolve, reject, timer, marks: this.profile ? { fdk_send: now() } : undefined };
      let frame: Buffer;
      try {
        frame = this.shm && tensors && wireEntries(tensors).length ? encodeHeaderFrame({ ...header, shm: true, tensors: this.shm.write(tensors) }) : encodeFrame(header, tensors);
      } catch (e) {
        // e.g. /dev/shm full: the request never left, the worker is still fine
        this.fail(new FdkError(`cannot hand the tensors to the ncnn worker: ${(e as Error).message}`));
        return;
      }
      this.child.stdin.write(frame);
      if (this.pending?.marks) this.pending.marks.fdk_sent = now();
    });
  }

  /** Asks the worker to exit; kills it if it doesn't within 2 s. */
  async close(): Promise<void> {
    if (this.exited) return;
    try {
      await this.request({ op: 'release' }, undefined, 2000);
    } catch {
      /* already dead or hung: killed below */
    }
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
