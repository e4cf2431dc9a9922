/**
 * Reads PyTorch checkpoints (torch.save of a state_dict) without PyTorch.
 *
 * Two container formats:
 *  - legacy (torch < 1.6, `_use_new_zipfile_serialization=False`): five pickles/blobs in a row —
 *    magic number, protocol version, sys_info, the object pickle (storages as persistent ids
 *    ('storage', type, key, location, numel, view)), the list of storage keys, then for each key an
 *    int64 element count followed by the raw little-endian storage bytes.
 *  - zip (torch >= 1.6): `<root>/data.pkl` (persistent ids ('storage', type, key, location, numel)),
 *    `<root>/data/<key>` raw storage bytes, `<root>/version`.
 *
 * Only the globals a state_dict needs are allowed (see ALLOWED); anything else is refused with an
 * error naming the global, so loading a checkpoint never runs code.
 */
import { basename } from 'node:path';
import { FdkError } from '../../util/errors.js';
import { readFileOrThrow } from '../../util/fs.js';
import { PickleError, PyDict, PyTuple, unpickle, type PyCallable } from './pickle.js';
import { isZip, ZipArchive, ZipError } from './zip.js';

export type CkptDType = 'float32' | 'float16' | 'int64';

export interface CkptTensor {
  dtype: CkptDType;
  shape: number[];
  /** Contiguous values in C order. */
  data: Float32Array | Uint16Array | BigInt64Array;
}

/** Parameter name -> tensor, in checkpoint order, after unwrapping `state_dict` / `module.`. */
export type StateDict = Map<string, CkptTensor>;

export interface Checkpoint {
  format: 'legacy' | 'zip';
  tensors: StateDict;
  /** Wrapper key the state_dict was found under ('' = top level). */
  wrapper: string;
  /** True when a `module.` prefix (DataParallel) was stripped. */
  strippedModulePrefix: boolean;
}

const STORAGE_TYPES: Record<string, { dtype: CkptDType; size: number }> = {
  FloatStorage: { dtype: 'float32', size: 4 },
  HalfStorage: { dtype: 'float16', size: 2 },
  LongStorage: { dtype: 'int64', size: 8 },
};

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** Elements of one checkpoint tensor: 2^28 float32 = 1 GiB, far above any edge detector. */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;
/** data.pkl of a state_dict is kilobytes; a bigger one is not a state_dict. */
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;

/** torch storage classes a state_dict may hold but fdk does not read, with their dtype for the message. */
const OTHER_STORAGES: Record<string, string> = {
  DoubleStorage: 'float64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool', BFloat16Storage: 'bfloat16', ComplexFloatStorage: 'complex64', ComplexDoubleStorage: 'complex128',
};

/** A pickle value named for a message without printing it (a nested list would recurse in String()). */
const kindOf = (v: unknown): string => (v === null ? 'None' : Array.isArray(v) ? 'a list/tuple' : v instanceof Map ? 'a dict' : typeof v);

/** A storage as referenced from the pickle: bytes are attached once read. */
class StorageRef {
  bytes?: Uint8Array;
  constructor(readonly key: string, readonly dtype: CkptDType, readonly elemSize: number, readonly numel: number) {}
}

class StorageType {
  constructor(readonly name: string, readonly dtype: CkptDType, readonly size: number) {}
}

/** Tensor before its storage bytes are known (legacy storages follow the pickle). */
class PendingTensor {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
}

