/**
 * Paths built from file contents (event and image names of a .mat ground truth, keys of a
 * prediction folder) must stay inside the folder they are meant for: a crafted name such as
 * `../../tmp/x` would otherwise make fdk write anywhere (issue #15, item 1).
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { FdkError, escapeName } from './errors.js';

/**
 * Why `s` cannot be one path component (a folder or file name), or undefined when it can: no
 * separators, not `.`/`..`, no NUL or other control characters, not empty.
 */
export function badPathSegment(s: string): string | undefined {
  if (s.length === 0) return 'is empty';
  if (s === '.' || s === '..') return `is '${s}'`;
  if (/[/\\]/.test(s)) return 'contains a path separator';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) return 'contains a control character';
  return undefined;
}

/** `root/rel` resolved, refused with an FdkError naming `file` when it would leave `root`. */
export function confinedPath(root: string, rel: string, file?: string): string {
  const r = resolve(root);
  const p = resolve(r, rel);
  const back = relative(r, p);
  if (back === '' || back.startsWith('..') || isAbsolute(back))
    throw new FdkError(`path '${escapeName(rel)}' (from file contents) would be written outside ${r}`, { file: file ?? r });
  return p;
}
