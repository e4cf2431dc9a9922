/**
 * The small shared model of an ONNX graph (in the spirit of netron's graph/node/tensor model)
 * and its conversion from/to the protobuf messages.
 *
 * Lossless round trip: everything fdk does not model (doc strings, metadata, functions,
 * training info, quantization annotations, sparse initializers, ...) is kept in `extra` objects
 * holding the original protobuf fields, and written back unchanged on save.
 */
import { Tensor, dtypeCode, dtypeFromCode, dtypeSize, type DType } from './tensor.js';
import { alignRawInPlace } from './raw-align.js';
import { AttrType } from './proto.js';

export type Dim = number | string; // string = symbolic dim (dim_param); -1 = unknown
export interface ValueInfo {
  name: string;
  dtype: DType;
  /** undefined = unknown rank. */
  shape?: Dim[];
  docString?: string;
  /** Unmodelled protobuf fields (e.g. non-tensor types, denotations). */
  extra?: Record<string, unknown>;
}

export type Attr =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: Tensor[] }
  | { type: 'graphs'; value: Graph[] }
  | { type: 'other'; proto: Record<string, unknown> };

export interface Node {
  name: string;
  opType: string;
  domain: string;
  inputs: string[]; // '' = omitted optional input
  outputs: string[];
  attrs: Record<string, Attr>;
  extra?: Record<string, unknown>;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Tensor>;
  valueInfo: Map<string, ValueInfo>;
  extra?: Record<string, unknown>;
}

/**
 * The graph inputs a caller feeds: those without an initializer of the same name. Older exporters
 * (opset <= 9) also list every weight as a graph input, with its value as an initializer.
 */
export function runtimeInputs(g: Graph): ValueInfo[] {
  return g.inputs.filter((i) => !g.initializers.has(i.name));
}

export interface OpsetId {
  domain: string;
  version: number;
  /** The file left `domain` out (rather than writing ""): kept so a round trip stays byte-identical. */
  domainOmitted?: boolean;
}

export interface Model {
  irVersion: number;
  opsetImport: OpsetId[];
  producerName: string;
  producerVersion: string;
  graph: Graph;
  extra?: Record<string, unknown>;
  /** File the model was read from (for error messages and external data). */
  path?: string;
}

/** Default-domain opset version of a model (1 when absent, per the spec). */
export function opsetVersion(m: Model, domain = ''): number {
  const o = m.opsetImport.find((x) => x.domain === domain || (domain === '' && x.domain === 'ai.onnx'));
  return o?.version ?? 1;
}

// ---------------------------------------------------------------------------------------------
// attribute accessors (used by shape inference, analysis and the converters)

export function attrInt(n: Node, name: string, def: number): number;
export function attrInt(n: Node, name: string): number | undefined;
export function attrInt(n: Node, name: string, def?: number): number | undefined {
  const a = n.attrs[name];
  return a && a.type === 'int' ? a.value : def;
}
export function attrFloat(n: Node, name: string, def: number): number;
export function attrFloat(n: Node, name: string): number | undefined;
export function attrFloat(n: Node, name: string, def?: number): number | undefined {
  const a = n.attrs[name];
  return a && (a.type === 'float' || a.type === 'int') ? a.value : def;
}
export function attrInts(n: Node, name: string): number[] | undefined {
  const a = n.attrs[name];
  return a && a.type === 'ints' ? a.value : undefined;
}
export function attrFloats(n: Node, name: string): number[] | undefined {
  const a = n.attrs[name];
  return a && a.type === 'floats' ? a.value : undefined;
}
export function attrString(n: Node, name: string, def: string): string;
export function attrString(n: Node, name: string): string | undefined;
export function attrString(n: Node, name: string, def?: string): string | undefined {
  const a = n.attrs[name];
  return a && a.type === 'string' ? a.value : def;
}
export function attrTensor(n: Node, name: string): Tensor | undefined {
  const a = n.attrs[name];
  return a && a.type === 'tensor' ? a.value : undefined;
}

