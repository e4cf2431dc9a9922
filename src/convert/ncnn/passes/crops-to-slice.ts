/**
 * torch's `x.chunk(2, dim=1)` (ShuffleNet v2's channel split) exports as one ONNX Slice per part,
 * which fdk lowers to one Crop each, and the Split pass then copies the blob reference to every
 * Crop. When the Crops of one blob are its only readers and cut it into consecutive pieces along
 * one axis, ncnn's Slice layer does the same in one layer (one pass over the input, each piece
 * written once), as pnnx writes `chunk` / `tensor_split`. Needs the blob's dims (fixed input shape).
 */
import { int, ints, paramArray, type NcnnLayer } from '../format/param.js';
import { blobDims, blobReaders, type Pass } from './graph-util.js';

/** Crop params other than starts (9), ends (10), axes (11): a Crop that sets any of them is left alone. */
const OTHER_CROP_PARAMS = [0, 1, 13, 2, 3, 4, 14, 5, 6, 7, 15, 8];

/** [axis, start, end] of a one-axis Crop on a blob of `dims`, in bounds; undefined for any other Crop. */
function range(l: NcnnLayer, dims: number[]): [number, number, number] | undefined {
  if (OTHER_CROP_PARAMS.some((id) => l.params.has(id))) return undefined;
  const [starts, ends, axes] = [9, 10, 11].map((id) => paramArray(l.params, id));
  if (starts?.length !== 1 || ends?.length !== 1 || axes?.length !== 1) return undefined;
  const axis = axes[0] < 0 ? axes[0] + dims.length : axes[0];
  const n = dims[axis];
  if (n === undefined) return undefined;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  return [axis, clamp(starts[0]), clamp(ends[0])];
}

export const cropsToSlice: Pass = (net, { outputs }) => {
  const changes: string[] = [];
  const layers = net.layers;
  if (layers.filter((l) => l.type === 'Crop').length < 2) return { changes };
  const dims = blobDims(layers);
  if (!dims) return { changes };
  const readers = blobReaders(layers); // a layer reading a blob twice is no Crop (one input): the check below refuses it either way
  const replaced = new Map<NcnnLayer, NcnnLayer | null>(); // first Crop -> the Slice; other Crops -> null
  for (const [blob, rs] of readers) {
    const d = dims.get(blob);
    if (!d || rs.length < 2 || outputs.has(blob) || rs.some((l) => l.type !== 'Crop' || l.inputs.length !== 1 || l.outputs.length !== 1)) continue;
    const parts = rs.map((l) => ({ l, r: range(l, d) }));
    if (parts.some((p) => !p.r) || new Set(parts.map((p) => p.r![0])).size !== 1) continue;
    parts.sort((a, b) => a.r![1] - b.r![1]);
    const axis = parts[0].r![0];
    // consecutive, non-empty, from 0 to the end of the axis
    const tiles = parts.every((p, i) => p.r![2] > p.r![1] && p.r![1] === (i ? parts[i - 1].r![2] : 0)) && parts[parts.length - 1].r![2] === d[axis];
    if (!tiles) continue;
    const sizes = parts.map((p, i) => (i === parts.length - 1 ? -233 : p.r![2] - p.r![1]));
    const first = rs[0];
    replaced.set(first, {
      type: 'Slice', name: first.name, inputs: [blob], outputs: parts.map((p) => p.l.outputs[0]),
      params: new Map([[0, ints(sizes)], [1, int(axis)]]), weights: [],
    });
    for (const l of rs.slice(1)) replaced.set(l, null);
    changes.push(`${rs.map((l) => l.name).join(' + ')} -> Slice [${sizes.join(',')}] axis ${axis}`);
  }
  net.layers = layers.flatMap((l) => (replaced.has(l) ? (replaced.get(l) ? [replaced.get(l)!] : []) : [l]));
  return { changes };
};
