/**
 * The one topological order of an ONNX graph, shared by validation (cycles), shape inference and
 * the ncnn lowering.
 *
 * ONNX requires sorted nodes and nearly every exporter complies, so a sorted graph is recognised
 * in one pass over the names and kept exactly as it is (each of the three callers used to build
 * its own producer and user tables for that: about 60 ms of a swin_t conversion). Otherwise
 * Kahn's algorithm takes the ready node with the smallest file index (a binary heap, O(n log n);
 * a rescanning loop took minutes on 50k-node graphs, issue #15), so the order is deterministic
 * and as close to the file's as the dependencies allow.
 *
 * An input that no node produces (a graph input, an initializer, '' for an omitted optional
 * input, or a name nothing writes: validation reports those itself) does not hold a node back.
 */
import type { Graph, Node } from './model.js';

export type TopologicalOrder =
  | { order: Node[] }
  /** Some nodes can never run (they sit on or behind a cycle): `done[i]` is 0 for each of them. */
  | { cycle: true; done: Uint8Array };

export function topologicalOrder(g: Graph): TopologicalOrder {
  const nodes = g.nodes;
  if (isSorted(g)) return { order: nodes };
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const missing = new Int32Array(nodes.length); // distinct producing nodes not run yet
  const users: number[][] = Array.from({ length: nodes.length }, () => []);
  nodes.forEach((n, i) => {
    const seen = new Set<number>();
    for (const inp of n.inputs) {
      const p = inp ? producer.get(inp) : undefined;
      if (p === undefined || seen.has(p)) continue;
      seen.add(p);
      missing[i]++;
      users[p].push(i);
    }
  });
  const heap = new MinHeap();
  missing.forEach((m, i) => m === 0 && heap.push(i));
  const done = new Uint8Array(nodes.length);
  const order: Node[] = [];
  while (heap.size) {
    const i = heap.pop();
    done[i] = 1;
    order.push(nodes[i]);
    for (const u of users[i]) if (--missing[u] === 0) heap.push(u);
  }
  return order.length === nodes.length ? { order } : { cycle: true, done };
}

/** Every node reads only names written by nodes before it (or by no node at all). */
function isSorted(g: Graph): boolean {
  const writer = new Map<string, number>();
  g.nodes.forEach((n, i) => {
    for (const o of n.outputs) if (o) writer.set(o, i);
  });
  for (let i = 0; i < g.nodes.length; i++) {
    for (const inp of g.nodes[i].inputs) {
      const w = inp ? writer.get(inp) : undefined;
      if (w !== undefined && w >= i) return false;
    }
  }
  return true;
}

/** Smallest index first. */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(k: number): void {
    const a = this.a;
    a.push(k);
    for (let c = a.length - 1; c > 0;) {
      const p = (c - 1) >> 1;
      if (a[p] <= a[c]) break;
      [a[p], a[c]] = [a[c], a[p]];
      c = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      for (let p = 0; ;) {
        const l = 2 * p + 1, r = l + 1;
        let m = p;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === p) break;
        [a[p], a[m]] = [a[m], a[p]];
        p = m;
      }
    }
    return top;
  }
}
