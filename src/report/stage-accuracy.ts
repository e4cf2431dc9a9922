/** Report stage "accuracy" (adapter over src/accuracy/run.ts, filled in when that module exists). */
import { isAbsolute, join } from 'node:path';
import { resolveDataDir } from '../util/data.js';
import { requireExports } from './optional.js';
import type { ModelContext } from './context.js';

export const DEFAULT_SUBSET = 'wider/val-mini/list.txt';

/** The subset list path: absolute as given, else relative to the data folder. */
export function resolveSubset(subset: string): string {
  return isAbsolute(subset) ? subset : join(resolveDataDir()!, subset);
}

export async function accuracyStage(_ctx: ModelContext): Promise<never> {
  await requireExports('../accuracy/run.js', ['runAccuracy']);
  throw new Error('not wired yet');
}
