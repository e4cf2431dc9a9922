/** Element-wise comparison of two float tensors: max abs / rel difference, cosine, tolerance check. */
export interface Tolerance {
  /** Pass when |a - b| <= atol + rtol * |ref| for every element (numpy.allclose rule). */
  atol: number;
  rtol: number;
}

export interface TensorDiff {
  n: number;
  maxAbs: number;
  /** max |a-b| / max(|ref|, 1e-6): relative error per element. */
  maxRel: number;
  cosine: number;
  /** Largest |ref| value: puts maxAbs in scale. */
  refMaxAbs: number;
  /** Elements outside the tolerance. */
  outside: number;
  ok: boolean;
}

export function tensorDiff(ref: ArrayLike<number>, other: ArrayLike<number>, tol: Tolerance): TensorDiff {
  // per-layer parity compares hundreds of MB: keep the hot loop on one array type (monomorphic)
  if (ref instanceof Float32Array && other instanceof Float32Array) return diffLoop(ref, other, tol);
  return diffLoop(Float64Array.from(ref), Float64Array.from(other), tol);
}

function diffLoop<T extends Float32Array | Float64Array>(ref: T, other: T, tol: Tolerance): TensorDiff {
  const n = Math.min(ref.length, other.length);
  let maxAbs = 0;
  let maxRel = 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  let refMax = 0;
  let outside = 0;
  let nonFinite = false;
  const { atol, rtol } = tol;
  for (let i = 0; i < n; i++) {
    const a = ref[i];
    const b = other[i];
    const d = Math.abs(a - b);
    // one test for the rare case: |a-b| of two finite floats is finite, so NaN or ±Infinity on
    // either side is exactly when d is not below Infinity
    if (!(d < Infinity)) {
      if (!(Object.is(a, b))) {
        nonFinite = true;
        outside++;
      }
      continue;
    }
    const aa = Math.abs(a);
    if (d > maxAbs) maxAbs = d;
    const den = aa > 1e-6 ? aa : 1e-6;
    if (d > maxRel * den) maxRel = d / den; // a multiply per element, a divide only on a new max
    if (aa > refMax) refMax = aa;
    if (d > atol + rtol * aa) outside++;
    dot += a * b;
    na += a * a;
    nb += b * b;
  }
  const cosine = na === 0 && nb === 0 ? 1 : na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
  const sizeOk = ref.length === other.length;
  return {
    n,
    maxAbs: nonFinite ? Infinity : maxAbs,
    maxRel: nonFinite ? Infinity : maxRel,
    cosine,
    refMaxAbs: refMax,
    outside: outside + (sizeOk ? 0 : Math.abs(ref.length - other.length)),
    ok: sizeOk && outside === 0,
  };
}

/** Folds per-image diffs of one output into one: worst case over images. */
export function worstOf(diffs: TensorDiff[]): TensorDiff {
  return diffs.reduce(
    (w, d) => ({
      n: w.n + d.n,
      maxAbs: Math.max(w.maxAbs, d.maxAbs),
      maxRel: Math.max(w.maxRel, d.maxRel),
      cosine: Math.min(w.cosine, d.cosine),
      refMaxAbs: Math.max(w.refMaxAbs, d.refMaxAbs),
      outside: w.outside + d.outside,
      ok: w.ok && d.ok,
    }),
    { n: 0, maxAbs: 0, maxRel: 0, cosine: 1, refMaxAbs: 0, outside: 0, ok: true } as TensorDiff,
  );
}
