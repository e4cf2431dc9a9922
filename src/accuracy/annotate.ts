/**
 * Annotated copies of images the way the seed's detect.py draws them: a red box per face, the
 * score above its top-left corner, and the five landmarks as dots in red, yellow, magenta, green,
 * blue (cv2 BGR (0,0,255), (0,255,255), (255,0,255), (0,255,0), (255,0,0)).
 * Drawn as an SVG overlay composited by sharp, encoded in the input's format.
 */
import sharp from 'sharp';
import { extname } from 'node:path';
import type { BgrImage } from './image.js';
import type { Detection } from './pipeline.js';

const LANDMARK_COLOURS = ['rgb(255,0,0)', 'rgb(255,255,0)', 'rgb(255,0,255)', 'rgb(0,255,0)', 'rgb(0,0,255)'];

export function overlaySvg(width: number, height: number, dets: Detection[]): string {
  const parts: string[] = [];
  for (const d of dets) {
    // detect.py draws at int() of the float coordinates
    const [x1, y1, x2, y2] = d.box.map((v) => Math.trunc(v));
    parts.push(`<rect x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none" stroke="rgb(255,0,0)" stroke-width="2"/>`);
    parts.push(`<text x="${x1}" y="${y1 + 12}" font-family="sans-serif" font-size="12" fill="white">${d.score.toFixed(4)}</text>`);
    d.landmarks?.forEach(([x, y], k) => parts.push(`<circle cx="${Math.trunc(x)}" cy="${Math.trunc(y)}" r="2.5" fill="${LANDMARK_COLOURS[k % 5]}"/>`));
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** Encodes `image` with the detections drawn, as JPEG (4:4:4, so thin lines keep their colour) or PNG. */
export async function annotate(image: BgrImage, dets: Detection[], outPath: string): Promise<Uint8Array> {
  const rgb = Buffer.alloc(image.data.length);
  if (image.rgb) rgb.set(image.data);
  else for (let i = 0; i < rgb.length; i += 3) {
    rgb[i] = image.data[i + 2];
    rgb[i + 1] = image.data[i + 1];
    rgb[i + 2] = image.data[i];
  }
  let img = sharp(rgb, { raw: { width: image.width, height: image.height, channels: 3 } }).composite([
    { input: Buffer.from(overlaySvg(image.width, image.height, dets)), top: 0, left: 0 },
  ]);
  const ext = extname(outPath).toLowerCase();
  img = ext === '.png' ? img.png() : img.jpeg({ quality: 95, chromaSubsampling: '4:4:4' });
  return new Uint8Array(await img.toBuffer());
}
