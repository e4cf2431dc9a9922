/**
 * Channel shuffle (ShuffleNet's `x.view(b, g, c/g, h, w).transpose(1, 2).reshape(b, c, h, w)`)
 * lowers to Reshape (to a 4-D [g, c/g, h, w] blob) -> Permute (swap the two outer axes) ->
 * Reshape (back to [c, h, w]): three layers that each copy the map, and the 4-D blob in between
 * drops ncnn's channel packing (elempack) so the copies run one float at a time. ncnn has one
 * layer for it, ShuffleChannel (group g: output channel j*g + q is input channel q*(c/g) + j,
 * exactly the view-transpose-view above), which pnnx writes too. Only fused when the dims of the
 * three blobs are known (fixed input shape) and the intermediate blobs feed nothing else.
 */
import { int, type NcnnLayer } from '../format/param.js';
import { layerRecord, paramsOf } from '../layers/index.js';
import { blobDims, soleConsumer, type Pass } from './graph-util.js';

/** ncnn Permute order_type 6 on a 4-D blob: (w h c d), i.e. the two outer axes swapped. */
const SWAP_OUTER_4D = 6;

const same = (a: number[] | undefined, b: number[]) => !!a && a.length === b.length && a.every((x, i) => x === b[i]);

export const fuseChannelShuffle: Pass = (net, { outputs }) => {
  const changes: string[] = [];
  const layers = net.layers;
  if (!layers.some((l) => l.type === 'Permute')) return { changes };
  const dims = blobDims(layers);
  if (!dims) return { changes };
  const drop = new Set<NcnnLayer>();
  for (const view of layers) {
    if (view.type !== 'Reshape' || drop.has(view) || view.inputs.length !== 1 || view.outputs.length !== 1) continue;
    const x = dims.get(view.inputs[0]);
    const grouped = dims.get(view.outputs[0]);
    if (!x || x.length !== 3 || !grouped || grouped.length !== 4) continue;
    const [c, h, w] = x;
    const [g, cpg] = grouped;
    if (!same(grouped, [g, cpg, h, w]) || g * cpg !== c || g < 2) continue;
    const perm = soleConsumer(layers, view.outputs[0], outputs);
    if (perm?.type !== 'Permute' || paramsOf(layerRecord('Permute')!, perm.params).num('order_type') !== SWAP_OUTER_4D) continue;
    const back = soleConsumer(layers, perm.outputs[0], outputs);
    if (back?.type !== 'Reshape' || !same(dims.get(back.outputs[0]), [c, h, w])) continue;
    // the last Reshape becomes the ShuffleChannel: its output blob (and so every reader) stays
    back.type = 'ShuffleChannel';
    back.inputs = [view.inputs[0]];
    back.params = new Map([[0, int(g)], [1, int(0)]]);
    drop.add(view).add(perm);
    changes.push(`${view.name} + ${perm.name} + ${back.name} -> ShuffleChannel group ${g}`);
  }
  net.layers = layers.filter((l) => !drop.has(l));
  return { changes };
};
