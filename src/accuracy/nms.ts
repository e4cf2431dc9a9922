/**
 * Greedy non-maximum suppression, in the two flavours the original pipelines use, in float32.
 * Boxes are rows of a Float32Array: x1 y1 x2 y2 at `stride` floats per row.
 */
const f = Math.fround;

/** Indices sorted by descending score; ties keep the lower index first (stable). */
export function orderByScoreDesc(scores: ArrayLike<number>, idx?: ArrayLike<number>): number[] {
  const order = idx ? Array.from(idx) : Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return order;
}

/**
 * The seed's py_cpu_nms (utils/nms/py_cpu_nms.py): areas and overlaps with the "+1" pixel
 * convention, suppress when IoU > thresh, no top-k. `order` must list candidates by descending
 * score. Returns kept indices in order.
 */
export function nmsPlusOne(boxes: Float32Array, stride: number, order: number[], thresh: number): number[] {
  const n = order.length;
  const x1 = new Float32Array(n), y1 = new Float32Array(n), x2 = new Float32Array(n), y2 = new Float32Array(n), area = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const o = order[k] * stride;
    x1[k] = boxes[o];
    y1[k] = boxes[o + 1];
    x2[k] = boxes[o + 2];
    y2[k] = boxes[o + 3];
    area[k] = f(f(f(x2[k] - x1[k]) + 1) * f(f(y2[k] - y1[k]) + 1));
  }
  const alive = new Uint8Array(n).fill(1);
  const keep: number[] = [];
  const th = f(thresh);
  for (let a = 0; a < n; a++) {
    if (!alive[a]) continue;
    keep.push(order[a]);
    // box a in locals: the inner loop runs ~n²/2 times per image
    const ax1 = x1[a], ay1 = y1[a], ax2 = x2[a], ay2 = y2[a], aa = area[a];
    for (let b = a + 1; b < n; b++) {
      if (!alive[b]) continue;
      const w = Math.max(0, f(f(Math.min(ax2, x2[b]) - Math.max(ax1, x1[b])) + 1));
      if (w === 0) continue; // no overlap: IoU 0 <= thresh keeps b
      const h = Math.max(0, f(f(Math.min(ay2, y2[b]) - Math.max(ay1, y1[b])) + 1));
      const inter = f(w * h);
      const ovr = f(inter / f(f(aa + area[b]) - inter));
      if (!(ovr <= th)) alive[b] = 0; // numpy keeps `ovr <= thresh`
    }
  }
  return keep;
}

/**
 * Ultra-Light's hard_nms (vision/utils/box_utils.py): sort by score, keep the first
 * `candidateSize`, then greedily pick, dropping boxes with IoU > thresh (IoU with eps 1e-5 and no
 * +1), stopping at `topK` picks. Returns picked indices in order.
 */
export function hardNms(boxes: Float32Array, stride: number, order: number[], thresh: number, topK: number, candidateSize: number): number[] {
  const cand = candidateSize > 0 ? order.slice(0, candidateSize) : order;
  const n = cand.length;
  const area = new Float32Array(n);
  const at = (k: number, c: number) => boxes[cand[k] * stride + c];
  for (let k = 0; k < n; k++) area[k] = f(Math.max(0, f(at(k, 2) - at(k, 0))) * Math.max(0, f(at(k, 3) - at(k, 1))));
  const alive = new Uint8Array(n).fill(1);
  const picked: number[] = [];
  const eps = f(1e-5);
  const th = f(thresh);
  for (let a = 0; a < n; a++) {
    if (!alive[a]) continue;
    picked.push(cand[a]);
    if (topK > 0 && picked.length === topK) break;
    for (let b = a + 1; b < n; b++) {
      if (!alive[b]) continue;
      const w = Math.max(0, f(Math.min(at(a, 2), at(b, 2)) - Math.max(at(a, 0), at(b, 0))));
      const h = Math.max(0, f(Math.min(at(a, 3), at(b, 3)) - Math.max(at(a, 1), at(b, 1))));
      const inter = f(w * h);
      const iou = f(inter / f(f(f(area[b] + area[a]) - inter) + eps));
      if (!(iou <= th)) alive[b] = 0;
    }
  }
  return picked;
}
