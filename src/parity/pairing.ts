/**
 * Which output of runtime A is which output of runtime B. Same names pair first (fdk's own
 * conversions keep the ONNX names); `--map onnxName=ncnnName` pairs named outputs of third-party
 * files; what is left pairs automatically when a shape occurs exactly once on each side.
 */
import type { NamedTensor, TensorMap } from '../runtime/types.js';
import { FdkError } from '../util/errors.js';

export interface OutputPair {
  a: string;
  b: string;
  how: 'name' | 'map' | 'shape';
}

/** `boxes=output0,scores=530` -> { boxes: 'output0', scores: '530' } (--map; also applies to inputs). */
export function parseNameMap(spec: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (spec ?? '').split(',').filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0 || i === part.length - 1) throw new FdkError(`bad --map '${part}': expected onnxName=ncnnName, comma-separated`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

/** Dims without leading 1s: ncnn Mats have no batch axis, so [1,4420,2] and [4420,2] are one shape. */
const shapeKey = (t: NamedTensor) => {
  const d = [...t.dims];
  while (d.length > 1 && d[0] === 1) d.shift();
  return d.join('x');
};

export function pairOutputs(a: TensorMap, b: TensorMap, map: Record<string, string> = {}): { pairs: OutputPair[]; unpairedA: string[]; unpairedB: string[] } {
  const restA = new Set(Object.keys(a));
  const restB = new Set(Object.keys(b));
  const pairs: OutputPair[] = [];
  const take = (x: string, y: string, how: OutputPair['how']) => {
    pairs.push({ a: x, b: y, how });
    restA.delete(x);
    restB.delete(y);
  };
  for (const n of [...restA]) if (restB.has(n)) take(n, n, 'name');
  // the map is written onnxName=ncnnName, but either runtime of a pair may be the ncnn one
  for (const [x, y] of Object.entries(map)) {
    if (restA.has(x) && restB.has(y)) take(x, y, 'map');
    else if (restA.has(y) && restB.has(x)) take(y, x, 'map');
  }
  const byShape = (names: Set<string>, m: TensorMap) => {
    const g = new Map<string, string[]>();
    for (const n of names) g.set(shapeKey(m[n]), [...(g.get(shapeKey(m[n])) ?? []), n]);
    return g;
  };
  const ga = byShape(restA, a);
  const gb = byShape(restB, b);
  for (const [k, xs] of ga) {
    const ys = gb.get(k);
    if (xs.length === 1 && ys?.length === 1) take(xs[0], ys[0], 'shape');
  }
  return { pairs, unpairedA: [...restA], unpairedB: [...restB] };
}

/**
 * Feeds named for one runtime's model: names it lacks are taken through the --map (either
 * direction), or, when both sides have a single input, renamed to it (`input` -> `input0`).
 */
export function feedsFor(inputNames: string[], feeds: TensorMap, map: Record<string, string> = {}): TensorMap {
  const given = Object.keys(feeds);
  if (given.every((n) => inputNames.includes(n))) return feeds;
  if (given.length === 1 && inputNames.length === 1) return { [inputNames[0]]: feeds[given[0]] };
  const out: TensorMap = {};
  const reverse = Object.fromEntries(Object.entries(map).map(([k, v]) => [v, k]));
  for (const n of given) {
    const target = inputNames.includes(n) ? n : [map[n], reverse[n]].find((m) => m && inputNames.includes(m));
    if (!target) throw new FdkError(`input '${n}' has no counterpart among the model's inputs (${inputNames.join(', ')}); pair them with --map ${n}=NAME`);
    out[target] = feeds[n];
  }
  return out;
}