// ---------------------------------------------------------------------------------------------
// protobuf <-> IR

type Pb = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** protobufjs int64 (Long | number) -> number. ±2^63 sentinels map to ±Number.MAX_VALUE-ish floats losslessly. */
export function longToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number; unsigned?: boolean };
    const big = (BigInt(l.high) << 32n) | BigInt(l.low >>> 0);
    return Number(l.unsigned ? big : BigInt.asIntN(64, big));
  }
  return Number(v);
}
function longToBigInt(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number };
    return BigInt.asIntN(64, (BigInt(l.high) << 32n) | BigInt(l.low >>> 0));
  }
  return BigInt(v as string);
}
/** number -> int64 value for protobufjs, clamping ±2^63 (float rounding of INT64_MAX) back exactly. */
export function numberToInt64(v: number): string | number {
  if (Number.isSafeInteger(v)) return v;
  let b: bigint;
  if (v >= 9.2233720368547e18) b = INT64_MAX;
  else if (v <= -9.2233720368547e18) b = INT64_MIN;
  else b = BigInt(Math.round(v));
  return b.toString();
}

export interface DecodeContext {
  /** Reads an external-data file relative to the model; returns the whole file. */
  readExternal?: (location: string) => Uint8Array;
  /** The decoded buffer is the decoder's own (loadOnnx): raw_data may be aligned in place (raw-align.ts). */
  ownsBuffer?: boolean;
}

export function tensorFromProto(t: Pb, ctx: DecodeContext): Tensor {
  const dtype = dtypeFromCode(t.dataType ?? 0);
  const dims = (t.dims ?? []).map(longToNumber);
  const name: string = t.name ?? '';
  let tensor: Tensor;
  if (t.dataLocation === 1) {
    const extra: { key: string; value: string }[] = (t.externalData ?? []).map((kv: Pb) => ({ key: kv.key, value: kv.value }));
    const get = (k: string) => extra.find((e) => e.key === k)?.value;
    const location = get('location') ?? '';
    const offset = get('offset') !== undefined ? Number(get('offset')) : undefined;
    const length = get('length') !== undefined ? Number(get('length')) : undefined;
    let raw: Uint8Array | undefined;
    if (ctx.readExternal) {
      const file = ctx.readExternal(location);
      const start = offset ?? 0;
      const end = length !== undefined ? start + length : file.byteLength;
      if (end > file.byteLength) throw new Error(`external data for tensor '${name}' runs past the end of '${location}' (${end} > ${file.byteLength} bytes)`);
      raw = file.subarray(start, end);
    }
    tensor = new Tensor(name, dtype, dims, { raw });
    tensor.external = { location, offset, length, extra };
  } else if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData as Uint8Array;
    tensor = new Tensor(name, dtype, dims, { raw: ctx.ownsBuffer ? alignRawInPlace(raw, dtypeSize(dtype)) : raw });
  } else {
    tensor = new Tensor(name, dtype, dims, typedFieldValues(t, dtype));
    if (dtype !== 'string') TYPED_STORAGE.add(tensor);
  }
  if (t.docString) tensor.docString = t.docString;
  return tensor;
}

function typedFieldValues(t: Pb, dtype: DType): { values?: import('./tensor.js').TypedArray; strings?: Uint8Array[] } {
  switch (dtype) {
    case 'float32': return { values: Float32Array.from(t.floatData ?? []) };
    case 'float64': return { values: Float64Array.from(t.doubleData ?? []) };
    case 'int64': return { values: BigInt64Array.from((t.int64Data ?? []).map(longToBigInt)) };
    case 'uint64': return { values: BigUint64Array.from((t.uint64Data ?? []).map((v: unknown) => BigInt.asUintN(64, longToBigInt(v)))) };
    case 'uint32': return { values: Uint32Array.from((t.uint64Data ?? []).map(longToNumber)) };
    case 'int32': return { values: Int32Array.from(t.int32Data ?? []) };
    case 'int16': return { values: Int16Array.from(t.int32Data ?? []) };
    case 'uint16': case 'float16': case 'bfloat16': return { values: Uint16Array.from(t.int32Data ?? []) };
    case 'int8': return { values: Int8Array.from(t.int32Data ?? []) };
    case 'uint8': case 'bool': return { values: Uint8Array.from(t.int32Data ?? []) };
    case 'string': return { strings: (t.stringData ?? []) as Uint8Array[] };
    default: return { values: new Float32Array(0) };
  }
}

