/**
 * The libjpeg-turbo addon (native/jpeg-decode.c, scripts/build-native.sh) gives sharp's bytes
 * (= cv2.imread's) on the photos of ../shared and on val-mini, in RGB and BGR, into a reused
 * buffer; it declines what it does not reproduce (EXIF rotation, CMYK, PNG, corrupt data), and
 * decodeImage then still answers through sharp. The full val set is checked by perf/jpeg-exact.ts.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, decodeImageNative } from '../src/accuracy/image.js';
import { nativeJpegAvailable } from '../src/accuracy/jpeg-native.js';
import { FdkError } from '../src/util/errors.js';
import { shared } from './helpers/index.js';

const photos = () => readdirSync(shared('images')).filter((n) => /\.jpe?g$/i.test(n)).map((n) => join(shared('images'), n));
const miniImages = () => {
  const dir = shared('wider', 'val-mini');
  return readFileSync(join(dir, 'list.txt'), 'utf8').split('\n').filter(Boolean).slice(0, 15).map((l) => join(dir, 'images', l.trim()));
};
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;

/** seed-sample.jpg with an EXIF block (APP1) whose orientation tag is `o`, right after SOI. */
function withOrientation(jpeg: Buffer, o: number): Buffer {
  const tiff = Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0, 0, 0]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1]), len, body, jpeg.subarray(2)]);
}

describe('native JPEG decoder', () => {
  it('is built (bash scripts/build-native.sh; FDK_JPEG_ADDON=off skips this file)', () => {
    expect(nativeJpegAvailable()).toBe(process.env.FDK_JPEG_ADDON !== 'off');
  });

  it.skipIf(process.env.FDK_JPEG_ADDON === 'off')('gives sharp\'s bytes in RGB and BGR on the photos and 15 val-mini images, into a reused buffer', async () => {
    const scratch: { data?: Uint8Array } = {};
    const paths = [...photos(), ...miniImages()];
    expect(paths.length).toBeGreaterThan(20);
    for (const p of paths) {
      const bytes = readFileSync(p);
      const rgb = decodeImageNative(bytes, { keepRgb: true, scratch })!;
      const ref = await decodeImage(bytes, p, { keepRgb: true, decoder: 'sharp' });
      expect([rgb.width, rgb.height, rgb.rgb]).toEqual([ref.width, ref.height, true]);
      expect(same(rgb.data, ref.data), p).toBe(true);
      const bgr = decodeImageNative(bytes)!;
      const refBgr = await decodeImage(bytes, p, { decoder: 'sharp' });
      expect(same(bgr.data, refBgr.data), p).toBe(true);
    }
    expect(scratch.data!.buffer.byteLength).toBeGreaterThan(0); // the largest image's buffer is kept for the next
  });

  it.skipIf(process.env.FDK_JPEG_ADDON === 'off')('greyscale JPEGs: replicated to 3 channels like sharp', async () => {
    const grey = await sharp(readFileSync(join(shared('images'), 'seed-sample.jpg'))).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const a = decodeImageNative(grey, { keepRgb: true })!;
    const b = await decodeImage(grey, 'grey.jpg', { keepRgb: true, decoder: 'sharp' });
    expect(same(a.data, b.data)).toBe(true);
  });

  it.skipIf(process.env.FDK_JPEG_ADDON === 'off')('declines EXIF rotation, CMYK, PNG and corrupt data; decodeImage answers through sharp', async () => {
    const jpeg = readFileSync(join(shared('images'), 'seed-sample.jpg'));
    const rotated = withOrientation(jpeg, 6);
    expect(decodeImageNative(rotated)).toBeNull();
    const r = await decodeImage(rotated, 'rotated.jpg');
    const plain = await decodeImage(jpeg, 'plain.jpg');
    expect([r.width, r.height]).toEqual([plain.height, plain.width]); // sharp applied the rotation
    expect(decodeImageNative(withOrientation(jpeg, 1))).not.toBeNull(); // orientation 1 = as stored
    const cmyk = await sharp(jpeg).toColourspace('cmyk').jpeg().toBuffer();
    expect(decodeImageNative(cmyk)).toBeNull();
    const png = await sharp(jpeg).png().toBuffer();
    expect(decodeImageNative(png)).toBeNull();
    const cut = jpeg.subarray(0, jpeg.length >> 1);
    expect(decodeImageNative(cut)).toBeNull();
    await expect(decodeImage(cut, 'cut.jpg')).rejects.toThrow(FdkError);
  });
});
