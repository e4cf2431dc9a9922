/** fdk's own package.json (name, version), read once from the package root. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './data.js';

let pkg: { name: string; version: string } | undefined;

export function packageInfo(): { name: string; version: string } {
  pkg ??= JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  return pkg;
}

export const fdkVersion = (): string => packageInfo().version;