/**
 * Tensors that arrived in the typed fields (float_data, int64_data, ...) instead of raw_data
 * (onnx-simplifier writes constants that way): written back the same way, so a round trip
 * stays byte-identical.
 */
const TYPED_STORAGE = new WeakSet<Tensor>();

function typedFieldsToProto(t: Tensor, p: Pb): void {
  const v = t.data;
  switch (t.dtype) {
    case 'float32': p.floatData = Array.from(v as Float32Array); break;
    case 'float64': p.doubleData = Array.from(v as Float64Array); break;
    case 'int64': p.int64Data = Array.from(v as BigInt64Array, (x) => x.toString()); break;
    case 'uint64': p.uint64Data = Array.from(v as BigUint64Array, (x) => x.toString()); break;
    case 'uint32': p.uint64Data = Array.from(v as Uint32Array); break;
    default: p.int32Data = Array.from(v as Int32Array); break;
  }
}

export function tensorToProto(t: Tensor): Pb {
  const p: Pb = { dataType: dtypeCode(t.dtype), dims: t.dims.map(numberToInt64) };
  if (t.name) p.name = t.name; // Constant-node tensors are often unnamed
  if (t.docString) p.docString = t.docString;
  if (t.external) {
    p.dataLocation = 1;
    p.externalData = t.external.extra;
  } else if (t.dtype === 'string') {
    p.stringData = t.strings ?? [];
  } else if (TYPED_STORAGE.has(t)) {
    typedFieldsToProto(t, p);
  } else {
    p.rawData = t.bytes;
  }
  return p;
}

function valueInfoFromProto(v: Pb): ValueInfo {
  const tt = v.type?.tensorType;
  const vi: ValueInfo = { name: v.name ?? '', dtype: dtypeFromCode(tt?.elemType ?? 0) };
  if (tt?.shape) {
    // protobufjs puts oneof defaults (dimValue = 0) on the prototype: test own properties,
    // else a symbolic dim_param would read as 0.
    const has = (d: Pb, k: string) => Object.prototype.hasOwnProperty.call(d, k) && d[k] !== null && d[k] !== undefined;
    vi.shape = (tt.shape.dim ?? []).map((d: Pb) =>
      has(d, 'dimParam') ? String(d.dimParam) : has(d, 'dimValue') ? longToNumber(d.dimValue) : -1);
  }
  if (v.docString) vi.docString = v.docString;
  const extra: Record<string, unknown> = {};
  if (!tt && v.type) extra.type = v.type; // sequence/map/optional types: keep verbatim
  if (v.type?.denotation) extra.denotation = v.type.denotation;
  if (v.metadataProps?.length) extra.metadataProps = v.metadataProps;
  if (Object.keys(extra).length) vi.extra = extra;
  return vi;
}

function valueInfoToProto(v: ValueInfo): Pb {
  const p: Pb = { name: v.name };
  if (v.extra?.type) p.type = v.extra.type;
  else {
    const tensorType: Pb = { elemType: dtypeCode(v.dtype) };
    if (v.shape) tensorType.shape = { dim: v.shape.map((d) => (typeof d === 'string' ? { dimParam: d } : d >= 0 ? { dimValue: d } : {})) };
    p.type = { tensorType };
    if (v.extra?.denotation) p.type.denotation = v.extra.denotation;
  }
  if (v.docString) p.docString = v.docString;
  if (v.extra?.metadataProps) p.metadataProps = v.extra.metadataProps;
  return p;
}

