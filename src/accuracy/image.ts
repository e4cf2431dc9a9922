/**
 * Image loading that reproduces `cv2.imread(path, IMREAD_COLOR)`: 8-bit BGR, HWC, EXIF orientation
 * applied, grey images expanded to three channels, alpha dropped, no ICC colour conversion.
 *
 * Decoding uses sharp (libvips with mozjpeg, a libjpeg-turbo fork with the same default
 * integer IDCT and "fancy" chroma upsampling as OpenCV's libjpeg-turbo), which gives the
 * same bytes as cv2.imread (OpenCV 4.14) on all 3226 WIDER val images and the test photos, grey
 * JPEGs and PNGs with alpha included (checked once against cv2 outside the project; the tests
 * check seed-sample.jpg against the reference tensors). jpeg-js differs by up to ±23 per pixel,
 * which is why it is not used for decoding.
 *
 * When the optional native decoder is built (src/accuracy/jpeg-native.ts, scripts/build-native.sh)
 * plain JPEGs go through it instead: the same pixels as sharp on all 3226 WIDER val images
 * (perf/jpeg-exact.ts checks that), at about half the CPU. Everything else still goes to sharp.
 */
import sharp from 'sharp';
import { decodeJpegNative } from './jpeg-native.js';
import { readFileOrThrow } from '../util/fs.js';
import { FdkError } from '../util/errors.js';

export interface BgrImage {
  width: number;
  height: number;
  /** Interleaved B, G, R bytes, row-major (HWC), like a cv2 Mat (R, G, B when `rgb` is set). */
  data: Uint8Array;
  /**
   * Pipeline-internal fast path: the bytes are in R, G, B order, as decoded. The preprocessing
   * resizes channels independently, so it swaps on the small resized image instead of the full one.
   */
  rgb?: boolean;
}

// libvips uses its own thread pool per image; the pipeline parallelises over images instead.
sharp.concurrency(1);
sharp.cache(false);

export interface DecodeOptions {
  /** Keep the decoded R, G, B order (`rgb: true`) instead of swapping to B, G, R. */
  keepRgb?: boolean;
  /** 'sharp' skips the native decoder (for measurements and the exactness check). */
  decoder?: 'auto' | 'sharp';
  /**
   * A buffer the caller reuses from image to image: the native decoder writes into it when it is
   * large enough (the image's `data` is then a view of it, valid until the next decode with the
   * same scratch), and stores the larger buffer it had to allocate otherwise. Saves page-faulting
   * a fresh ~2 MB buffer per WIDER image.
   */
  scratch?: { data?: Uint8Array };
}

/** Decodes an image file (JPEG, PNG, ...) into BGR HWC bytes, throwing one-line FdkErrors naming the file. */
export async function loadImage(path: string, opts: DecodeOptions = {}): Promise<BgrImage> {
  const bytes = readFileOrThrow(path);
  return decodeImage(bytes, path, opts);
}

/**
 * The native decoder alone, synchronously (null when it is not built or not for this file):
 * the pool's workers call it on their own thread.
 */
export function decodeImageNative(bytes: Uint8Array, opts: DecodeOptions = {}): BgrImage | null {
  if (opts.decoder === 'sharp') return null;
  const r = decodeJpegNative(bytes, { bgr: !opts.keepRgb, dst: opts.scratch?.data });
  if (!r) return null;
  if (opts.scratch && r.data.buffer !== opts.scratch.data?.buffer) opts.scratch.data = r.data; // a fresh buffer: the next image may reuse it
  return opts.keepRgb ? { ...r, rgb: true } : r;
}

export async function decodeImage(bytes: Uint8Array, file = '<image>', opts: DecodeOptions = {}): Promise<BgrImage> {
  if (bytes.byteLength === 0) throw new FdkError('empty file, expected an image', { file });
  const native = decodeImageNative(bytes, opts);
  if (native) return native;
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    // sequentialRead: libvips streams the decode top to bottom (same pixels, a little less work)
    raw = await sharp(bytes, { failOn: 'warning', sequentialRead: true })
      .rotate() // honour EXIF orientation as cv2.imread does
      .removeAlpha()
      .toColourspace('srgb') // grey -> 3 channels (replicated), as cv2 does
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0].replace(/^Input buffer /, '');
    throw new FdkError(`cannot decode image (corrupt or unsupported): ${msg}`, { file });
  }
  const { width, height, channels } = raw.info;
  if (channels !== 3) throw new FdkError(`unexpected channel count ${channels} after decoding`, { file });
  const src = raw.data;
  if (opts.keepRgb) return { width, height, data: new Uint8Array(src.buffer, src.byteOffset, src.byteLength), rgb: true };
  const data = new Uint8Array(width * height * 3);
  // RGB -> BGR
  for (let i = 0; i < data.length; i += 3) {
    data[i] = src[i + 2];
    data[i + 1] = src[i + 1];
    data[i + 2] = src[i];
  }
  return { width, height, data };
}
