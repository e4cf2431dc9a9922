/** Shared helpers for command output: --json printing, TTY detection, colour, option parsing. */
import { FdkError } from '../util/errors.js';

/**
 * Version of the shape of every `--json` document. Bump it when a field changes meaning or goes
 * away (adding fields does not need a bump), so scripts can tell which layout they read.
 */
export const JSON_SCHEMA_VERSION = 1;

/** Prints a --json document; objects get `schemaVersion` first. */
export function printJson(v: unknown): void {
  const doc = v && typeof v === 'object' && !Array.isArray(v) ? { schemaVersion: JSON_SCHEMA_VERSION, ...(v as object) } : v;
  process.stdout.write(JSON.stringify(doc, (_k, x) => (typeof x === 'bigint' ? Number(x) : x), 2) + '\n');
}

/**
 * `fdk analyze … | head` closes the pipe early: stop quietly with exit 0 instead of an EPIPE stack.
 */
let epipeHooked = false;
export function quietOnEpipe(): void {
  if (epipeHooked) return;
  epipeHooked = true;
  for (const s of [process.stdout, process.stderr])
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
}

/** ANSI colour only when stdout is a terminal and NO_COLOR is not set (https://no-color.org). */
export function colourWanted(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && !process.env.CI;
}

/** Libraries that colour by FORCE_COLOR (and the child processes fdk starts) see the same decision as the tables (cli/table.ts). */
export function settleColour(): void {
  if (!colourWanted()) process.env.FORCE_COLOR = '0';
}

/** Progress and colours only on an interactive terminal, never in CI. */
export function interactive(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI;
}

/** `1x3x240x320` (or with ×) -> [1, 3, 240, 320]; undefined unless every dim is a positive integer. */
export function parseDims(text: string): number[] | undefined {
  const dims = text.split(/[x×]/).map(Number);
  return dims.every((d) => Number.isInteger(d) && d > 0) ? dims : undefined;
}

/** Parses `name:1x3x240x320,other:1x4` or `1x3x240x320` into a shape map ('' = first input). */
export function parseInputShapes(specs: string[] | string | undefined, option = '--input'): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of ([] as string[]).concat(specs ?? [])) {
    for (const part of s.split(',')) {
      if (!part) continue;
      const i = part.lastIndexOf(':');
      const name = i >= 0 ? part.slice(0, i) : '';
      const dims = parseDims(i >= 0 ? part.slice(i + 1) : part);
      if (!dims) throw new FdkError(`bad ${option} '${part}': expected [name:]1x3xHxW, comma-separated for several inputs`);
      out[name] = dims;
    }
  }
  return out;
}

/** How a written output fared, for a summary line (see writeOutputs in util/fs.ts). */
export const outcomeNote = (o: string): string =>
  o === 'unchanged' ? ' (unchanged: identical bytes already there)' : o === 'replaced' ? ' (replaced, --force)' : '';
