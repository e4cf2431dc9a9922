/**
 * Reshapes that leave a blob as it was. A Reshape whose output dims equal its input's, and a pair
 * of Reshapes (the first read only by the second) whose end dims equal the start's, are dropped:
 * their readers read the start blob. CRNN's `lstm_out.view(T, b, 2, h)` + `.view(T, b, 2h)` around
 * each bidirectional LSTM is such a pair (pnnx removes it too); in ncnn each Reshape into a 3-D
 * Mat copies the data to realign the channels.
 *
 * Needs every blob's static dims (a model with fixed input dims); a graph output keeps its layer
 * (its name must stay), and a Reshape with a shape expression (6=) or a second input is left alone.
 */
import type { NcnnLayer } from '../format/param.js';
import { blobDims, rewireReaders, soleConsumer, type Pass } from './graph-util.js';

const plain = (l: NcnnLayer | undefined): l is NcnnLayer =>
  !!l && l.type === 'Reshape' && l.inputs.length === 1 && l.outputs.length === 1 && !l.params.has(6) && !(l.params.get(3)?.value ?? 0);

const sameDims = (a: number[] | undefined, b: number[] | undefined) => !!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]);

export const eliminateNoopReshapes: Pass = (net, { outputs }) => {
  const changes: string[] = [];
  const dims = blobDims(net.layers);
  if (!dims) return { changes };
  const drop = new Set<NcnnLayer>();
  for (const l of net.layers) {
    if (!plain(l) || drop.has(l)) continue;
    const start = l.inputs[0];
    if (!outputs.has(l.outputs[0]) && sameDims(dims.get(l.outputs[0]), dims.get(start))) {
      rewireReaders(net.layers, l.outputs[0], start);
      drop.add(l);
      changes.push(l.name);
      continue;
    }
    const next = soleConsumer(net.layers, l.outputs[0], outputs);
    if (plain(next) && !outputs.has(next.outputs[0]) && sameDims(dims.get(next.outputs[0]), dims.get(start))) {
      rewireReaders(net.layers, next.outputs[0], start);
      drop.add(l).add(next);
      changes.push(`${l.name} + ${next.name}`);
    }
  }
  net.layers = net.layers.filter((l) => !drop.has(l));
  return { changes };
};
