/**
 * The one topological order (src/onnx/topo-order.ts) that validation, shape inference and the
 * ncnn lowering share: a sorted graph is kept as it is, an unsorted one comes out in dependency
 * order taking the smallest file index first, a cycle is reported with the nodes it holds back.
 */
import { describe, expect, it } from 'vitest';
import type { Graph, Node } from '../src/onnx/model.js';
import { topologicalOrder } from '../src/onnx/topo-order.js';
import { mulberry32 } from '../src/util/rng.js';

const node = (name: string, inputs: string[], outputs: string[]): Node => ({ name, opType: 'Add', domain: '', inputs, outputs, attrs: {} });
const graph = (nodes: Node[]): Graph => ({ name: 'g', nodes, inputs: [{ name: 'x', dtype: 'float32', shape: [1] }], outputs: [], initializers: new Map(), valueInfo: new Map() });

/** Whether every node reads only graph inputs, unproduced names or outputs of nodes before it. */
function respectsDependencies(order: Node[], all: Node[]): boolean {
  const writes = new Set(all.flatMap((n) => n.outputs));
  const done = new Set<string>();
  for (const n of order) {
    if (n.inputs.some((i) => i && writes.has(i) && !done.has(i))) return false;
    n.outputs.forEach((o) => done.add(o));
  }
  return order.length === all.length;
}

describe('topologicalOrder', () => {
  // a random DAG: node k reads up to three earlier outputs, the graph input, '' or a weight nothing writes
  const dag = (n: number, rand: () => number): Node[] =>
    Array.from({ length: n }, (_, k) => node(`n${k}`, [k ? `t${Math.floor(rand() * k)}` : 'x', rand() < 0.3 ? '' : 'w', ...(k > 1 ? [`t${Math.floor(rand() * k)}`] : [])], [`t${k}`]));

  it('keeps a sorted graph as the very same array', () => {
    const nodes = dag(200, mulberry32(1));
    const r = topologicalOrder(graph(nodes));
    expect('order' in r && r.order).toBe(nodes);
  });

  it('sorts shuffled graphs into dependency order, smallest file index first among the ready nodes', () => {
    const rand = mulberry32(2);
    for (let trial = 0; trial < 20; trial++) {
      const nodes = dag(60, rand);
      const shuffled = [...nodes].sort(() => rand() - 0.5);
      const r = topologicalOrder(graph(shuffled));
      if (!('order' in r)) throw new Error('reported a cycle in a DAG');
      expect(r.order).not.toBe(shuffled);
      expect(respectsDependencies(r.order, shuffled)).toBe(true);
    }
    // two chains written backwards: b1 (index 2) runs before a1 (3), then b2 (0) is ready and goes before a1
    const g = graph([node('b2', ['b1o'], ['b2o']), node('a2', ['a1o'], ['a2o']), node('b1', ['x'], ['b1o']), node('a1', ['x'], ['a1o'])]);
    const r = topologicalOrder(g);
    expect('order' in r && r.order.map((n) => n.name)).toEqual(['b1', 'b2', 'a1', 'a2']);
  });

  it('reports a cycle, and which nodes it holds back (a self-loop too)', () => {
    const g = graph([node('a', ['x'], ['ao']), node('b', ['ao', 'co'], ['bo']), node('c', ['bo'], ['co']), node('d', ['co'], ['do'])]);
    const r = topologicalOrder(g);
    expect('cycle' in r && [...r.done]).toEqual([1, 0, 0, 0]);
    const self = topologicalOrder(graph([node('s', ['x', 'so'], ['so'])]));
    expect('cycle' in self && [...self.done]).toEqual([0]);
  });
});