function attrFromProto(a: Pb, ctx: DecodeContext): Attr {
  const t = a.type || inferAttrType(a); // protobufjs reads an absent type as 0 (UNDEFINED)
  switch (t) {
    case AttrType.FLOAT: return { type: 'float', value: a.f ?? 0 };
    case AttrType.INT: return { type: 'int', value: longToNumber(a.i ?? 0) };
    case AttrType.STRING: return { type: 'string', value: Buffer.from(a.s ?? []).toString('utf8') };
    case AttrType.TENSOR: return { type: 'tensor', value: tensorFromProto(a.t, ctx) };
    case AttrType.GRAPH: return { type: 'graph', value: graphFromProto(a.g, ctx) };
    case AttrType.FLOATS: return { type: 'floats', value: [...(a.floats ?? [])] };
    case AttrType.INTS: return { type: 'ints', value: (a.ints ?? []).map(longToNumber) };
    case AttrType.STRINGS: return { type: 'strings', value: (a.strings ?? []).map((s: Uint8Array) => Buffer.from(s).toString('utf8')) };
    case AttrType.TENSORS: return { type: 'tensors', value: (a.tensors ?? []).map((x: Pb) => tensorFromProto(x, ctx)) };
    case AttrType.GRAPHS: return { type: 'graphs', value: (a.graphs ?? []).map((x: Pb) => graphFromProto(x, ctx)) };
    default: return { type: 'other', proto: a };
  }
}

/** IR 3 era files sometimes omit AttributeProto.type; infer it from which field is set. */
function inferAttrType(a: Pb): number {
  if (a.floats?.length) return AttrType.FLOATS;
  if (a.ints?.length) return AttrType.INTS;
  if (a.strings?.length) return AttrType.STRINGS;
  if (a.t) return AttrType.TENSOR;
  if (a.g) return AttrType.GRAPH;
  if (a.s?.length) return AttrType.STRING;
  if (a.f !== undefined && a.f !== 0) return AttrType.FLOAT;
  if (a.i !== undefined) return AttrType.INT;
  return AttrType.UNDEFINED;
}

function attrToProto(name: string, a: Attr): Pb {
  switch (a.type) {
    case 'float': return { name, type: AttrType.FLOAT, f: a.value };
    case 'int': return { name, type: AttrType.INT, i: numberToInt64(a.value) };
    case 'string': return { name, type: AttrType.STRING, s: Buffer.from(a.value, 'utf8') };
    case 'tensor': return { name, type: AttrType.TENSOR, t: tensorToProto(a.value) };
    case 'graph': return { name, type: AttrType.GRAPH, g: graphToProto(a.value) };
    case 'floats': return { name, type: AttrType.FLOATS, floats: a.value };
    case 'ints': return { name, type: AttrType.INTS, ints: a.value.map(numberToInt64) };
    case 'strings': return { name, type: AttrType.STRINGS, strings: a.value.map((s) => Buffer.from(s, 'utf8')) };
    case 'tensors': return { name, type: AttrType.TENSORS, tensors: a.value.map(tensorToProto) };
    case 'graphs': return { name, type: AttrType.GRAPHS, graphs: a.value.map(graphToProto) };
    case 'other': return a.proto;
  }
}

const ATTR_EXTRA = ['docString', 'refAttrName'] as const;

