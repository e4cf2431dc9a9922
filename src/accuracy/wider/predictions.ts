/**
 * WIDER prediction folders: `<event>/<name>.txt`, line 1 the image name, line 2 the box count,
 * then one `x y w h score` line per box (extra columns ignored, as the Python evaluator does).
 * The same reader takes Ultra-Light's `floor(x1) floor(y1) ceil(w) ceil(h) %.3f` output.
 */
import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { FdkError } from '../../util/errors.js';
import { fsError } from '../../util/fs.js';

/** Boxes of one image: flat x, y, w, h, score rows (n × 5), float64 like the evaluator. */
export type PredBoxes = Float64Array;

/** What callers may pass in memory: a flat n×5 typed array or number array, or an array of 5-tuples. */
export type PredInput = Float32Array | Float64Array | ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/**
 * Length of the decimal number (sign, digits, one '.', optional exponent) starting at `i`, or -1.
 * Validates the token by hand: a regex and split per line made parsing 3x slower on full val.
 */
let plainInt = NaN;
function numberEnd(text: string, i: number, end: number): number {
  let c = text.charCodeAt(i);
  let neg = false;
  if (c === 43 || c === 45) { neg = c === 45; c = text.charCodeAt(++i); } // + -
  let digits = 0;
  let v = 0;
  while (i < end && c >= 48 && c <= 57) { digits++; v = v * 10 + (c - 48); c = text.charCodeAt(++i); }
  // Plain integers (most coordinates) are exact when accumulated digit by digit: no substring needed.
  plainInt = i === end && digits > 0 && digits <= 15 ? (neg ? -v : v) : NaN;
  if (c === 46 && i < end) { // .
    c = text.charCodeAt(++i);
    while (i < end && c >= 48 && c <= 57) { digits++; c = text.charCodeAt(++i); }
  }
  if (digits === 0) return -1;
  if ((c === 101 || c === 69) && i < end) { // e E
    c = text.charCodeAt(++i);
    if (c === 43 || c === 45) c = text.charCodeAt(++i);
    let exp = 0;
    while (i < end && c >= 48 && c <= 57) { exp++; c = text.charCodeAt(++i); }
    if (exp === 0) return -1;
  }
  return i;
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 13 || c === 11 || c === 12;

/** Parses one prediction file's text; errors name the file and the 1-based line. */
export function parsePredictionText(text: string, file: string): PredBoxes {
  const len = text.length;
  // Line 1: image name (not used: the file name is the key). Line 2: the box count.
  let nl = text.indexOf('\n');
  if (len === 0 || (nl < 0 && text.trim() === '')) throw new FdkError('empty prediction file (expected image name, box count, boxes)', { file });
  if (nl < 0 || nl + 1 >= len) throw new FdkError('line 2: missing box count', { file });
  let pos = nl + 1;
  nl = text.indexOf('\n', pos);
  const lineEnd = nl < 0 ? len : nl;
  const countText = text.slice(pos, lineEnd).trim();
  if (!/^\d+$/.test(countText)) throw new FdkError(`line 2: box count '${countText.slice(0, 40)}' is not a non-negative integer`, { file });
  const count = Number(countText);
  // Each box line is at least 'x y w h s' (9 characters and a newline): a larger count is a lie
  // that would allocate gigabytes before the first line is read.
  if (count > (len - pos) / 10 + 1) throw new FdkError(`line 2: box count ${count} is more than the file's ${len} bytes can hold`, { file });
  const out = new Float64Array(count * 5);
  let n = 0;
  let lineNo = 2;
  pos = lineEnd + 1;
  while (pos < len) {
    lineNo++;
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = len;
    let i = pos;
    const fieldsAt = n * 5;
    let f = 0;
    while (i < eol) {
      while (i < eol && isSpace(text.charCodeAt(i))) i++;
      if (i >= eol) break;
      let j = i;
      while (j < eol && !isSpace(text.charCodeAt(j))) j++;
      if (f < 5) {
        if (numberEnd(text, i, j) !== j) throw new FdkError(`line ${lineNo}: '${text.slice(i, Math.min(j, i + 40))}' is not a number`, { file });
        if (f === 0 && n >= count) throw new FdkError(`line ${lineNo}: more box lines than the count ${count} on line 2`, { file });
        out[fieldsAt + f] = Number.isNaN(plainInt) ? Number(text.slice(i, j)) : plainInt;
      }
      f++;
      i = j;
    }
    if (f > 0 && f < 5)
      throw new FdkError(`line ${lineNo}: expected 'x y w h score', got '${text.slice(pos, eol).trim().slice(0, 60)}'`, { file });
    if (f >= 5) n++; // blank lines are skipped, like the evaluator
    pos = eol + 1;
  }
  if (n !== count) throw new FdkError(`line 2 says ${count} boxes but the file has ${n} (truncated?)`, { file });
  checkBoxes(out, file, (i) => `box ${i + 1} (line ${i + 3 + blankLinesBefore(text, i)})`);
  return out;
}

/** Blank lines are allowed between boxes; only for the line number in a message. */
function blankLinesBefore(text: string, box: number): number {
  const lines = text.split('\n').slice(2);
  let seen = 0;
  for (let k = 0; k < lines.length; k++) {
    if (lines[k].trim() === '') continue;
    if (seen++ === box) return k - box;
  }
  return 0;
}

/**
 * Values the evaluator cannot give a meaningful answer for: a non-finite coordinate or score
 * (1e309 reads as Infinity and NaN poisons the min-max normalisation) and negative widths or
 * heights (an inverted box). Refused with the file and the box, not silently evaluated.
 */
export function checkBoxes(b: PredBoxes, file: string, where: (i: number) => string = (i) => `box ${i + 1}`): void {
  for (let i = 0; i * 5 < b.length; i++) {
    const o = i * 5;
    for (let c = 0; c < 5; c++) if (!Number.isFinite(b[o + c])) throw new FdkError(`${where(i)}: ${['x', 'y', 'w', 'h', 'score'][c]} is ${b[o + c]}, not a finite number`, { file });
    if (b[o + 2] < 0 || b[o + 3] < 0) throw new FdkError(`${where(i)}: negative box size ${b[o + 2]} x ${b[o + 3]}`, { file });
  }
}

export function readPredictionFile(path: string): PredBoxes {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    throw fsError(e, path);
  }
  return parsePredictionText(text, path);
}

