/** What every ncnn-level pass shares: its signature, and who consumes which blob. */
import type { NcnnLayer, NcnnNet } from '../format/param.js';
import { propagateDims, type Dims } from '../shapes.js';

export interface PassContext {
  /** Graph output blobs: never fused away or renamed. */
  outputs: Set<string>;
}

/** What a pass did, one line per change ("bn -> conv", a removed layer's name, an inserted Split). */
export interface PassReport {
  changes: string[];
}

/** A pass rewrites `net.layers` in place and reports its changes. */
export type Pass = (net: NcnnNet, ctx: PassContext) => PassReport;

/** The layers reading each blob, in layer order, once per input slot (a layer reading a blob twice is listed twice). */
export function blobReaders(layers: NcnnLayer[]): Map<string, NcnnLayer[]> {
  const readers = new Map<string, NcnnLayer[]>();
  for (const l of layers) for (const b of l.inputs) (readers.get(b) ?? readers.set(b, []).get(b)!).push(l);
  return readers;
}

/** Every reader of blob `from` reads `to` instead (a layer that changed nothing is dropped). */
export function rewireReaders(layers: NcnnLayer[], from: string, to: string): void {
  for (const r of layers) r.inputs = r.inputs.map((b) => (b === from ? to : b));
}

/** The single consumer of `blob`, when there is exactly one and the blob is not a graph output. */
export function soleConsumer(layers: NcnnLayer[], blob: string, outputs: Set<string>): NcnnLayer | undefined {
  if (outputs.has(blob)) return undefined;
  let found: NcnnLayer | undefined;
  for (const l of layers)
    for (const b of l.inputs)
      if (b === blob) {
        if (found) return undefined;
        found = l;
      }
  return found;
}

/**
 * Dims of every blob (outer-first, no batch), from the Input layers' declared dims; undefined when
 * an input has no fixed shape or a layer's dims cannot be known (shape-dependent passes then skip).
 */
export function blobDims(layers: NcnnLayer[]): Map<string, Dims> | undefined {
  try {
    return propagateDims(layers, {}, '');
  } catch {
    return undefined;
  }
}
