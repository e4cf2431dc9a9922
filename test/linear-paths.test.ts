/**
 * Issue #15, item 9: paths over all layers must be linear (or n log n), checked without timing: an
 * injected counter counts the work at n and 4n layers. Linear work grows about 4x, quadratic 16x.
 *
 * The converter's topological order (lowerGraph in src/convert/ncnn/lower.ts) is counted through
 * each node's `inputs` array (a Proxy counting every read): the former "rescan the pending list"
 * loop read the inputs of every pending node for each node it emitted, O(n^2) on a graph stored
 * in reverse order; Kahn's algorithm with a heap reads them a fixed number of times per node.
 */
import { describe, it, expect } from 'vitest';
import { GraphBuilder } from '../src/onnx/builder.js';
import { lowerGraph } from '../src/convert/ncnn/lower.js';
import type { Model } from '../src/onnx/model.js';

/** input -> n x Relu -> out, nodes stored in reverse order when `reversed`; reads of any node's inputs are counted. */
function countedChain(n: number, reversed: boolean): { model: Model; reads: () => number } {
  const b = new GraphBuilder({ opset: 13 });
  let x = b.addInput('input', 'float32', [1, 4, 8, 8]);
  for (let i = 0; i < n; i++) x = b.op('Relu', [x], {}, `relu${i}`);
  b.addOutput(x, 'out', 'float32');
  const model = b.build();
  if (reversed) model.graph.nodes.reverse();
  let count = 0;
  for (const node of model.graph.nodes)
    node.inputs = new Proxy(node.inputs, {
      get(t, k, r) {
        count++;
        return Reflect.get(t, k, r);
      },
    });
  return { model, reads: () => count };
}

/** Reads of node inputs while lowering a chain of n nodes. */
function readsToLower(n: number, reversed: boolean): number {
  const { model, reads } = countedChain(n, reversed);
  const { ctx } = lowerGraph(model);
  expect(ctx.layers.filter((l) => l.type === 'ReLU')).toHaveLength(n); // the whole chain was lowered
  return reads();
}

describe('the converter orders nodes in linear work (no timing: reads counted)', () => {
  it('a graph stored in reverse order: 4x the nodes costs about 4x the reads, not 16x', () => {
    const small = readsToLower(300, true);
    const large = readsToLower(1200, true);
    expect(small).toBeGreaterThan(300); // every node's inputs were read
    expect(large / small).toBeLessThan(6);
  });

  it('a graph in file order: the same', () => {
    const small = readsToLower(300, false);
    const large = readsToLower(1200, false);
    expect(large / small).toBeLessThan(6);
  });
});
