/** The decode families, by id. A new family = a module implementing DecodeFamily + one line here. */
import type { DecodeFamily, DecodeParams } from './types.js';
import { priorFamily } from './prior.js';
import { gridFamily } from './grid.js';

const FAMILIES: DecodeFamily<any>[] = [priorFamily, gridFamily]; // eslint-disable-line @typescript-eslint/no-explicit-any

export function findFamily(id: string): DecodeFamily<DecodeParams> | undefined {
  return FAMILIES.find((f) => f.id === id);
}

export function familyIds(): string[] {
  return FAMILIES.map((f) => f.id);
}

/** The family of validated parameters (validation guarantees it exists). */
export function familyOf(p: DecodeParams): DecodeFamily<DecodeParams> {
  const f = findFamily(p.family);
  if (!f) throw new Error(`unknown decode family '${p.family}'`);
  return f;
}

export type { DecodeFamily, DecodeParams, Detection } from './types.js';
