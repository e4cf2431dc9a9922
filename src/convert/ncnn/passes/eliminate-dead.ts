/** Removes layers none of whose outputs reach a graph output (left over from folded glue). */
import type { NcnnLayer } from '../format/param.js';

export function eliminateDead(layers: NcnnLayer[], outputs: Set<string>): { layers: NcnnLayer[]; removed: string[] } {
  const live = new Set(outputs);
  const keep = new Set<NcnnLayer>();
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i];
    if (l.type === 'Input' || l.outputs.some((o) => live.has(o))) {
      keep.add(l);
      for (const b of l.inputs) live.add(b);
    }
  }
  return { layers: layers.filter((l) => keep.has(l)), removed: layers.filter((l) => !keep.has(l)).map((l) => l.name) };
}
