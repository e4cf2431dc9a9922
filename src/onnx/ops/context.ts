/** What an op's shape rule or evaluator sees of its node: input infos, constant input values, attrs. */
import type { Node } from '../model.js';
import type { DType } from '../tensor.js';
import type { Dim, Val } from './value.js';

export interface TensorInfo {
  dtype: DType;
  shape: Dim[];
}

export interface OpContext {
  node: Node;
  /** Default-domain opset version of the model (attribute vs input forms change with it). */
  opset: number;
  /** Info of input i; undefined when the optional input is omitted ('') or absent. */
  input(i: number): TensorInfo | undefined;
  /** Known value of input i (constants, initializers, evaluated shape glue), else undefined. */
  value(i: number): Val | undefined;
  /** Throws the "cannot infer" error for this node with a reason. */
  fail(reason: string): never;
  /** A fresh symbolic dim name for an output dim that depends on unknown values. */
  unknownDim(hint?: string): string;
}

export type ShapeRule = (c: OpContext) => TensorInfo[];

/** Required input info (fails with a clear message when missing). */
export function req(c: OpContext, i: number): TensorInfo {
  const t = c.input(i);
  if (!t) c.fail(`missing input ${i}`);
  return t;
}

/** Normalises a possibly negative axis against `rank`. */
export function axis(c: OpContext, a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) c.fail(`axis ${a} out of range for rank ${rank}`);
  return r;
}

/** Arithmetic on a dim that may be symbolic: numbers compute, strings become readable expressions. */
export function dimMap(d: Dim, f: (n: number) => number, expr: (s: string) => string): Dim {
  return typeof d === 'number' ? f(d) : expr(d);
}

export function isStatic(shape: Dim[]): shape is number[] {
  return shape.every((d) => typeof d === 'number' && d >= 0);
}

export function dimsProduct(shape: Dim[]): Dim {
  if (isStatic(shape)) return shape.reduce((a, b) => a * b, 1);
  return shape.map(String).join('*');
}
