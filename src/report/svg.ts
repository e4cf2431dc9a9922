/**
 * Tiny inline-SVG chart builders for the self-contained HTML report (no CDN, no scripts).
 * Each returns one `<svg class="plot">` string with explicit width/height and a viewBox, so it has a
 * non-zero size wherever it is embedded.
 */

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const n2 = (v: number) => (Math.round(v * 100) / 100).toString();

export interface Series {
  name: string;
  x: number[];
  y: number[];
}

/** Line chart on [0,1]×[0,1] axes (PR curves: recall on x, precision on y). */
export function lineChart(title: string, series: Series[], opts: { width?: number; height?: number; xLabel?: string; yLabel?: string } = {}): string {
  const W = opts.width ?? 360;
  const H = opts.height ?? 280;
  const m = { l: 42, r: 10, t: 24, b: 36 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const sx = (x: number) => m.l + Math.max(0, Math.min(1, x)) * pw;
  const sy = (y: number) => m.t + (1 - Math.max(0, Math.min(1, y))) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" class="title">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = i / 5;
    parts.push(`<line x1="${sx(0)}" y1="${n2(sy(v))}" x2="${sx(1)}" y2="${n2(sy(v))}" class="grid"/>`);
    parts.push(`<text x="${m.l - 4}" y="${n2(sy(v) + 4)}" text-anchor="end" class="tick">${v.toFixed(1)}</text>`);
    parts.push(`<text x="${n2(sx(v))}" y="${m.t + ph + 14}" text-anchor="middle" class="tick">${v.toFixed(1)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" class="frame"/>`);
  if (opts.xLabel) parts.push(`<text x="${m.l + pw / 2}" y="${H - 4}" text-anchor="middle" class="axis">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) parts.push(`<text x="12" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 12 ${m.t + ph / 2})" class="axis">${esc(opts.yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.x.map((x, k) => `${n2(sx(x))},${n2(sy(s.y[k]))}`).join(' ');
    const color = PALETTE[i % PALETTE.length];
    parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="1.5" class="series"><title>${esc(s.name)}</title></polyline>`);
    // Legend bottom-left: PR curves start top-left and end bottom-right, so that corner is free.
    const ly = m.t + ph - 6 - (series.length - 1 - i) * 13;
    parts.push(`<rect x="${m.l + 6}" y="${ly - 5}" width="10" height="3" fill="${color}"/>`);
    parts.push(`<text x="${m.l + 20}" y="${ly}" class="legend">${esc(s.name)}</text>`);
  });
  return svg(W, H, title, parts);
}

export interface BarGroup {
  label: string;
  /** `lo`/`hi`: an optional spread drawn as a whisker over the bar (e.g. p10–p90 latency). */
  values: { name: string; value: number; lo?: number; hi?: number }[];
}

/**
 * Vertical grouped bar chart on a log10 axis (latency per runtime for each shape × threads config:
 * runtimes differ by 10-100×, a linear axis would flatten the fast ones). Group labels may hold a
 * line break ("\n") for a second line.
 */
export function groupedBarChart(title: string, groups: BarGroup[], opts: { unit?: string; width?: number; height?: number } = {}): string {
  const names = [...new Set(groups.flatMap((g) => g.values.map((v) => v.name)))];
  const H = opts.height ?? 280;
  const m = { l: 50, r: 10, t: 24, b: 50 };
  const barW = 14;
  const gap = 24;
  const groupW = Math.max(1, names.length) * barW + gap;
  const W = Math.max(opts.width ?? 360, m.l + m.r + groups.length * groupW + 90);
  const pw = W - m.l - m.r - 90;
  const ph = H - m.t - m.b;
  const vals = groups.flatMap((g) => g.values.map((v) => v.value)).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...vals, 1)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...vals, 1))));
  const sy = (v: number) => m.t + ph - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * ph;
  const parts: string[] = [`<text x="${W / 2}" y="16" text-anchor="middle" class="title">${esc(title)}</text>`];
  for (let e = lo; e <= hi; e++) {
    const v = 10 ** e;
    parts.push(`<line x1="${m.l}" y1="${n2(sy(v))}" x2="${m.l + pw}" y2="${n2(sy(v))}" class="grid"/>`);
    parts.push(`<text x="${m.l - 4}" y="${n2(sy(v) + 4)}" text-anchor="end" class="tick">${fmtTick(v)}</text>`);
  }
  if (opts.unit) parts.push(`<text x="12" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 12 ${m.t + ph / 2})" class="axis">${esc(`${opts.unit} (log scale)`)}</text>`);
  groups.forEach((g, gi) => {
    const x0 = m.l + gap / 2 + gi * groupW;
    g.values.forEach((v) => {
      const ci = names.indexOf(v.name);
      const y = sy(v.value);
      const h = Math.max(1, m.t + ph - y);
      const spread = v.lo !== undefined && v.hi !== undefined ? ` (${fmtTick(v.lo)}–${fmtTick(v.hi)})` : '';
      parts.push(`<rect x="${n2(x0 + ci * barW)}" y="${n2(m.t + ph - h)}" width="${barW - 2}" height="${n2(h)}" fill="${PALETTE[ci % PALETTE.length]}" class="bar"><title>${esc(`${g.label.replace('\n', ' ')} ${v.name}: ${fmtTick(v.value)}${spread}${opts.unit ? ' ' + opts.unit : ''}`)}</title></rect>`);
      if (v.lo !== undefined && v.hi !== undefined && v.hi > 0) {
        const cx = n2(x0 + ci * barW + (barW - 2) / 2);
        const [ylo, yhi] = [n2(sy(Math.max(v.lo, 10 ** lo))), n2(sy(v.hi))];
        parts.push(`<path d="M${cx} ${ylo}V${yhi}M${n2(x0 + ci * barW + 2)} ${yhi}H${n2(x0 + ci * barW + barW - 4)}M${n2(x0 + ci * barW + 2)} ${ylo}H${n2(x0 + ci * barW + barW - 4)}" stroke="#222" stroke-width="1" fill="none" class="whisker"/>`);
      }
    });
    const cx = n2(x0 + (names.length * barW) / 2);
    g.label.split('\n').forEach((line, li) =>
      parts.push(`<text x="${cx}" y="${m.t + ph + 14 + li * 12}" text-anchor="middle" class="tick">${esc(line)}</text>`));
  });
  parts.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" class="frame"/>`);
  names.forEach((nm, i) => {
    const ly = m.t + 8 + i * 14;
    parts.push(`<rect x="${W - 85}" y="${ly - 8}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`);
    parts.push(`<text x="${W - 71}" y="${ly + 1}" class="legend">${esc(nm)}</text>`);
  });
  return svg(W, H, title, parts);
}

