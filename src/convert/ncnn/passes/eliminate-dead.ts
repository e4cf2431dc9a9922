/** Removes layers none of whose outputs reach a graph output (left over from folded glue). */
import type { NcnnLayer } from '../format/param.js';
import type { Pass } from './graph-util.js';

export const eliminateDead: Pass = (net, { outputs }) => {
  const layers = net.layers;
  const live = new Set(outputs);
  const keep = new Set<NcnnLayer>();
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i];
    if (l.type === 'Input' || l.outputs.some((o) => live.has(o))) {
      keep.add(l);
      for (const b of l.inputs) live.add(b);
    }
  }
  net.layers = layers.filter((l) => keep.has(l));
  return { changes: layers.filter((l) => !keep.has(l)).map((l) => l.name) };
};
