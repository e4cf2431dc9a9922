/**
 * Median latency with the runtimes side by side: one row per input × threads, one column per
 * runtime, each browser lane (`ncnn-wasm@chromium`) right after its Node runtime, plus the
 * ncnn-wasm / ort-wasm ratio of every lane where both ran. `fdk bench` prints it under its table
 * and the report shows it above the full latency table, so the question "which WebAssembly engine
 * is faster, in Node and in the browser, at 1 and 2 threads" is answered on one screen.
 */

export interface LatencyCell {
  runtime: string;
  threads: number;
  /** Input label, e.g. "1x3x240x320". */
  input: string;
  /** Undefined when the case failed. */
  medianMs?: number;
}

/** The pair whose ratio is shown for every lane (the issue's question: is ncnn-wasm slower?). */
const RATIO: [string, string] = ['ncnn-wasm', 'ort-wasm'];

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** Runtimes in order of first appearance, each browser lane moved right after its Node runtime. */
function columnOrder(runtimes: string[]): string[] {
  const bases = [...new Set(runtimes.map((r) => r.split('@')[0]))];
  return bases.flatMap((b) => [b, ...[...new Set(runtimes.filter((r) => r.startsWith(`${b}@`)))]].filter((r) => runtimes.includes(r)));
}

export function sideBySide(cells: LatencyCell[]): { head: string[]; rows: string[][] } {
  const runtimes = columnOrder(cells.map((c) => c.runtime));
  const lanes = [...new Set(runtimes.map((r) => r.split('@')[1] ?? ''))].filter((lane) =>
    RATIO.every((base) => runtimes.includes(lane ? `${base}@${lane}` : base)),
  );
  const ratioHead = lanes.map((lane) => `${RATIO[0]} / ${RATIO[1]}${lane ? ` @${lane}` : ''}`);
  const keys = [...new Set(cells.map((c) => `${c.input}\u0000${c.threads}`))];
  const rows = keys.map((k) => {
    const [input, t] = k.split('\u0000');
    const at = (rt: string) => cells.find((c) => c.runtime === rt && c.input === input && String(c.threads) === t)?.medianMs;
    const ratios = lanes.map((lane) => {
      const [a, b] = RATIO.map((base) => at(lane ? `${base}@${lane}` : base));
      return a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : '—';
    });
    return [input, t, ...runtimes.map((rt) => {
      const v = at(rt);
      return v === undefined ? '—' : fmt(v);
    }), ...ratios];
  });
  return { head: ['input', 'threads', ...runtimes, ...ratioHead], rows };
}
