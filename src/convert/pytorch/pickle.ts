/**
 * A safe, minimal pickle virtual machine for PyTorch state_dict checkpoints.
 *
 * Python's pickle can call any importable function, so loading an untrusted checkpoint with it
 * runs code. This reader executes only data opcodes; every GLOBAL goes through `resolveGlobal`
 * supplied by the caller, which returns a plain JS stand-in for the few globals a state_dict
 * needs and refuses anything else. Nothing from the file is ever executed.
 *
 * Supported: the opcodes of protocols 0-5 that data pickles use (torch.save writes protocol 2).
 */
export class PickleError extends Error {}

/** A Python global the unpickler may call: returns the object for REDUCE/NEWOBJ. */
export interface PyCallable {
  readonly pyGlobal: string; // 'module.name'
  call(args: unknown[]): unknown;
}

/** Marker for a tuple (distinguishes Python tuples from lists in the output). */
export class PyTuple extends Array<unknown> {}

/** Python dict / OrderedDict: string or number keys, insertion order kept. */
export class PyDict extends Map<unknown, unknown> {
  /** State set by BUILD (e.g. the `_metadata` attribute of a state_dict). */
  state?: unknown;
}

export interface UnpickleOptions {
  resolveGlobal: (module: string, name: string) => PyCallable;
  persistentLoad?: (pid: unknown) => unknown;
}

/**
 * MARK nesting allowed. State dicts nest a few levels; a file with a million MARKs is an attack on
 * memory, refused with a PickleError rather than run (issue #15, item 13).
 */
export const MAX_MARK_DEPTH = 10_000;

export interface UnpickleResult {
  value: unknown;
  /** Byte offset just after STOP. */
  end: number;
}

