/**
 * What an interrupted command must undo: SIGINT / SIGTERM remove every temp file still registered,
 * restore the terminal (cursor shown again after a progress bar hid it) and exit 130 / 143 (128 +
 * signal number, as a shell reports it). Exiting through process.exit runs the 'exit' hooks, which
 * is where the ncnn workers are killed (src/runtime/ncnn-client.ts) and worker threads end.
 *
 * Without handlers Node dies on the signal at once and the `.NAME.PID.TS.tmp` files of an
 * atomic write in progress stay behind (issue #15, item 6).
 */
import { rmSync } from 'node:fs';

/** Temp files being written right now (absolute or cwd-relative paths). */
export const tempFiles = new Set<string>();
const cleanups = new Set<() => void>();

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
let installed = false;

/** Registers a cleanup to run on SIGINT/SIGTERM (synchronous, best effort); returns its removal. */
export function onInterrupt(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Runs every registered cleanup and removes the temp files; safe to call more than once. */
export function runInterruptCleanup(): void {
  for (const fn of [...cleanups]) {
    try {
      fn();
    } catch {
      /* one failing cleanup must not stop the others */
    }
  }
  cleanups.clear();
  for (const t of tempFiles) rmSync(t, { force: true });
  tempFiles.clear();
  // Progress bars hide the cursor (cli-progress hideCursor); show it again.
  if (process.stderr.isTTY) process.stderr.write('\x1b[?25h');
  if (process.stdin.isTTY && process.stdin.isRaw) process.stdin.setRawMode(false);
}

/** Installs the SIGINT/SIGTERM handlers once per process (the CLI's main does it first thing). */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const sig of Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]) {
    process.on(sig, () => {
      runInterruptCleanup();
      process.exit(EXIT_CODES[sig]);
    });
  }
}

/**
 * One more turn of the event loop before the CLI returns its exit code. A signal that arrived
 * during the last synchronous step (the write of the output, typically) is only read from libuv's
 * signal pipe when the loop polls; the handlers do not keep the loop alive, so without this turn
 * the process would exit 0 as if it had not been interrupted.
 */
export async function settleSignals(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
}
