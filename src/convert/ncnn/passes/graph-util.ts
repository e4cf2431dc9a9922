/** Small helpers shared by the ncnn-level passes: who consumes which blob. */
import type { NcnnLayer } from '../format/param.js';

export function consumers(layers: NcnnLayer[]): Map<string, { layer: NcnnLayer; slot: number }[]> {
  const m = new Map<string, { layer: NcnnLayer; slot: number }[]>();
  for (const l of layers)
    l.inputs.forEach((b, slot) => {
      let a = m.get(b);
      if (!a) m.set(b, (a = []));
      a.push({ layer: l, slot });
    });
  return m;
}

/** The single consumer of `blob`, when there is exactly one and the blob is not a graph output. */
export function soleConsumer(layers: NcnnLayer[], blob: string, outputs: Set<string>): NcnnLayer | undefined {
  if (outputs.has(blob)) return undefined;
  let found: NcnnLayer | undefined;
  for (const l of layers)
    for (const b of l.inputs)
      if (b === blob) {
        if (found) return undefined;
        found = l;
      }
  return found;
}
