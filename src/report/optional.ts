/**
 * Loading the modules a report stage needs, telling "not written/installed" apart from "broken".
 *
 * The report builds on commands that other parts of fdk provide. When such a module (or the
 * function it should export) does not exist, the stage is reported as `not-available` with the
 * reason, never filled in. Any other import error (e.g. a syntax error) is a real failure.
 */
export class NotAvailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAvailable';
  }
}

/**
 * Imports `spec` (relative to src/report/, e.g. '../analyze/index.js') and returns the named
 * exports, or throws NotAvailable when the file or any of the names is missing.
 */
export async function requireExports<T extends Record<string, unknown>>(spec: string, names: (keyof T & string)[]): Promise<T> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const msg = String(err?.message ?? e);
    const file = spec.replace(/^\.\.\//, 'src/').replace(/\.js$/, '.ts');
    // Only the module itself missing counts as "not available"; a missing dependency inside it is a bug.
    if ((err?.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test(msg)) && msg.includes(spec.replace(/^\.\.\//, '').replace(/\.js$/, '')))
      throw new NotAvailable(`${file} does not exist yet`);
    throw new Error(`cannot load ${file}: ${msg.split('\n')[0]}`);
  }
  const missing = names.filter((n) => mod[n] === undefined);
  if (missing.length) throw new NotAvailable(`${spec.replace(/^\.\.\//, 'src/').replace(/\.js$/, '.ts')} does not export ${missing.join(', ')}`);
  return mod as T;
}
