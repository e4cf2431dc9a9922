/**
 * A Concat of one input (DenseNet's `torch.cat([x], 1)` at the start of every dense block) is the
 * input itself; as a layer, ncnn copies the whole map into a new blob. Its readers read the input
 * instead (pnnx drops it too). Kept when its output is a graph output, whose name must stay.
 */
import type { NcnnLayer } from '../format/param.js';
import { rewireReaders, type Pass } from './graph-util.js';

export const eliminateSingleConcat: Pass = (net, { outputs }) => {
  const changes: string[] = [];
  const drop = new Set<NcnnLayer>();
  for (const l of net.layers) {
    if (l.type !== 'Concat' || l.inputs.length !== 1 || l.outputs.length !== 1 || outputs.has(l.outputs[0])) continue;
    const [from, to] = [l.outputs[0], l.inputs[0]];
    rewireReaders(net.layers, from, to);
    drop.add(l);
    changes.push(l.name);
  }
  net.layers = net.layers.filter((l) => !drop.has(l));
  return { changes };
};