export interface PredictionSet {
  /** `event/name` -> boxes. */
  boxes: Map<string, PredBoxes>;
  /** Requested keys with no file. */
  missing: string[];
  /** Files read that were not requested (kept only when asked: they take part in score normalisation). */
  extra: string[];
}

/** Dirent kind, following symbolic links (prediction folders are often assembled from links). */
function isKind(d: Dirent, parent: string, kind: 'file' | 'dir'): boolean {
  if (!d.isSymbolicLink()) return kind === 'file' ? d.isFile() : d.isDirectory();
  try {
    const st = statSync(join(parent, d.name));
    return kind === 'file' ? st.isFile() : st.isDirectory();
  } catch {
    return false; // dangling link: treated as absent
  }
}

function listDir(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch (e) {
    throw fsError(e, path);
  }
}

/**
 * Reads a prediction folder. `wanted` are the image keys the evaluation needs; files for other
 * images are read only with `includeExtra` (the Python evaluator normalises scores over every file
 * of the folder), else ignored. A wanted key with no file is reported in `missing`.
 */
export function readPredictionDir(dir: string, opts: { wanted: Iterable<string>; includeExtra?: boolean }): PredictionSet {
  try {
    if (!statSync(dir).isDirectory()) throw new FdkError('is a file, expected a prediction folder (<event>/<image>.txt)', { file: dir });
  } catch (e) {
    throw e instanceof FdkError ? e : fsError(e, dir);
  }
  const wanted = new Set(opts.wanted);
  const boxes = new Map<string, PredBoxes>();
  const extra: string[] = [];
  let txtFiles = 0;
  for (const ev of listDir(dir)) {
    if (!isKind(ev, dir, 'dir')) continue;
    const evDir = join(dir, ev.name);
    for (const f of listDir(evDir)) {
      if (!f.name.endsWith('.txt') || !isKind(f, evDir, 'file')) continue;
      txtFiles++;
      const key = `${ev.name}/${f.name.slice(0, -4)}`;
      const isWanted = wanted.has(key);
      if (!isWanted && !opts.includeExtra) continue;
      boxes.set(key, readPredictionFile(join(evDir, f.name)));
      if (!isWanted) extra.push(key);
    }
  }
  if (txtFiles === 0) throw new FdkError('no prediction files found (expected <event>/<image>.txt files)', { file: dir });
  const missing = [...wanted].filter((k) => !boxes.has(k));
  return { boxes, missing, extra };
}

/** Converts an in-memory prediction (flat n×5 or rows of 5) to the evaluator's float64 layout. */
export function toPredBoxes(v: PredInput, key: string): PredBoxes {
  if (v.length === 0) return new Float64Array(0);
  const first = (v as ArrayLike<unknown>)[0];
  if (typeof first === 'number') {
    const flat = v as ArrayLike<number>;
    if (flat.length % 5) throw new FdkError(`predictions for ${key}: flat length ${flat.length} is not a multiple of 5`);
    const b = Float64Array.from(flat);
    checkBoxes(b, `predictions for ${key}`);
    return b;
  }
  const rows = v as ArrayLike<ArrayLike<number>>;
  const out = new Float64Array(rows.length * 5);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!r || r.length < 5) throw new FdkError(`predictions for ${key}: row ${i} does not have x, y, w, h, score`);
    for (let c = 0; c < 5; c++) out[i * 5 + c] = r[c];
  }
  checkBoxes(out, `predictions for ${key}`);
  return out;
}