export interface ScatterPoint {
  x: number;
  y: number;
  /** Colour group (e.g. runtime), shown in the legend. */
  group: string;
  /** Short text next to the point (e.g. model@size); '' for none. */
  label: string;
  /** Tooltip name when it differs from the label. */
  tip?: string;
}

/**
 * Scatter with a log10 x axis and a linear y axis (hard AP against median latency: runtimes and
 * models spread over two decades of latency). One colour per group, each point labelled.
 */
export function scatterChart(title: string, points: ScatterPoint[], opts: { xLabel?: string; yLabel?: string; width?: number; height?: number } = {}): string {
  const W = opts.width ?? 720;
  const H = opts.height ?? 420;
  const m = { l: 50, r: 120, t: 24, b: 40 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const xs = points.map((p) => p.x).filter((x) => x > 0);
  const lo = Math.floor(Math.log10(Math.min(...xs, 1)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...xs, 1))));
  const ys = points.map((p) => p.y);
  const y0 = Math.max(0, Math.floor(Math.min(...ys, 1) * 10) / 10 - 0.05);
  const y1 = Math.min(1, Math.ceil(Math.max(...ys, 0) * 10) / 10 + 0.05);
  const sx = (x: number) => m.l + ((Math.log10(Math.max(x, 10 ** lo)) - lo) / (hi - lo)) * pw;
  const sy = (y: number) => m.t + (1 - (y - y0) / Math.max(1e-9, y1 - y0)) * ph;
  const groups = [...new Set(points.map((p) => p.group))];
  const parts: string[] = [`<text x="${(m.l + pw / 2).toFixed(0)}" y="16" text-anchor="middle" class="title">${esc(title)}</text>`];
  for (let e = lo; e <= hi; e++) {
    for (const k of [1, 2, 5]) {
      const v = k * 10 ** e;
      if (v > 10 ** hi) break;
      parts.push(`<line x1="${n2(sx(v))}" y1="${m.t}" x2="${n2(sx(v))}" y2="${m.t + ph}" class="grid"/>`);
      parts.push(`<text x="${n2(sx(v))}" y="${m.t + ph + 14}" text-anchor="middle" class="tick">${fmtTick(v)}</text>`);
    }
  }
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    parts.push(`<line x1="${m.l}" y1="${n2(sy(v))}" x2="${m.l + pw}" y2="${n2(sy(v))}" class="grid"/>`);
    parts.push(`<text x="${m.l - 4}" y="${n2(sy(v) + 4)}" text-anchor="end" class="tick">${v.toFixed(2)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" class="frame"/>`);
  if (opts.xLabel) parts.push(`<text x="${m.l + pw / 2}" y="${H - 6}" text-anchor="middle" class="axis">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) parts.push(`<text x="12" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 12 ${m.t + ph / 2})" class="axis">${esc(opts.yLabel)}</text>`);
  for (const p of points) {
    const c = PALETTE[groups.indexOf(p.group) % PALETTE.length];
    const [x, y] = [n2(sx(p.x)), n2(sy(p.y))];
    parts.push(`<circle cx="${x}" cy="${y}" r="4" fill="${c}" class="point"><title>${esc(`${p.tip ?? p.label} ${p.group}: ${fmtTick(p.x)} ms, AP ${p.y.toFixed(4)}`)}</title></circle>`);
    if (p.label) parts.push(`<text x="${n2(sx(p.x) + 6)}" y="${n2(sy(p.y) + 3)}" class="legend">${esc(p.label)}</text>`);
  }
  groups.forEach((g, i) => {
    const ly = m.t + 8 + i * 14;
    parts.push(`<circle cx="${W - m.r + 16}" cy="${ly - 3}" r="4" fill="${PALETTE[i % PALETTE.length]}"/>`);
    parts.push(`<text x="${W - m.r + 26}" y="${ly + 1}" class="legend">${esc(g)}</text>`);
  });
  return svg(W, H, title, parts);
}