function makeGlobals(file: string) {
  const fn = (pyGlobal: string, call: (args: unknown[]) => unknown): PyCallable => ({ pyGlobal, call });
  const ints = (v: unknown, what: string): number[] => {
    if (!Array.isArray(v) || v.some((x) => !Number.isSafeInteger(x) || (x as number) < 0)) throw new FdkError(`malformed checkpoint: ${what} is not a tuple of non-negative ints`, { file });
    return v as number[];
  };
  const rebuildTensor = (args: unknown[]) => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof StorageRef)) throw new FdkError('malformed checkpoint: tensor without a storage', { file });
    if (typeof offset !== 'number') throw new FdkError('malformed checkpoint: tensor storage offset is not an int', { file });
    return new PendingTensor(storage, offset, ints(size, 'tensor size'), ints(stride, 'tensor stride'));
  };
  const ordered = fn('collections.OrderedDict', (args) => {
    const d = new PyDict();
    if (args.length && Array.isArray(args[0])) for (const kv of args[0] as unknown[][]) d.set(kv[0], kv[1]);
    return d;
  });
  const allowed: Record<string, PyCallable | StorageType> = {
    'collections.OrderedDict': ordered,
    'torch._utils._rebuild_tensor_v2': fn('torch._utils._rebuild_tensor_v2', rebuildTensor),
    'torch._utils._rebuild_tensor': fn('torch._utils._rebuild_tensor', rebuildTensor),
    // nn.Parameter saved directly (e.g. whole-module pickles' parameters): keep the data tensor
    'torch._utils._rebuild_parameter': fn('torch._utils._rebuild_parameter', (args) => args[0]),
  };
  for (const [name, t] of Object.entries(STORAGE_TYPES)) allowed[`torch.${name}`] = new StorageType(name, t.dtype, t.size);
  return (module: string, name: string): PyCallable => {
    const g = allowed[`${module}.${name}`];
    if (!g && module === 'torch' && OTHER_STORAGES[name])
      throw new FdkError(`unsupported tensor dtype ${OTHER_STORAGES[name]} (torch.${name}): fdk reads float32, float16 and int64 checkpoints; save the state_dict after model.float()`, { file });
    if (!g)
      throw new FdkError(`refusing to load: the pickle references the global '${module}.${name}', which a plain state_dict does not need (allowed: ${Object.keys(allowed).join(', ')}); no code from the file was run`, { file });
    return g as PyCallable;
  };
}

function storageFromPid(pid: unknown, file: string, storages: Map<string, StorageRef>): StorageRef {
  if (!(pid instanceof PyTuple) || pid[0] !== 'storage') throw new FdkError('malformed checkpoint: unexpected persistent id (expected a storage)', { file });
  const [, type, key, , numel, view] = pid;
  if (!(type instanceof StorageType)) throw new FdkError('malformed checkpoint: storage type is not a torch storage class', { file });
  if (typeof key !== 'string' || !Number.isSafeInteger(numel) || (numel as number) < 0) throw new FdkError('malformed checkpoint: bad storage key or size', { file });
  if ((numel as number) > MAX_TENSOR_ELEMENTS) throw new FdkError(`storage ${key} declares ${numel} elements, over the limit of ${MAX_TENSOR_ELEMENTS}`, { file });
  if (view !== undefined && view !== null) throw new FdkError('unsupported checkpoint: storage views (torch < 0.4 format)', { file });
  let s = storages.get(key);
  if (!s) {
    s = new StorageRef(key, type.dtype, type.size, numel as number);
    storages.set(key, s);
  }
  return s;
}

/** Copies a strided view out of its storage into a contiguous array. */
function materialize(t: PendingTensor, name: string, file: string): CkptTensor {
  const s = t.storage;
  if (!s.bytes) throw new FdkError(`malformed checkpoint: storage ${s.key} of '${name}' has no data`, { file });
  const n = t.shape.reduce((a, b) => a * b, 1);
  // the largest element index touched, to bounds-check before reading
  let maxIndex = t.offset;
  for (let i = 0; i < t.shape.length; i++) if (t.shape[i] > 0) maxIndex += (t.shape[i] - 1) * t.stride[i];
  if (n > 0 && (t.offset < 0 || maxIndex >= s.numel)) throw new FdkError(`malformed checkpoint: tensor '${name}' reads past its storage (${maxIndex + 1} > ${s.numel} elements)`, { file });
  const src = new Uint8Array(s.bytes); // copy: aligned
  const all =
    s.dtype === 'float32' ? new Float32Array(src.buffer, 0, s.numel) :
    s.dtype === 'float16' ? new Uint16Array(src.buffer, 0, s.numel) :
    new BigInt64Array(src.buffer, 0, s.numel);
  let contiguous = true;
  let expect = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.stride[i] !== expect) contiguous = false;
    expect *= t.shape[i];
  }
  let data: CkptTensor['data'];
  if (contiguous) data = all.slice(t.offset, t.offset + n) as CkptTensor['data'];
  else {
    const out = new (all.constructor as { new (n: number): CkptTensor['data'] })(n);
    const idx = new Array<number>(t.shape.length).fill(0);
    for (let k = 0; k < n; k++) {
      let off = t.offset;
      for (let d = 0; d < idx.length; d++) off += idx[d] * t.stride[d];
      (out as unknown as unknown[])[k] = (all as unknown as unknown[])[off];
      for (let d = idx.length - 1; d >= 0; d--) {
        if (++idx[d] < t.shape[d]) break;
        idx[d] = 0;
      }
    }
    data = out;
  }
  return { dtype: s.dtype, shape: [...t.shape], data };
}

