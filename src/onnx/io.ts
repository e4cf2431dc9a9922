/** Reading and writing .onnx files (with external data) as the IR in model.ts. */
import { dirname, join, resolve, isAbsolute, basename, sep } from 'node:path';
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { onnxType } from './proto.js';
import { modelFromProto, modelToProto, type Model } from './model.js';
import { FdkError } from '../util/errors.js';
import { readFileOrThrow, writeFilesAtomic, fsError } from '../util/fs.js';
import type { Tensor } from './tensor.js';

/**
 * Decodes ONNX bytes; `path` is used for messages and to resolve external data. `ownsBuffer`
 * (loadOnnx only) lets the decoder move tensor bytes inside `bytes` to aligned offsets.
 */
export function decodeOnnx(bytes: Uint8Array, path = '<buffer>', opts: { ownsBuffer?: boolean } = {}): Model {
  let msg: Record<string, unknown>;
  try {
    msg = onnxType('ModelProto').decode(bytes) as unknown as Record<string, unknown>;
  } catch (e) {
    const why = (e as Error).message ?? String(e);
    throw new FdkError(`not a valid ONNX file (truncated or corrupt protobuf: ${why})`, { file: path });
  }
  const m = msg as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!m.graph || !m.irVersion || (m.graph.node ?? []).length === 0 && (m.graph.output ?? []).length === 0) {
    throw new FdkError('is a protobuf message but not an ONNX model (no ir_version or graph)', { file: path });
  }
  const dir = dirname(resolve(path));
  const cache = new Map<string, Uint8Array>();
  const readExternal = (location: string): Uint8Array => {
    if (isAbsolute(location) || location.split(/[\\/]/).includes('..'))
      throw new FdkError(`external data location '${location}' escapes the model folder`, { file: path });
    let buf = cache.get(location);
    if (!buf) {
      const p = join(dir, location);
      checkExternalFile(p, dir, location, path);
      try {
        buf = readFileSync(p);
      } catch (e) {
        const fe = fsError(e, p);
        throw new FdkError(`external data file missing or unreadable: ${fe.message}`, { file: path });
      }
      cache.set(location, buf);
    }
    return buf;
  };
  try {
    const model = modelFromProto(m, { readExternal, ownsBuffer: opts.ownsBuffer });
    model.path = path;
    return model;
  } catch (e) {
    if (e instanceof FdkError) throw e;
    throw new FdkError(`malformed ONNX model: ${(e as Error).message}`, { file: path });
  }
}

/**
 * External data must be a regular file inside the model's folder, like onnx.load demands: a
 * symlink (to /etc/passwd, say) or a device/FIFO would otherwise be read and embedded in the
 * converted model (issue #15, item 2). Symlinked parent folders are caught by comparing real paths.
 */
function checkExternalFile(p: string, dir: string, location: string, model: string): void {
  let st;
  try {
    st = lstatSync(p);
  } catch (e) {
    throw new FdkError(`external data file missing or unreadable: ${fsError(e, p).message}`, { file: model });
  }
  if (st.isSymbolicLink()) throw new FdkError(`external data location '${location}' is a symbolic link (refused: it must be a regular file in the model folder)`, { file: model });
  if (!st.isFile()) throw new FdkError(`external data location '${location}' is not a regular file`, { file: model });
  const realDir = realpathSync(dir);
  if (!realpathSync(p).startsWith(realDir + sep)) throw new FdkError(`external data location '${location}' escapes the model folder through a symbolic link`, { file: model });
}

export function loadOnnx(path: string): Model {
  return decodeOnnx(readFileOrThrow(path), path, { ownsBuffer: true });
}

export function encodeOnnx(model: Model): Uint8Array {
  const T = onnxType('ModelProto');
  return T.encode(T.fromObject(modelToProto(model))).finish();
}

export interface SaveOptions {
  /**
   * Store tensors of at least this many bytes in one external data file `<name>.data`
   * beside the model. Tensors already external keep their layout unless this is set.
   */
  externalDataThreshold?: number;
}

/** Writes the model (and its external data file) atomically. */
export function saveOnnx(model: Model, path: string, opts: SaveOptions = {}): void {
  const files: { path: string; data: Uint8Array | Uint8Array[] }[] = [];
  const restore: (() => void)[] = [];
  if (opts.externalDataThreshold !== undefined) {
    const location = basename(path) + '.data';
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const all: Tensor[] = [...model.graph.initializers.values()];
    for (const t of all) {
      if (t.dtype === 'string' || t.byteLength < opts.externalDataThreshold) continue;
      const bytes = t.bytes;
      const pad = (64 - (offset % 64)) % 64; // align like onnx's save_model
      if (pad) {
        chunks.push(new Uint8Array(pad));
        offset += pad;
      }
      const prev = t.external;
      t.external = {
        location, offset, length: bytes.byteLength,
        extra: [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(bytes.byteLength) }],
      };
      restore.push(() => (t.external = prev));
      chunks.push(bytes);
      offset += bytes.byteLength;
    }
    files.push({ path: join(dirname(path), location), data: chunks });
  } else {
    // Tensors loaded from external data are written back inline unless they keep a location
    // relative to the same folder; inline is the safe default for a single-file save.
    for (const t of model.graph.initializers.values()) {
      if (t.external && t.hasData) {
        const prev = t.external;
        t.external = undefined;
        restore.push(() => (t.external = prev));
      }
    }
  }
  try {
    files.unshift({ path, data: encodeOnnx(model) });
    writeFilesAtomic(files);
  } finally {
    for (const r of restore) r();
  }
}
