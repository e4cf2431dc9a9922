/**
 * The ncnn text `.param` format: an in-memory model of it, a writer and a reader.
 *
 *   7767517
 *   LAYER_COUNT BLOB_COUNT
 *   Type name nin nout in... out... k=v k=v -23300-k=n,v1,v2 ...
 *
 * ncnn reads each value token with `%15[^,\n ]`, so every token must fit in 15 characters, and
 * decides int vs float by looking for '.' or 'e' in the token: floats are therefore always written
 * with one of them (1.0, not 1). Its float parser accumulates the fraction digits in a 32-bit
 * integer, so at most 9 of them are written (scientific notation keeps that bound).
 */
import { FdkError } from '../../../util/errors.js';

export const PARAM_MAGIC = 7767517;
/** Array params are stored under key -23300 - id. */
export const ARRAY_KEY_BASE = -23300;
/** ncnn's NCNN_MAX_PARAM_COUNT: param ids are 0..31. */
export const MAX_PARAM_COUNT = 32;

export type ParamValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

export type ParamDict = Map<number, ParamValue>;

/** One weight buffer in the .bin, in the order the layer loads it. */
export interface WeightBlob {
  data: Float32Array;
  /**
   * True when ncnn loads this buffer with ModelBin type 0 (e.g. convolution weights): such buffers
   * start with a 4-byte storage tag (0 = fp32, 0x01306B47 = fp16). Type-1 buffers (biases,
   * BatchNorm, MemoryData) are raw fp32 without a tag.
   */
  tagged: boolean;
  /** How a tagged buffer was stored when read: int8 buffers are written back as int8; fp16 / fp32 follow BinOptions. */
  storage?: 'fp16' | 'int8';
}

export interface NcnnLayer {
  type: string;
  name: string;
  inputs: string[];
  outputs: string[];
  params: ParamDict;
  weights: WeightBlob[];
}

export interface NcnnNet {
  layers: NcnnLayer[];
}

// ---------------------------------------------------------------------------------------------
// param helpers used by the op table and passes

export const int = (value: number): ParamValue => ({ kind: 'int', value });
export const float = (value: number): ParamValue => ({ kind: 'float', value });
export const ints = (value: number[]): ParamValue => ({ kind: 'ints', value });
export const floats = (value: number[]): ParamValue => ({ kind: 'floats', value });

export function paramInt(p: ParamDict, id: number, def: number): number {
  const v = p.get(id);
  if (!v) return def;
  if (v.kind === 'int' || v.kind === 'float') return v.value;
  return def;
}
export function paramArray(p: ParamDict, id: number): number[] | undefined {
  const v = p.get(id);
  return v && (v.kind === 'ints' || v.kind === 'floats') ? v.value : undefined;
}

// ---------------------------------------------------------------------------------------------
// writer

/** Shortest decimal that reads back as the same float32 and that ncnn reads as a float. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) throw new Error('NaN cannot be written into an ncnn .param');
  const f = Math.fround(v);
  if (!Number.isFinite(f)) return f > 0 ? '3.40282347e+38' : '-3.40282347e+38';
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  for (let p = 1; p <= 9; p++) {
    const e = f.toExponential(p - 1);
    if (Math.fround(Number(e)) !== f) continue;
    // Prefer the plain form when it is short and unambiguous (1.5 rather than 1.5e+0).
    const plain = String(Number(e));
    const fracDigits = plain.includes('.') ? plain.length - plain.indexOf('.') - 1 : 0;
    if (!/e/i.test(plain) && plain.length <= 12 && fracDigits <= 9) return plain.includes('.') ? plain : `${plain}.0`;
    return e;
  }
  return f.toExponential(8);
}

function formatValue(v: ParamValue): string {
  switch (v.kind) {
    case 'int': return String(v.value | 0);
    case 'float': return formatFloat(v.value);
    case 'ints': return [v.value.length, ...v.value.map((x) => String(x | 0))].join(',');
    case 'floats': return [v.value.length, ...v.value.map(formatFloat)].join(',');
    // ncnn reads a string to the next space, or a quoted one to its closing quote
    case 'string': return /^[A-Za-z][^\s"]*$/.test(v.value) ? v.value : `"${v.value}"`;
  }
}

function checkToken(tok: string, where: string): void {
  if (tok.length > 15) throw new Error(`${where}: value token '${tok}' is longer than the 15 characters ncnn reads`);
}

export function formatParamEntry(id: number, v: ParamValue, where = 'param'): string {
  const isArray = v.kind === 'ints' || v.kind === 'floats';
  const key = isArray ? ARRAY_KEY_BASE - id : id;
  const value = formatValue(v);
  if (v.kind !== 'string') for (const t of value.split(',')) checkToken(t, where);
  return `${key}=${value}`;
}

/** Counts distinct blob names (every blob is produced exactly once). */
export function blobCount(net: NcnnNet): number {
  const s = new Set<string>();
  for (const l of net.layers) {
    for (const b of l.inputs) s.add(b);
    for (const b of l.outputs) s.add(b);
  }
  return s.size;
}

