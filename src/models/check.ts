/**
 * Field-by-field checks for JSON documents users write (model descriptions): every problem is one
 * `FdkError` line `FILE: field.path: problem`, naming the first bad field, so a typo in a description
 * never turns into a silently wrong detector.
 */
import { FdkError } from '../util/errors.js';

export type Json = Record<string, unknown>;

export class FieldChecker {
  constructor(readonly file: string) {}

  fail(path: string, problem: string): never {
    throw new FdkError(`${path}: ${problem}`, { file: this.file });
  }

  object(v: unknown, path: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${kind(v)}`);
    return v as Json;
  }

  /** Refuses fields the schema does not define (a misspelt optional field would otherwise be ignored). */
  onlyKeys(o: Json, path: string, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(join(path, k), `unknown field (allowed: ${allowed.join(', ')})`);
  }

  required(o: Json, key: string, path: string): unknown {
    if (o[key] === undefined) this.fail(join(path, key), 'missing');
    return o[key];
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string' || !v) this.fail(path, `expected a non-empty string, got ${kind(v)}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !values.includes(v as T)) this.fail(path, `expected one of ${values.map((x) => `'${x}'`).join(', ')}, got ${kind(v)}`);
    return v as T;
  }

  boolean(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `expected true or false, got ${kind(v)}`);
    return v;
  }

  number(v: unknown, path: string, o: { int?: boolean; min?: number; max?: number; exclusiveMin?: boolean } = {}): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `expected a number, got ${kind(v)}`);
    if (o.int && !Number.isInteger(v)) this.fail(path, `expected an integer, got ${v}`);
    if (o.min !== undefined && (o.exclusiveMin ? v <= o.min : v < o.min)) this.fail(path, `must be ${o.exclusiveMin ? '>' : '>='} ${o.min}, got ${v}`);
    if (o.max !== undefined && v > o.max) this.fail(path, `must be <= ${o.max}, got ${v}`);
    return v;
  }

  array(v: unknown, path: string, o: { length?: number; minLength?: number } = {}): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${kind(v)}`);
    if (o.length !== undefined && v.length !== o.length) this.fail(path, `expected ${o.length} values, got ${v.length}`);
    if (o.minLength !== undefined && v.length < o.minLength) this.fail(path, `expected at least ${o.minLength} value(s), got ${v.length}`);
    return v;
  }

  numbers(v: unknown, path: string, o: { length?: number; minLength?: number; int?: boolean; min?: number; exclusiveMin?: boolean } = {}): number[] {
    return this.array(v, path, o).map((x, i) => this.number(x, `${path}[${i}]`, o));
  }
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}
