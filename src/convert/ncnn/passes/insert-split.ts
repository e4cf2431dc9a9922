/**
 * Split insertion: in ncnn every blob is consumed by exactly one layer, so a blob read by n > 1
 * layers gets a Split layer right after its producer with outputs BLOB_splitncnn_K. Like
 * onnx2ncnn, the first consumer (in layer order) gets the highest K.
 */
import type { NcnnLayer } from '../format/param.js';
import { blobReaders, type Pass } from './graph-util.js';

export const insertSplits: Pass = (net) => {
  const layers = net.layers;
  const inserted: string[] = [];
  const users = blobReaders(layers);
  const out: NcnnLayer[] = [];
  let nsplit = 0;
  let ninput = 0;
  for (const l of layers) {
    out.push(l);
    for (const b of l.outputs) {
      const u = users.get(b);
      if (!u || u.length < 2) continue;
      const n = u.length;
      const names = Array.from({ length: n }, (_, k) => `${b}_splitncnn_${k}`);
      const name = l.type === 'Input' ? `splitncnn_input${ninput++}` : `splitncnn_${nsplit++}`;
      out.push({ type: 'Split', name, inputs: [b], outputs: names, params: new Map(), weights: [] });
      inserted.push(name);
      // each consumer slot gets its own split output, counting down
      let k = n - 1;
      for (const c of u) {
        // u lists a layer once per input slot reading b, so each pass rewrites one slot
        const slot = c.inputs.indexOf(b);
        if (slot >= 0) c.inputs[slot] = names[k--];
      }
    }
  }
  net.layers = out;
  return { changes: inserted };
};
