/** Versions of the runtimes the report uses (and whether each can start at all on this machine). */
import { getRuntime } from '../runtime/index.js';
import type { Report } from './schema.js';

/**
 * One row per runtime, never a throw: a runtime that cannot start here (e.g. the ncnn venv cannot be
 * created, onnxruntime's native binding is missing) is listed with its status and the reason.
 * getRuntime imports each adapter on demand, so a broken one does not take the others down.
 */
export async function runtimeInfos(names: string[]): Promise<Report['runtimes']> {
  const out: Report['runtimes'] = [];
  for (const name of names) {
    try {
      const info = await (await getRuntime(name)).info();
      out.push({ name, version: info.version, status: 'ok' });
    } catch (e) {
      const msg = String((e as Error)?.message ?? e).split('\n')[0];
      // A module the adapter needs is not installed: not available here, rather than broken.
      const missing = (e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND' || /ERR_MODULE_NOT_FOUND|Cannot find (module|package)/.test(msg);
      out.push({ name, version: '—', status: missing ? 'not-available' : 'failed', reason: msg });
    }
  }
  return out;
}
