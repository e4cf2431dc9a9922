/** Latency statistics of one benchmark case (ms). Percentiles use linear interpolation between ranks. */
export interface LatencyStats {
  n: number;
  min: number;
  /** 10th percentile: with p90, the spread the report draws around the median. */
  p10: number;
  median: number;
  p90: number;
  p99: number;
  mean: number;
  stddev: number;
  max: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const r = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (r - lo);
}

/** Median of unsorted values (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function latencyStats(samples: number[]): LatencyStats {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  // sample standard deviation (n-1): the runs are a sample of the machine's behaviour
  const variance = n > 1 ? s.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return {
    n,
    min: s[0] ?? NaN,
    p10: percentile(s, 10),
    median: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    mean,
    stddev: Math.sqrt(variance),
    max: s[n - 1] ?? NaN,
  };
}
