/**
 * Greedy non-maximum suppression, in the two flavours the original pipelines use, in float32.
 * Boxes are rows of a Float32Array: x1 y1 x2 y2 at `stride` floats per row.
 */
const f = Math.fround;

/** Indices sorted by descending score; ties keep the lower index first (stable). */
export function orderByScoreDesc(scores: ArrayLike<number>, idx?: ArrayLike<number>): number[] {
  const m = idx ? idx.length : scores.length;
  const fast = sortedByKeys(scores, idx, m);
  if (fast) return fast;
  const order = idx ? Array.from(idx) : Array.from({ length: m }, (_, i) => i);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return order;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const INDEX_BITS = 2 ** 21;

/**
 * The same order through one native numeric sort of float64 keys instead of a comparator sort:
 * for positive float32 scores the bit pattern grows with the value, so key = bits * 2^21 +
 * (2^21 - 1 - index) sorts ascending into ascending score, then descending index; read backwards
 * it is orderByScoreDesc's order. Exact below 2^53 (bits < 2^31). Null (use the comparator) when a
 * score is not a positive float32 or there are 2^21 candidates or more.
 */
function sortedByKeys(scores: ArrayLike<number>, idx: ArrayLike<number> | undefined, m: number): number[] | null {
  if (m >= INDEX_BITS) return null;
  const keys = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const i = idx ? idx[j] : j;
    if (i >= INDEX_BITS) return null;
    const v = scores[i];
    F32[0] = v;
    if (!(v > 0) || F32[0] !== v || v === Infinity) return null;
    keys[j] = U32[0] * INDEX_BITS + (INDEX_BITS - 1 - i);
  }
  keys.sort();
  const order = new Array<number>(m);
  for (let j = 0; j < m; j++) order[j] = INDEX_BITS - 1 - (keys[m - 1 - j] % INDEX_BITS);
  return order;
}

/**
 * The seed's py_cpu_nms (utils/nms/py_cpu_nms.py): areas and overlaps with the "+1" pixel
 * convention, suppress when IoU > thresh, no top-k. `order` must list candidates by descending
 * score. Returns kept indices in order.
 *
 * Only overlapping pairs can suppress, so each kept box is compared with the candidates that share
 * a cell of a coarse grid with it (`overlapGrid`) instead of with every later candidate: the same
 * float32 IoU on the same pairs, hence the same result, without the n²/2 loop (n is ~700 per WIDER
 * image at score > 0.02, and that loop was the largest cost after the model).
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
  // b overlaps a: the "+1" widths are positive (the pair of py_cpu_nms whose IoU can exceed thresh)
  const suppress = (a: number, b: number) => {
    const w = Math.max(0, f(f(Math.min(x2[a], x2[b]) - Math.max(x1[a], x1[b])) + 1));
    if (w === 0) return; // no overlap: IoU 0 <= thresh keeps b
    const h = Math.max(0, f(f(Math.min(y2[a], y2[b]) - Math.max(y1[a], y1[b])) + 1));
    const inter = f(w * h);
    const ovr = f(inter / f(f(area[a] + area[b]) - inter));
    if (!(ovr <= th)) alive[b] = 0; // numpy keeps `ovr <= thresh`
  };
  // margin 1 on each side: boxes whose "+1" widths are positive have intersecting padded extents
  const grid = overlapGrid(x1, y1, x2, y2, 1);
  if (!grid) {
    // non-finite coordinates: every pair, as numpy compares them (NaN suppresses)
    for (let a = 0; a < n; a++) {
      if (!alive[a]) continue;
      keep.push(order[a]);
      for (let b = a + 1; b < n; b++) if (alive[b]) suppress(a, b);
    }
    return keep;
  }
  const seen = new Int32Array(n).fill(-1);
  for (let a = 0; a < n; a++) {
    if (!alive[a]) continue;
    keep.push(order[a]);
    grid.forEachNear(a, (b) => {
      // later candidates only, each once even when it shares several cells with a
      if (b > a && seen[b] !== a) {
        seen[b] = a;
        if (alive[b]) suppress(a, b);
      }
    });
  }
  return keep;
}

/**
 * A uniform grid over the boxes' extents padded by `margin`, each box listed in every cell its
 * padded extent touches: two boxes whose padded extents intersect share at least one cell (a
 * common point lies in one). Null when a coordinate is not finite (the caller compares all pairs).
 */
function overlapGrid(x1: Float32Array, y1: Float32Array, x2: Float32Array, y2: Float32Array, margin: number) {
  const n = x1.length;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity, sumSide = 0;
  for (let k = 0; k < n; k++) {
    if (!(Number.isFinite(x1[k]) && Number.isFinite(y1[k]) && Number.isFinite(x2[k]) && Number.isFinite(y2[k]))) return null;
    minX = Math.min(minX, x1[k] - margin);
    minY = Math.min(minY, y1[k] - margin);
    maxX = Math.max(maxX, x2[k] + margin);
    maxY = Math.max(maxY, y2[k] + margin);
    sumSide += Math.max(x2[k] - x1[k], y2[k] - y1[k], 0);
  }
  // cells about the mean box side: most boxes touch 1-4 cells; at most ~4n cells
  let cell = Math.max(1, sumSide / Math.max(1, n));
  const area = Math.max(maxX - minX, 1) * Math.max(maxY - minY, 1);
  if (area / (cell * cell) > 4 * n + 16) cell = Math.sqrt(area / (4 * n + 16));
  const cols = Math.max(1, Math.floor((maxX - minX) / cell) + 1);
  const rows = Math.max(1, Math.floor((maxY - minY) / cell) + 1);
  const col = (x: number) => Math.min(cols - 1, Math.max(0, Math.floor((x - minX) / cell)));
  const row = (y: number) => Math.min(rows - 1, Math.max(0, Math.floor((y - minY) / cell)));
  const span = new Int32Array(4 * n); // c0 r0 c1 r1 per box
  const count = new Int32Array(cols * rows + 1);
  for (let k = 0; k < n; k++) {
    const c0 = col(x1[k] - margin), r0 = row(y1[k] - margin), c1 = col(x2[k] + margin), r1 = row(y2[k] + margin);
    span[4 * k] = c0; span[4 * k + 1] = r0; span[4 * k + 2] = c1; span[4 * k + 3] = r1;
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) count[r * cols + c + 1]++;
  }
  for (let i = 1; i <= cols * rows; i++) count[i] += count[i - 1];
  const members = new Int32Array(count[cols * rows]);
  const fill = count.slice(0, cols * rows);
  for (let k = 0; k < n; k++) {
    for (let r = span[4 * k + 1]; r <= span[4 * k + 3]; r++) for (let c = span[4 * k]; c <= span[4 * k + 2]; c++) members[fill[r * cols + c]++] = k;
  }
  return {
    /** Calls `visit` with every box sharing a cell with box `a` (possibly more than once, a included). */
    forEachNear(a: number, visit: (b: number) => void): void {
      for (let r = span[4 * a + 1]; r <= span[4 * a + 3]; r++)
        for (let c = span[4 * a]; c <= span[4 * a + 2]; c++)
          for (let i = count[r * cols + c], e = count[r * cols + c + 1]; i < e; i++) visit(members[i]);
    },
  };
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
