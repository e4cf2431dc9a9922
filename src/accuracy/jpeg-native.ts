/**
 * The optional native JPEG decoder (native/jpeg-decode.c, built by scripts/build-native.sh into
 * `.fdk/native/jpeg-decode.node`): libjpeg-turbo with cv2.imread's settings, called synchronously
 * on the calling thread, about half of sharp's CPU for the same pixels (docs/accuracy.md). It only
 * takes the plain cases it reproduces exactly and answers null for anything else (non-JPEG, EXIF
 * rotation, CMYK, warnings, errors), so image.ts falls back to sharp, which decides and reports.
 * FDK_JPEG_ADDON=off disables it; FDK_JPEG_ADDON=PATH loads another build.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../util/data.js';

interface Addon {
  decode(src: Uint8Array, bgr: boolean, dst?: Uint8Array): [number, number, Uint8Array] | null;
}

let addon: Addon | null | undefined;

function load(): Addon | null {
  const env = process.env.FDK_JPEG_ADDON;
  if (env === 'off') return null;
  const path = env || join(PROJECT_ROOT, '.fdk', 'native', 'jpeg-decode.node');
  if (!existsSync(path)) return null;
  try {
    return createRequire(import.meta.url)(path) as Addon;
  } catch {
    return null; // built for another Node ABI or platform: sharp still works
  }
}

/** Is the native decoder built and loadable here? */
export function nativeJpegAvailable(): boolean {
  if (addon === undefined) addon = load();
  return addon !== null;
}

/**
 * Decodes a plain JPEG into interleaved RGB (or BGR) bytes, into `dst` when it is large enough
 * (then `data` is a view of it), else into a fresh buffer. Null: not for this decoder, use sharp.
 */
export function decodeJpegNative(src: Uint8Array, opts: { bgr?: boolean; dst?: Uint8Array } = {}): { width: number; height: number; data: Uint8Array } | null {
  if (!nativeJpegAvailable()) return null;
  const r = addon!.decode(src, !!opts.bgr, opts.dst);
  if (!r) return null;
  const [width, height, buf] = r;
  return { width, height, data: new Uint8Array(buf.buffer, buf.byteOffset, width * height * 3) };
}