export function writeParam(net: NcnnNet): string {
  const lines = [String(PARAM_MAGIC), `${net.layers.length} ${blobCount(net)}`];
  for (const l of net.layers) {
    for (const n of [l.name, ...l.inputs, ...l.outputs])
      if (!n || /\s/.test(n) || n.length > 255) throw new Error(`layer '${l.name}': name '${n}' is empty, has spaces or is longer than 255 characters`);
    const head = `${l.type.padEnd(16)} ${l.name.padEnd(24)} ${l.inputs.length} ${l.outputs.length}`;
    const parts = [head, ...l.inputs, ...l.outputs];
    const ids = [...l.params.keys()];
    for (const id of ids) parts.push(formatParamEntry(id, l.params.get(id)!, `layer ${l.name}`));
    lines.push(parts.join(' '));
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// reader

export interface ParsedLayer extends Omit<NcnnLayer, 'weights'> {
  line: number;
}

function parseValue(tok: string, isArray: boolean, where: string): ParamValue {
  const isFloat = (s: string) => /[.eE]/.test(s) && !/^[A-Za-z"]/.test(s);
  const num = (s: string) => {
    const n = Number(s);
    if (!Number.isFinite(n)) throw new FdkError(`${where}: bad number '${s}'`);
    return n;
  };
  if (!isArray) {
    if (/^[A-Za-z"]/.test(tok)) return { kind: 'string', value: tok.replace(/^"|"$/g, '') };
    if (tok.includes(',')) {
      // modern ncnn writes arrays without the -23300 key as `3=2.0,3.0`
      const els = tok.split(',');
      return els.some(isFloat) ? { kind: 'floats', value: els.map(num) } : { kind: 'ints', value: els.map(num) };
    }
    return isFloat(tok) ? { kind: 'float', value: num(tok) } : { kind: 'int', value: num(tok) };
  }
  const [countTok, ...els] = tok.split(',');
  const count = num(countTok);
  if (count !== els.length) throw new FdkError(`${where}: array says ${count} elements but has ${els.length}`);
  return els.some(isFloat) ? { kind: 'floats', value: els.map(num) } : { kind: 'ints', value: els.map(num) };
}

/** Parses a text .param; throws FdkError naming `file` and the line on any malformation. */
export function parseParam(text: string, file = '.param'): { layers: ParsedLayer[]; blobCount: number } {
  const lines = text.split(/\r?\n/);
  let i = 0;
  const next = () => {
    while (i < lines.length && lines[i].trim() === '') i++;
    return i < lines.length ? lines[i++] : undefined;
  };
  const magic = next();
  if (magic === undefined || magic.trim() !== String(PARAM_MAGIC))
    throw new FdkError(`not an ncnn text .param (first line must be ${PARAM_MAGIC})`, { file });
  const counts = next()?.trim().split(/\s+/).map(Number);
  if (!counts || counts.length !== 2 || counts.some((c) => !Number.isInteger(c) || c < 0))
    throw new FdkError('line 2 must be "LAYER_COUNT BLOB_COUNT"', { file });
  const [layerCount, blobs] = counts;
  // Layer names need not be unique: ncnn looks layers up by blob names only (pnnx and
  // ncnnoptimize outputs can repeat a layer name such as splitncnn_0).
  const layers: ParsedLayer[] = [];
  while (layers.length < layerCount) {
    const raw = next();
    if (raw === undefined) throw new FdkError(`truncated: header says ${layerCount} layers, file has ${layers.length}`, { file });
    const where = `line ${i}`;
    // a quoted string value may hold spaces (ncnn scans "..." to the closing quote)
    const t: string[] = raw.trim().match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
    if (t.length < 4) throw new FdkError(`${where}: expected "Type name nin nout ..."`, { file });
    const [type, name] = t;
    const nin = Number(t[2]);
    const nout = Number(t[3]);
    if (!Number.isInteger(nin) || !Number.isInteger(nout) || nin < 0 || nout < 0 || t.length < 4 + nin + nout)
      throw new FdkError(`${where}: bad input/output counts in layer '${name}'`, { file });
    const inputs = t.slice(4, 4 + nin);
    const outputs = t.slice(4 + nin, 4 + nin + nout);
    const params: ParamDict = new Map();
    for (const kv of t.slice(4 + nin + nout)) {
      const m = /^(-?\d+)=(.*)$/.exec(kv);
      if (!m) throw new FdkError(`${where}: bad param '${kv}' in layer '${name}'`, { file });
      let key = Number(m[1]);
      const isArray = key <= ARRAY_KEY_BASE;
      if (isArray) key = ARRAY_KEY_BASE - key;
      if (key < 0 || key >= MAX_PARAM_COUNT) throw new FdkError(`${where}: param id ${key} in layer '${name}' is outside ncnn's 0..${MAX_PARAM_COUNT - 1}`, { file });
      try {
        params.set(key, parseValue(m[2], isArray, `${where}, layer '${name}'`));
      } catch (e) {
        throw e instanceof FdkError ? new FdkError(e.message, { file }) : e;
      }
    }
    layers.push({ type, name, inputs, outputs, params, line: i });
  }
  return { layers, blobCount: blobs };
}
