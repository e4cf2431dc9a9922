/**
 * The resource-limit options, defined once for every command that runs a model (bench, detect,
 * parity, accuracy): `--max-pixels N` and `--max-memory MB`. They win over FDK_MAX_PIXELS and
 * FDK_MAX_MEMORY_MB; the checks themselves are in src/util/limits.ts.
 */
import type { Command } from 'commander';
import { DEFAULT_MAX_PIXELS, setLimits } from '../util/limits.js';

export function withLimitOptions(cmd: Command): Command {
  return cmd
    .option('--max-pixels <n>', `refuse inputs of more pixels per image (default ${DEFAULT_MAX_PIXELS} = 8192x8192, or FDK_MAX_PIXELS)`)
    .option('--max-memory <MB>', "refuse an inference estimated to need more MiB: weights + 2 x analyze's peak activations (default half the RAM, or FDK_MAX_MEMORY_MB)")
    .hook('preAction', (_cmd, action) => setLimits(action.opts<{ maxPixels?: string; maxMemory?: string }>()));
}
