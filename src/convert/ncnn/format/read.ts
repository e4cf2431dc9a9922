/** Reads a .param (and optionally its .bin) from disk into the NcnnNet model. */
import { existsSync } from 'node:fs';
import { readFileOrThrow } from '../../../util/fs.js';
import { FdkError } from '../../../util/errors.js';
import { parseParam, type NcnnNet, type NcnnLayer } from './param.js';
import { readBin } from './bin.js';
import { requireRecord } from '../layers/index.js';

/** `model.param` -> `model.bin` (same folder, same stem). */
export function binPathFor(paramPath: string): string {
  return paramPath.replace(/\.param$/i, '') + '.bin';
}

export interface ReadNcnnOptions {
  /** Path of the .bin; default: beside the .param. `false` = do not read weights. */
  bin?: string | false;
}

export function readNcnnModel(paramPath: string, opts: ReadNcnnOptions = {}): NcnnNet & { binPath?: string } {
  const text = readFileOrThrow(paramPath);
  if (text.includes(0)) throw new FdkError('binary data in a text .param (binary .param.bin files are not supported)', { file: paramPath });
  const { layers } = parseParam(text.toString('utf8'), paramPath);
  // a type without a record is what ncnn refuses too ("layer X not exists or registered")
  for (const l of layers) requireRecord(l.type, l.name, paramPath);
  const binPath = opts.bin === false ? undefined : opts.bin ?? binPathFor(paramPath);
  let weights: ReturnType<typeof readBin> | undefined;
  if (binPath) {
    if (!existsSync(binPath)) {
      if (opts.bin) throw new FdkError('no such file', { file: binPath });
    } else weights = readBin(readFileOrThrow(binPath), layers, binPath);
  }
  const out: NcnnLayer[] = layers.map((l, i) => ({ type: l.type, name: l.name, inputs: l.inputs, outputs: l.outputs, params: l.params, weights: weights?.[i] ?? [] }));
  return { layers: out, binPath: weights ? binPath : undefined };
}