function nodeFromProto(n: Pb, ctx: DecodeContext): Node {
  const attrs: Record<string, Attr> = {};
  const extra: Record<string, unknown> = {};
  for (const a of n.attribute ?? []) {
    attrs[a.name] = a.refAttrName ? { type: 'other', proto: a } : attrFromProto(a, ctx);
    for (const k of ATTR_EXTRA)
      if (a[k] && k === 'docString') {
        extra.attrDoc ??= {} as Record<string, string>;
        (extra.attrDoc as Record<string, string>)[a.name] = a[k];
      }
  }
  // Own properties only: protobufjs serves absent optional fields as prototype defaults ('').
  for (const k of ['docString', 'overload', 'metadataProps', 'deviceConfigurations']) if (Object.prototype.hasOwnProperty.call(n, k) && n[k] != null && (!Array.isArray(n[k]) || n[k].length)) extra[k] = n[k];
  const node: Node = { name: n.name ?? '', opType: n.opType ?? '', domain: n.domain ?? '', inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
  if (Object.keys(extra).length) node.extra = extra;
  return node;
}

function nodeToProto(n: Node): Pb {
  const attrDoc = (n.extra?.attrDoc ?? {}) as Record<string, string>;
  const p: Pb = {
    opType: n.opType, input: n.inputs, output: n.outputs,
    attribute: Object.entries(n.attrs).map(([k, a]) => {
      const ap = attrToProto(k, a);
      if (attrDoc[k]) ap.docString = attrDoc[k];
      return ap;
    }),
  };
  if (n.name) p.name = n.name; // unnamed nodes (PyTorch 1.2 exports) have no name field
  if (n.domain) p.domain = n.domain;
  for (const k of ['docString', 'overload', 'metadataProps', 'deviceConfigurations']) if (n.extra?.[k] !== undefined) p[k] = n.extra[k];
  return p;
}

const GRAPH_MODELLED = new Set(['name', 'node', 'input', 'output', 'initializer', 'valueInfo']);

export function graphFromProto(g: Pb, ctx: DecodeContext): Graph {
  const initializers = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) initializers.set(t.name, tensorFromProto(t, ctx));
  const valueInfo = new Map<string, ValueInfo>();
  for (const v of g.valueInfo ?? []) valueInfo.set(v.name, valueInfoFromProto(v));
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(g)) if (!GRAPH_MODELLED.has(k) && v !== undefined && (!Array.isArray(v) || v.length)) extra[k] = v;
  return {
    name: g.name ?? '',
    nodes: (g.node ?? []).map((n: Pb) => nodeFromProto(n, ctx)),
    inputs: (g.input ?? []).map(valueInfoFromProto),
    outputs: (g.output ?? []).map(valueInfoFromProto),
    initializers,
    valueInfo,
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

export function graphToProto(g: Graph): Pb {
  return {
    ...(g.extra ?? {}),
    name: g.name,
    node: g.nodes.map(nodeToProto),
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    initializer: [...g.initializers.values()].map(tensorToProto),
    valueInfo: [...g.valueInfo.values()].map(valueInfoToProto),
  };
}

const MODEL_MODELLED = new Set(['irVersion', 'opsetImport', 'producerName', 'producerVersion', 'graph']);

export function modelFromProto(m: Pb, ctx: DecodeContext): Model {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (!MODEL_MODELLED.has(k) && v !== undefined && (!Array.isArray(v) || v.length)) extra[k] = v;
  return {
    irVersion: longToNumber(m.irVersion ?? 0),
    opsetImport: (m.opsetImport ?? []).map((o: Pb) => ({
      domain: o.domain ?? '', version: longToNumber(o.version ?? 0),
      ...(Object.prototype.hasOwnProperty.call(o, 'domain') ? {} : { domainOmitted: true }),
    })),
    producerName: m.producerName ?? '',
    producerVersion: m.producerVersion ?? '',
    graph: graphFromProto(m.graph ?? {}, ctx),
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

export function modelToProto(m: Model): Pb {
  return {
    ...(m.extra ?? {}),
    irVersion: m.irVersion,
    opsetImport: m.opsetImport.map((o) => (o.domainOmitted && !o.domain ? { version: o.version } : { domain: o.domain, version: o.version })),
    producerName: m.producerName,
    producerVersion: m.producerVersion,
    graph: graphToProto(m.graph),
  };
}
