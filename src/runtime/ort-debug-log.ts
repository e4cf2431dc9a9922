/**
 * onnxruntime-node 1.30 on Linux links Microsoft's 1DS telemetry SDK ("MATSDK"), which creates an
 * empty `/tmp/mat-debug-<pid>.log` when the process makes its first session and never removes it:
 * every fdk command that ran onnxruntime left one such file behind, against fdk's rule that nothing
 * is written outside the output. fdk cannot switch the SDK off from JavaScript, so it removes the
 * file when the process exits — only if the file did not exist before fdk's first session (so it
 * is this process's) and is still empty (so nothing worth keeping is lost).
 */
import { existsSync, statSync, unlinkSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const debugLog = () => `/tmp/mat-debug-${process.pid}.log`;
let armed = false;

/**
 * Call on the main thread before onnxruntime-node makes its first session in this process (also
 * before starting worker threads that will); arms the clean-up once. A worker thread's own `exit`
 * is not the process's, so there it does nothing.
 */
export function removeOrtDebugLogAtExit(): void {
  if (armed || !isMainThread || process.platform !== 'linux') return;
  armed = true;
  const path = debugLog();
  if (existsSync(path)) return; // someone else's file (a reused pid): leave it
  process.once('exit', () => {
    try {
      if (statSync(path).size === 0) unlinkSync(path);
    } catch {
      // not created (another onnxruntime build) or already gone
    }
  });
}
