/**
 * Builds PyTorch checkpoints in tests without PyTorch: a tiny protocol-2 pickle writer and the two
 * torch.save container layouts (legacy stream, and the torch >= 1.6 zip:
 * `<name>/data.pkl` with persistent ids ('storage', StorageType, key, location, numel),
 * `<name>/data/<key>` raw little-endian bytes, `<name>/version`).
 */
import { writeStoredZip } from '../src/convert/pytorch/zip.js';
import type { CkptTensor } from '../src/convert/pytorch/checkpoint.js';

/** A growing protocol-2 pickle. Values: string, int, bool, null, tuples via explicit ops. */
export class PickleWriter {
  private parts: number[] = [0x80, 2];
  private b(...xs: number[]) {
    this.parts.push(...xs);
    return this;
  }
  global(module: string, name: string) {
    return this.b(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }
  str(s: string) {
    const u = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32LE(u.length);
    return this.b(0x58, ...n, ...u);
  }
  int(v: number) {
    if (v >= 0 && v < 256) return this.b(0x4b, v);
    const n = Buffer.alloc(4);
    n.writeInt32LE(v);
    return this.b(0x4a, ...n);
  }
  long(v: bigint) {
    const bytes: number[] = [];
    let x = v;
    while (x !== 0n && x !== -1n) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    }
    if (bytes.length === 0 || (bytes[bytes.length - 1] & 0x80) !== (v < 0n ? 0x80 : 0)) bytes.push(v < 0n ? 0xff : 0);
    return this.b(0x8a, bytes.length, ...bytes);
  }
  none() { return this.b(0x4e); }
  bool(v: boolean) { return this.b(v ? 0x88 : 0x89); }
  mark() { return this.b(0x28); }
  tuple() { return this.b(0x74); }
  emptyTuple() { return this.b(0x29); }
  reduce() { return this.b(0x52); }
  emptyDict() { return this.b(0x7d); }
  setitems() { return this.b(0x75); }
  setitem() { return this.b(0x73); }
  binpersid() { return this.b(0x51); }
  stop() { return this.b(0x2e); }
  ints(xs: number[]) {
    this.mark();
    for (const x of xs) this.int(x);
    return this.tuple();
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const STORAGE: Record<CkptTensor['dtype'], string> = { float32: 'FloatStorage', float16: 'HalfStorage', int64: 'LongStorage' };

export interface FixtureTensor {
  dtype: CkptTensor['dtype'];
  shape: number[];
  /** Storage contents (may be larger than the view). */
  storage: Float32Array | Uint16Array | BigInt64Array;
  offset?: number;
  stride?: number[];
}

const contiguousStride = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

/** Writes `OrderedDict(name -> _rebuild_tensor_v2(storage, ...))`, optionally inside {wrapper: ..., 'epoch': 3}. */
function stateDictPickle(tensors: [string, FixtureTensor][], format: 'legacy' | 'zip', wrapper?: string): Uint8Array {
  const p = new PickleWriter();
  if (wrapper) p.emptyDict().mark().str('epoch').int(3).str(wrapper);
  p.global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  tensors.forEach(([name, t], key) => {
    p.str(name).global('torch._utils', '_rebuild_tensor_v2').mark();
    // persistent id: ('storage', type, key, location, numel[, view_metadata for legacy])
    p.mark().str('storage').global('torch', STORAGE[t.dtype]).str(String(key)).str('cpu').int(t.storage.length);
    if (format === 'legacy') p.none();
    p.tuple().binpersid();
    p.int(t.offset ?? 0).ints(t.shape).ints(t.stride ?? contiguousStride(t.shape)).bool(false);
    p.global('collections', 'OrderedDict').emptyTuple().reduce();
    p.tuple().reduce();
  });
  p.setitems();
  if (wrapper) p.setitems();
  return p.stop().bytes();
}

const bytesOf = (a: Float32Array | Uint16Array | BigInt64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** torch >= 1.6 zip checkpoint. */
export function zipCheckpoint(tensors: [string, FixtureTensor][], opts: { root?: string; wrapper?: string; deflate?: boolean } = {}): Uint8Array {
  const root = opts.root ?? 'archive';
  return writeStoredZip([
    { name: `${root}/data.pkl`, data: stateDictPickle(tensors, 'zip', opts.wrapper) },
    ...tensors.map(([, t], key) => ({ name: `${root}/data/${key}`, data: bytesOf(t.storage) })),
    { name: `${root}/version`, data: Buffer.from('3\n') },
  ], { deflate: opts.deflate });
}

/** The three small pickles that open a legacy checkpoint: magic number, protocol version, sys_info. */
export function legacyHeader(): Uint8Array {
  const magic = new PickleWriter().long(0x1950a86a20f9469cfc6cn).stop().bytes();
  const proto = new PickleWriter().int(1001).stop().bytes();
  // Python ints > 255 need BININT2/BININT: int() handles it
  const info = new PickleWriter().emptyDict().mark().str('protocol_version').int(1001).str('little_endian').bool(true).setitems().stop().bytes();
  return Buffer.concat([magic, proto, info]);
}

/** Legacy (torch < 1.6) checkpoint stream. */
export function legacyCheckpoint(tensors: [string, FixtureTensor][], opts: { wrapper?: string } = {}): Uint8Array {
  // list of storage keys: EMPTY_LIST, MARK, str..., APPENDS
  const parts: Uint8Array[] = [legacyHeader(), stateDictPickle(tensors, 'legacy', opts.wrapper)];
  const l: number[] = [0x80, 2, 0x5d, 0x28];
  tensors.forEach((_, key) => {
    const u = Buffer.from(String(key));
    l.push(0x58, u.length, 0, 0, 0, ...u);
  });
  l.push(0x65, 0x2e);
  parts.push(Uint8Array.from(l));
  for (const [, t] of tensors) {
    const n = Buffer.alloc(8);
    n.writeBigInt64LE(BigInt(t.storage.length));
    parts.push(n, bytesOf(t.storage));
  }
  return Buffer.concat(parts);
}

/** A pickle (wrapped as a zip checkpoint) whose first global is `module.name` called with ('echo pwned',). */
export function maliciousZip(module: string, name: string): Uint8Array {
  const p = new PickleWriter().global(module, name).mark().str('echo pwned').tuple().reduce().stop().bytes();
  return writeStoredZip([{ name: 'archive/data.pkl', data: p }, { name: 'archive/version', data: Buffer.from('3\n') }]);
}

/** The same, as a legacy stream (header pickles first). */
export function maliciousLegacy(module: string, name: string): Uint8Array {
  const p = new PickleWriter().global(module, name).mark().str('echo pwned').tuple().reduce().stop().bytes();
  return Buffer.concat([legacyHeader(), p]);
}

/** The tensors of a parsed checkpoint as fixture tensors (contiguous, one storage each). */
export function fixturesFrom(tensors: Map<string, CkptTensor>): [string, FixtureTensor][] {
  return [...tensors].map(([k, t]) => [k, { dtype: t.dtype, shape: [...t.shape], storage: t.data }]);
}