function readLegacy(buf: Uint8Array, file: string): { root: unknown; storages: Map<string, StorageRef> } {
  const resolveGlobal = makeGlobals(file);
  const plain = { resolveGlobal };
  let r = unpickle(buf, 0, plain);
  if ((typeof r.value !== 'number' && typeof r.value !== 'bigint') || BigInt(r.value) !== LEGACY_MAGIC) throw new FdkError('not a PyTorch checkpoint (bad magic number)', { file });
  r = unpickle(buf, r.end, plain);
  if (r.value !== 1001) throw new FdkError(`unsupported legacy checkpoint protocol version ${typeof r.value === 'number' ? r.value : kindOf(r.value)}`, { file });
  r = unpickle(buf, r.end, plain); // sys_info: endianness and type sizes
  const info = r.value;
  if (info instanceof Map && info.get('little_endian') === false) throw new FdkError('big-endian checkpoints are not supported', { file });
  const storages = new Map<string, StorageRef>();
  r = unpickle(buf, r.end, { resolveGlobal, persistentLoad: (pid) => storageFromPid(pid, file, storages) });
  const root = r.value;
  r = unpickle(buf, r.end, plain);
  const keys = r.value;
  if (!Array.isArray(keys)) throw new FdkError('malformed checkpoint: storage key list missing', { file });
  let pos = r.end;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const key of keys) {
    const s = storages.get(String(key));
    if (!s) throw new FdkError(`malformed checkpoint: storage ${String(key)} is listed but not used`, { file });
    if (pos + 8 > buf.byteLength) throw new FdkError(`truncated checkpoint: storage ${s.key} header at byte ${pos} is past the end (${buf.byteLength} bytes)`, { file });
    const numel = Number(dv.getBigInt64(pos, true));
    pos += 8;
    if (numel !== s.numel) throw new FdkError(`malformed checkpoint: storage ${s.key} has ${numel} elements, the pickle says ${s.numel}`, { file });
    const nbytes = numel * s.elemSize;
    if (pos + nbytes > buf.byteLength)
      throw new FdkError(`truncated checkpoint: storage ${s.key} needs ${nbytes} bytes at byte ${pos}, file has ${buf.byteLength}`, { file });
    s.bytes = buf.subarray(pos, pos + nbytes);
    pos += nbytes;
  }
  return { root, storages };
}

function readZip(buf: Uint8Array, file: string): { root: unknown; storages: Map<string, StorageRef> } {
  const zip = new ZipArchive(buf);
  const pkl = zip.names().find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) throw new FdkError('zip file has no <name>/data.pkl: not a torch.save archive', { file });
  const root = pkl.slice(0, -'data.pkl'.length);
  const storages = new Map<string, StorageRef>();
  const r = unpickle(zip.read(pkl, MAX_PICKLE_BYTES), 0, { resolveGlobal: makeGlobals(file), persistentLoad: (pid) => storageFromPid(pid, file, storages) });
  for (const s of storages.values()) {
    const name = `${root}data/${s.key}`;
    if (!zip.entries.has(name)) throw new FdkError(`malformed checkpoint: storage file '${name}' missing from the archive`, { file });
    // Exactly numel x element size: a bigger entry is refused before it is read or inflated.
    const bytes = zip.read(name, s.numel * s.elemSize);
    if (bytes.byteLength < s.numel * s.elemSize)
      throw new FdkError(`truncated checkpoint: '${name}' has ${bytes.byteLength} bytes, needs ${s.numel * s.elemSize}`, { file });
    s.bytes = bytes.subarray(0, s.numel * s.elemSize);
  }
  return { root: r.value, storages };
}

