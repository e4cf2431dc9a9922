/**
 * Terminal tables and text that fit the terminal: every command's default output stays within
 * 120 columns (or the terminal's width, `COLUMNS`, on a TTY) unless `--wide` is given. Columns
 * shrink from the widest down; a shrunk cell is cut in the middle with an ellipsis (names keep
 * their distinctive start and end) or wrapped onto more lines (free text), as its column says.
 *
 * One pass over the cells (linear): analyze prints 50k-layer models through this (perf/analyze.mjs).
 */
import { colourWanted } from './output.js';

/** How a column gives up width: cut in the middle, wrap onto more lines, or never (numbers). */
export type Overflow = 'truncate' | 'wrap' | 'keep';
export interface Column {
  align?: 'left' | 'right';
  /** default: 'keep' for right-aligned columns (numbers), 'truncate' otherwise */
  overflow?: Overflow;
}

export const DEFAULT_WIDTH = 120;

/**
 * Width budget of stdout: unlimited with `--wide` (FDK_WIDE=1), the terminal's (or `COLUMNS`) on
 * a TTY, else 120 so piped output and logs stay readable.
 */
export function outputWidth(): number {
  if (process.env.FDK_WIDE === '1') return Infinity;
  if (process.stdout.isTTY) {
    const env = Number(process.env.COLUMNS);
    if (Number.isInteger(env) && env > 20) return env;
    if (process.stdout.columns > 20) return process.stdout.columns;
  }
  return DEFAULT_WIDTH;
}

const ELLIPSIS = '…';

/** `a_very_long_layer_name` -> `a_very…r_name`: the middle goes, both ends stay. */
export function truncateMiddle(s: string, width: number): string {
  if (s.length <= width) return s;
  if (width <= 1) return ELLIPSIS.slice(0, width);
  const keep = width - 1;
  const head = Math.ceil(keep / 2);
  return s.slice(0, head) + ELLIPSIS + s.slice(s.length - (keep - head));
}

/** Greedy word wrap to `width`; words longer than the width are broken. */
export function wrapText(s: string, width: number): string[] {
  if (s.length <= width) return [s];
  const lines: string[] = [];
  let cur = '';
  for (let word of s.split(' ')) {
    while (word.length > width) {
      if (cur) {
        lines.push(cur);
        cur = '';
      }
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (!cur) cur = word;
    else if (cur.length + 1 + word.length <= width) cur += ' ' + word;
    else {
      lines.push(cur);
      cur = word;
    }
  }
  if (cur || !lines.length) lines.push(cur);
  return lines;
}

/** Columns a line takes on the terminal: colour escapes take none. */
// eslint-disable-next-line no-control-regex -- an escape sequence is what is matched
const visibleLength = (line: string) => line.replace(/\x1b\[[0-9;]*m/g, '').length;

/** Every line of `text` longer than the budget, wrapped with a two-space continuation indent. */
export function fitLines(text: string, width = outputWidth()): string {
  if (!Number.isFinite(width)) return text;
  return text
    .split('\n')
    .map((line) => {
      if (visibleLength(line) <= width) return line;
      const [first, ...rest] = wrapText(line, width);
      return [first, ...rest.flatMap((r) => wrapText(r, width - 2)).map((r) => '  ' + r)].join('\n');
    })
    .join('\n');
}

/** Prints command output to stdout, long lines wrapped to the width (see outputWidth). */
export function printFitted(text: string): void {
  process.stdout.write(fitLines(text) + '\n');
}

const longestWord = (s: string) => s.split(' ').reduce((m, w) => Math.max(m, w.length), 0);

/**
 * A boxed table that fits `width` (default: outputWidth()). `head` undefined draws no header (a
 * key/value table). A row with fewer cells than columns has its last cell span the remaining
 * columns, wrapped (error messages in a table of numbers). Cells must already be escaped.
 */
export function fitTable(head: string[] | undefined, rows: string[][], columns: Column[] = [], width = outputWidth()): string {
  const n = head?.length ?? rows.reduce((m, r) => Math.max(m, r.length), 0);
  const col = (c: number): Required<Column> => {
    const align = columns[c]?.align ?? 'left';
    return { align, overflow: columns[c]?.overflow ?? (align === 'right' ? 'keep' : 'truncate') };
  };
  const natural = new Array<number>(n).fill(0);
  const dataMax = new Array<number>(n).fill(0);
  for (const row of rows) {
    const full = row.length === n ? n : row.length - 1; // a spanning last cell sets no column width
    for (let c = 0; c < full; c++) if (row[c].length > dataMax[c]) dataMax[c] = row[c].length;
  }
  const headWord = (c: number) => (head ? longestWord(head[c]) : 0);
  const min: number[] = [];
  for (let c = 0; c < n; c++) {
    natural[c] = Math.max(dataMax[c], head ? head[c].length : 0, 1);
    const o = col(c).overflow;
    // headers wrap at spaces; data shrinks to a readable minimum unless it must be kept whole
    const floor = o === 'keep' ? dataMax[c] : Math.min(dataMax[c], o === 'wrap' ? 12 : 9);
    min[c] = Math.max(floor, headWord(c), 1);
  }
  const widths = [...natural];
  const total = () => widths.reduce((a, b) => a + b, 0) + 3 * n + 1;
  let over = total() - width;
  while (over > 0) {
    let pick = -1;
    for (let c = 0; c < n; c++) if (widths[c] > min[c] && (pick < 0 || widths[c] > widths[pick])) pick = c;
    if (pick < 0) break; // as narrow as it gets: wider than the budget rather than unreadable
    widths[pick]--;
    over--;
  }

  const colour = colourWanted();
  const grey = (s: string) => (colour ? `\x1b[90m${s}\x1b[39m` : s);
  const red = (s: string) => (colour ? `\x1b[31m${s}\x1b[39m` : s);
  const bar = grey('│');
  const rule = (l: string, m: string, r: string) => grey(l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r);
  const pad = (s: string, w: number, align: 'left' | 'right') => (align === 'right' ? s.padStart(w) : s.padEnd(w));

  /** One table row as one or more lines: each cell cut or wrapped to its width. */
  const render = (cells: string[], paint: (s: string) => string, isHead: boolean): string[] => {
    const spanFrom = cells.length < n ? cells.length - 1 : n;
    const parts: { w: number; lines: string[]; align: 'left' | 'right' }[] = [];
    for (let c = 0; c < Math.min(spanFrom, n); c++) {
      const { align, overflow } = col(c);
      const w = widths[c];
      const lines = isHead || overflow === 'wrap' ? wrapText(cells[c], w) : [overflow === 'keep' ? cells[c] : truncateMiddle(cells[c], w)];
      parts.push({ w, lines, align });
    }
    if (spanFrom < n) {
      const w = widths.slice(spanFrom).reduce((a, b) => a + b, 0) + 3 * (n - spanFrom - 1);
      parts.push({ w, lines: wrapText(cells[spanFrom], w), align: 'left' });
    }
    const height = Math.max(...parts.map((p) => p.lines.length));
    const out: string[] = [];
    for (let i = 0; i < height; i++) out.push(bar + parts.map((p) => ' ' + paint(pad(p.lines[i] ?? '', p.w, p.align)) + ' ').join(bar) + bar);
    return out;
  };

  const out = [rule('┌', '┬', '┐')];
  if (head) out.push(...render(head, red, true), rule('├', '┼', '┤'));
  for (const row of rows) out.push(...render(row, (s) => s, false));
  out.push(rule('└', '┴', '┘'));
  return out.join('\n');
}
