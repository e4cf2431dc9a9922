/** Versions of the runtimes the report uses (and whether each can start at all on this machine). */
import { requireExports, NotAvailable } from './optional.js';
import type { Report } from './schema.js';
import type { Runtime } from '../runtime/types.js';

export type RuntimeIndex = { getRuntime: (name: string) => Promise<Runtime> };

export async function runtimeIndex(): Promise<RuntimeIndex> {
  return requireExports<RuntimeIndex>('../runtime/index.js', ['getRuntime']);
}

export async function runtimeInfos(names: string[]): Promise<Report['runtimes']> {
  const out: Report['runtimes'] = [];
  for (const name of names) {
    try {
      const rt = await (await runtimeIndex()).getRuntime(name);
      const info = await rt.info();
      out.push({ name, version: info.version, status: 'ok' });
    } catch (e) {
      const msg = String((e as Error)?.message ?? e).split('\n')[0];
      out.push({ name, version: '—', status: e instanceof NotAvailable || /ERR_MODULE_NOT_FOUND|Cannot find module/.test(msg) ? 'not-available' : 'failed', reason: msg });
    }
  }
  return out;
}