const isTensorDict = (v: unknown): v is PyDict =>
  v instanceof PyDict && v.size > 0 && [...v.values()].every((x) => x instanceof PendingTensor);

/** Finds the state_dict: the top-level dict, or under a `state_dict`/`model`/`net` wrapper key. */
function unwrap(root: unknown, file: string): { dict: PyDict; wrapper: string } {
  if (isTensorDict(root)) return { dict: root, wrapper: '' };
  if (root instanceof PyDict) {
    for (const k of ['state_dict', 'model_state_dict', 'model', 'net', 'state']) {
      const v = root.get(k);
      if (isTensorDict(v)) return { dict: v, wrapper: k };
    }
    // a dict of tensors plus a few non-tensor entries: keep just the tensors
    const tensors = [...root.entries()].filter(([, v]) => v instanceof PendingTensor);
    if (tensors.length > 0) {
      const d = new PyDict(tensors);
      return { dict: d, wrapper: '' };
    }
  }
  throw new FdkError('checkpoint holds no state_dict (expected a dict of tensors, possibly under "state_dict")', { file });
}

/** Parses checkpoint bytes (legacy or zip). `file` names the source in errors. */
export function parseCheckpoint(buf: Uint8Array, file: string): Checkpoint {
  const format = isZip(buf) ? 'zip' : 'legacy';
  let parsed: { root: unknown; storages: Map<string, StorageRef> };
  try {
    if (buf.byteLength === 0) throw new FdkError('empty file, not a PyTorch checkpoint', { file });
    if (format === 'legacy' && buf[0] !== 0x80) throw new FdkError('not a PyTorch checkpoint (neither a zip archive nor a pickle)', { file });
    parsed = format === 'zip' ? readZip(buf, file) : readLegacy(buf, file);
  } catch (e) {
    if (e instanceof FdkError) throw e;
    if (e instanceof PickleError) {
      const truncated = /truncated/.test(e.message);
      throw new FdkError(`${truncated ? 'truncated or corrupt checkpoint' : 'corrupt checkpoint'} (${e.message})`, { file });
    }
    if (e instanceof ZipError) throw new FdkError(e.message, { file });
    throw new FdkError(`cannot read checkpoint: ${(e as Error).message}`, { file });
  }
  const { dict, wrapper } = unwrap(parsed.root, file);
  for (const k of dict.keys()) if (typeof k !== 'string') throw new FdkError(`malformed checkpoint: a state_dict key is ${kindOf(k)}, not a string`, { file });
  const keys = [...dict.keys()].map(String);
  const strip = keys.length > 0 && keys.every((k) => k.startsWith('module.'));
  const tensors: StateDict = new Map();
  for (const [k, v] of dict) {
    const name = strip ? String(k).slice('module.'.length) : String(k);
    tensors.set(name, materialize(v as PendingTensor, name, file));
  }
  return { format, tensors, wrapper, strippedModulePrefix: strip };
}

export function loadCheckpoint(path: string): Checkpoint {
  return parseCheckpoint(readFileOrThrow(path), path);
}

/** Values as float32 (float16 widened, int64 converted). */
export function tensorFloat32(t: CkptTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  const out = new Float32Array(t.data.length);
  if (t.data instanceof Uint16Array) {
    for (let i = 0; i < out.length; i++) out[i] = half(t.data[i]);
  } else for (let i = 0; i < out.length; i++) out[i] = Number(t.data[i]);
  return out;
}

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 0x1f) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export const checkpointName = (path: string) => basename(path).replace(/\.(pth|pt|tar|ckpt)$/i, '');
