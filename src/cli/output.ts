/** Shared helpers for command output: --json printing and TTY detection. */
import { FdkError } from "../util/errors.js";
export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x), 2) + '\n');
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

/** Parses `name:1x3x240x320` or `1x3x240x320` (repeatable) into a shape map ('' = first input). */
export function parseInputShapes(specs: string[] | string | undefined): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of ([] as string[]).concat(specs ?? [])) {
    for (const part of s.split(',')) {
      if (!part) continue;
      const i = part.lastIndexOf(':');
      const name = i >= 0 ? part.slice(0, i) : '';
      const dims = parseDims(i >= 0 ? part.slice(i + 1) : part);
      if (!dims) throw new FdkError(`bad --input '${part}': expected [name:]1x3xHxW`);
      out[name] = dims;
    }
  }
  return out;
}