/** Runs one pickle starting at `offset` of `buf`. Throws PickleError on malformed or truncated data. */
export function unpickle(buf: Uint8Array, offset: number, opts: UnpickleOptions): UnpickleResult {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = offset;
  const stack: unknown[] = [];
  const metastack: unknown[][] = [];
  let cur = stack;
  const memo = new Map<number, unknown>();

  const need = (n: number) => {
    if (pos + n > buf.byteLength) throw new PickleError(`truncated pickle: needs ${n} more bytes at offset ${pos}, file has ${buf.byteLength}`);
  };
  const u8 = () => (need(1), buf[pos++]);
  const u16 = () => (need(2), (pos += 2), dv.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), dv.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), dv.getInt32(pos - 4, true));
  const bytes = (n: number) => {
    need(n);
    pos += n;
    return buf.subarray(pos - n, pos);
  };
  const utf8 = (n: number) => Buffer.from(bytes(n)).toString('utf8');
  const line = () => {
    const start = pos;
    while (pos < buf.byteLength && buf[pos] !== 0x0a) pos++;
    if (pos >= buf.byteLength) throw new PickleError(`truncated pickle: unterminated text line at offset ${start}`);
    const s = Buffer.from(buf.subarray(start, pos)).toString('latin1');
    pos++;
    return s;
  };
  const pop = () => {
    if (cur.length === 0) throw new PickleError(`malformed pickle: stack underflow at offset ${pos - 1}`);
    return cur.pop();
  };
  const top = () => {
    if (cur.length === 0) throw new PickleError(`malformed pickle: empty stack at offset ${pos - 1}`);
    return cur[cur.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = cur;
    const prev = metastack.pop();
    if (!prev) throw new PickleError(`malformed pickle: no MARK at offset ${pos - 1}`);
    cur = prev;
    return items;
  };
  const tuple = (items: unknown[]) => {
    const t = new PyTuple();
    for (const x of items) t.push(x);
    return t;
  };
  const longFromBytes = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const callGlobal = (fn: unknown, args: unknown) => {
    if (!(fn && typeof fn === 'object' && 'call' in fn && 'pyGlobal' in fn)) throw new PickleError(`malformed pickle: REDUCE on a non-callable at offset ${pos - 1}`);
    if (!Array.isArray(args)) throw new PickleError(`malformed pickle: REDUCE arguments are not a tuple at offset ${pos - 1}`);
    return (fn as PyCallable).call(args);
  };
  const setItems = (d: unknown, kv: unknown[]) => {
    if (!(d instanceof Map)) throw new PickleError(`malformed pickle: SETITEM(S) on a non-dict at offset ${pos - 1}`);
    for (let i = 0; i + 1 < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
  };
  const appendItems = (l: unknown, items: unknown[]) => {
    if (!Array.isArray(l)) throw new PickleError(`malformed pickle: APPEND(S) on a non-list at offset ${pos - 1}`);
    for (const x of items) l.push(x); // not push(...items): a long APPENDS would overflow the call stack
  };

  for (;;) {
    const opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: bytes(8); break; // FRAME (length ignored: we read the stream linearly)
      case 0x2e: return { value: pop(), end: pos }; // STOP '.'
      case 0x28: // MARK '('
        if (metastack.length >= MAX_MARK_DEPTH) throw new PickleError(`malformed pickle: more than ${MAX_MARK_DEPTH} nested MARKs at offset ${opAt}`);
        metastack.push(cur);
        cur = [];
        break;
      case 0x30: pop(); break; // POP '0'
      case 0x31: popMark(); break; // POP_MARK '1'
      case 0x32: cur.push(top()); break; // DUP '2'
      case 0x4e: cur.push(null); break; // NONE 'N'
      case 0x88: cur.push(true); break; // NEWTRUE
      case 0x89: cur.push(false); break; // NEWFALSE
      case 0x4b: cur.push(u8()); break; // BININT1 'K'
      case 0x4d: cur.push(u16()); break; // BININT2 'M'
      case 0x4a: cur.push(i32()); break; // BININT 'J'
      case 0x8a: cur.push(longFromBytes(bytes(u8()))); break; // LONG1
      case 0x8b: cur.push(longFromBytes(bytes(u32()))); break; // LONG4
      case 0x49: { // INT 'I' (text)
        const s = line();
        cur.push(s === '01' ? true : s === '00' ? false : Number(s));
        break;
      }
      case 0x4c: cur.push(Number(line().replace(/L$/, ''))); break; // LONG 'L' (text)
      case 0x47: need(8); cur.push(dv.getFloat64(pos, false)); pos += 8; break; // BINFLOAT 'G' (big-endian)
      case 0x46: cur.push(Number(line())); break; // FLOAT 'F'
      case 0x58: cur.push(utf8(u32())); break; // BINUNICODE 'X'
      case 0x8c: cur.push(utf8(u8())); break; // SHORT_BINUNICODE
      case 0x8d: { // BINUNICODE8
        need(8);
        const n = Number(dv.getBigUint64(pos, true));
        pos += 8;
        cur.push(utf8(n));
        break;
      }
      case 0x54: cur.push(Buffer.from(bytes(u32())).toString('latin1')); break; // BINSTRING 'T'
      case 0x55: cur.push(Buffer.from(bytes(u8())).toString('latin1')); break; // SHORT_BINSTRING 'U'
      case 0x42: cur.push(bytes(u32())); break; // BINBYTES 'B'
      case 0x43: cur.push(bytes(u8())); break; // SHORT_BINBYTES 'C'
      case 0x56: cur.push(line()); break; // UNICODE 'V' (raw-unicode-escape; ASCII in practice)
      case 0x53: cur.push(line().replace(/^'|'$/g, '')); break; // STRING 'S'
      case 0x29: cur.push(new PyTuple()); break; // EMPTY_TUPLE ')'
      case 0x74: { const t = tuple(popMark()); cur.push(t); break; } // TUPLE 't' (pop first: cur changes)
      case 0x85: cur.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); cur.push(tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); cur.push(tuple([a, b, c])); break; } // TUPLE3
      case 0x5d: cur.push([]); break; // EMPTY_LIST ']'
      case 0x6c: { const l = [...popMark()]; cur.push(l); break; } // LIST 'l'
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND 'a'
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS 'e'
      case 0x7d: cur.push(new PyDict()); break; // EMPTY_DICT '}'
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); cur.push(d); break; } // DICT 'd'
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM 's'
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS 'u'
      case 0x71: memo.set(u8(), top()); break; // BINPUT 'q'
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT 'r'
      case 0x70: memo.set(Number(line()), top()); break; // PUT 'p'
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: case 0x67: { // BINGET 'h', LONG_BINGET 'j', GET 'g'
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(k)) throw new PickleError(`malformed pickle: memo key ${k} not defined at offset ${opAt}`);
        cur.push(memo.get(k));
        break;
      }
      case 0x63: { // GLOBAL 'c'
        const module = line();
        const name = line();
        cur.push(opts.resolveGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError(`malformed pickle: STACK_GLOBAL needs two strings at offset ${opAt}`);
        cur.push(opts.resolveGlobal(module, name));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); cur.push(callGlobal(fn, args)); break; } // REDUCE 'R'
      case 0x81: { const args = pop(); const cls = pop(); cur.push(callGlobal(cls, args)); break; } // NEWOBJ
      case 0x92: { pop(); const args = pop(); const cls = pop(); cur.push(callGlobal(cls, args)); break; } // NEWOBJ_EX (kwargs ignored)
      case 0x62: { // BUILD 'b': set state; we only keep it on dicts (state_dict._metadata)
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.state = state;
        break;
      }
      case 0x51: { // BINPERSID 'Q'
        const pid = pop();
        if (!opts.persistentLoad) throw new PickleError(`malformed pickle: persistent id without a loader at offset ${opAt}`);
        cur.push(opts.persistentLoad(pid));
        break;
      }
      case 0x50: { // PERSID 'P'
        const pid = line();
        if (!opts.persistentLoad) throw new PickleError(`malformed pickle: persistent id without a loader at offset ${opAt}`);
        cur.push(opts.persistentLoad(pid));
        break;
      }
      default:
        throw new PickleError(`unsupported or corrupt pickle opcode 0x${op.toString(16).padStart(2, '0')} at offset ${opAt}`);
    }
  }
}