/** Horizontal bar chart (MACs per op type), largest first. */
export function hBarChart(title: string, bars: { label: string; value: number }[], opts: { unit?: string; width?: number } = {}): string {
  const W = opts.width ?? 420;
  const rowH = 18;
  const m = { l: 130, r: 100, t: 26, b: 8 };
  const H = m.t + m.b + Math.max(1, bars.length) * rowH;
  const pw = W - m.l - m.r;
  const total = bars.reduce((s, b) => s + b.value, 0);
  const max = Math.max(1e-12, ...bars.map((b) => b.value));
  const parts: string[] = [`<text x="${W / 2}" y="16" text-anchor="middle" class="title">${esc(title)}</text>`];
  bars.forEach((b, i) => {
    const y = m.t + i * rowH;
    const w = Math.max(1, (b.value / max) * pw);
    parts.push(`<text x="${m.l - 6}" y="${y + 12}" text-anchor="end" class="tick">${esc(b.label)}</text>`);
    parts.push(`<rect x="${m.l}" y="${y + 2}" width="${n2(w)}" height="${rowH - 5}" fill="${PALETTE[0]}" class="bar"><title>${esc(`${b.label}: ${b.value.toLocaleString('en-US')}${opts.unit ? ' ' + opts.unit : ''}`)}</title></rect>`);
    const share = total > 0 ? ` (${((100 * b.value) / total).toFixed(1)}%)` : '';
    parts.push(`<text x="${n2(m.l + w + 4)}" y="${y + 12}" class="tick">${esc(fmtTick(b.value) + share)}</text>`);
  });
  return svg(W, H, title, parts);
}

function svg(W: number, H: number, title: string, parts: string[]): string {
  return `<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg>`;
}

function fmtTick(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return String(Number(v.toPrecision(2)));
}
