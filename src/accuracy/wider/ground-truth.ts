/**
 * WIDER FACE val ground truth from the four .mat files distributed with the evaluation tools:
 * wider_face_val.mat (event_list, file_list, face_bbx_list) and wider_{easy,medium,hard}_val.mat
 * (gt_list: per image, the 1-based indices of the faces that count at that difficulty; the other
 * faces of the image are "ignore" faces). Plus subsets given by a list file of `event/name.jpg`.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { FdkError } from '../../util/errors.js';
import { fsError } from '../../util/fs.js';
import { readMat, type MatCell, type MatValue } from './mat.js';
import { badPathSegment } from '../../util/paths.js';
import { escapeName } from '../../util/errors.js';

export const DIFFICULTIES = ['easy', 'medium', 'hard'] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

export interface WiderImage {
  event: string;
  /** File name without `.jpg`, as in file_list. */
  name: string;
  /** `event/name`: the key predictions are looked up by. */
  key: string;
  /** Face boxes x, y, w, h, row-major (n × 4), as float64 like the Python evaluator's astype('float'). */
  boxes: Float64Array;
  faces: number;
  /** 0-based indices of the faces that count, per difficulty. */
  keep: Record<Difficulty, Int32Array>;
}

export interface WiderGroundTruth {
  dir: string;
  events: string[];
  /** In ground-truth order: event by event, file_list order within an event (the evaluators' order). */
  images: WiderImage[];
  byKey: Map<string, WiderImage>;
}

export const GT_FILES = {
  face: 'wider_face_val.mat',
  easy: 'wider_easy_val.mat',
  medium: 'wider_medium_val.mat',
  hard: 'wider_hard_val.mat',
} as const;

function notWider(file: string, why: string): FdkError {
  return new FdkError(`not WIDER ground truth: ${why}`, { file });
}

function cellVar(vars: Map<string, MatValue>, name: string, file: string): MatCell {
  const v = vars.get(name);
  if (!v) throw notWider(file, `no ${name}`);
  if (v.kind !== 'cell') throw notWider(file, `${name} is a ${v.kind} array, expected a cell array`);
  return v;
}

function asCell(v: MatValue, what: string, file: string): MatCell {
  if (v.kind !== 'cell') throw notWider(file, `${what} is a ${v.kind} array, expected a cell array`);
  return v;
}

function asString(v: MatValue, what: string, file: string): string {
  if (v.kind !== 'char' || v.rows.length !== 1) throw notWider(file, `${what} is not a string`);
  return v.rows[0];
}

/**
 * Event and image names become folder and file names of prediction folders: each must be a single
 * path component (no `..`, no separator), else a crafted file could write outside --out.
 */
function asPathName(v: MatValue, what: string, file: string): string {
  const s = asString(v, what, file);
  const bad = badPathSegment(s);
  if (bad) throw notWider(file, `${what} '${escapeName(s)}' ${bad}: not usable as a file name`);
  return s;
}

/** Loads the four ground-truth files of `dir`. */
export function loadGroundTruth(dir: string): WiderGroundTruth {
  const facePath = join(dir, GT_FILES.face);
  const face = readMat(facePath, { only: ['event_list', 'file_list', 'face_bbx_list'] });
  // face_bbx_list first: it is what makes a file WIDER ground truth (the difficulty files carry it too).
  const bbxList = cellVar(face, 'face_bbx_list', facePath);
  const eventList = cellVar(face, 'event_list', facePath);
  const fileList = cellVar(face, 'file_list', facePath);
  const nEvents = eventList.cells.length;
  if (fileList.cells.length !== nEvents || bbxList.cells.length !== nEvents)
    throw notWider(facePath, `event_list has ${nEvents} events but file_list ${fileList.cells.length}, face_bbx_list ${bbxList.cells.length}`);

  const events: string[] = [];
  const images: WiderImage[] = [];
  for (let i = 0; i < nEvents; i++) {
    const event = asPathName(eventList.cells[i], `event_list{${i + 1}}`, facePath);
    events.push(event);
    const files = asCell(fileList.cells[i], `file_list{${i + 1}}`, facePath);
    const bbx = asCell(bbxList.cells[i], `face_bbx_list{${i + 1}}`, facePath);
    if (files.cells.length !== bbx.cells.length)
      throw notWider(facePath, `event ${event}: ${files.cells.length} files but ${bbx.cells.length} box lists`);
    for (let j = 0; j < files.cells.length; j++) {
      const name = asPathName(files.cells[j], `file_list{${i + 1}}{${j + 1}}`, facePath);
      const b = bbx.cells[j];
      if (b.kind !== 'numeric') throw notWider(facePath, `face_bbx_list{${i + 1}}{${j + 1}} is not numeric`);
      const n = b.data.length === 0 ? 0 : b.dims[0];
      if (b.data.length !== 0 && (b.dims.length !== 2 || b.dims[1] !== 4))
        throw notWider(facePath, `face_bbx_list{${i + 1}}{${j + 1}} is ${b.dims.join('x')}, expected N x 4`);
      // Column-major N×4 -> row-major x, y, w, h.
      const boxes = new Float64Array(n * 4);
      for (let r = 0; r < n; r++) for (let c = 0; c < 4; c++) boxes[r * 4 + c] = b.data[r + c * n];
      const empty = new Int32Array(0);
      images.push({ event, name, key: `${event}/${name}`, boxes, faces: n, keep: { easy: empty, medium: empty, hard: empty } });
    }
  }

  for (const d of DIFFICULTIES) {
    const path = join(dir, GT_FILES[d]);
    const gtList = cellVar(readMat(path, { only: ['gt_list'] }), 'gt_list', path);
    if (gtList.cells.length !== nEvents) throw notWider(path, `gt_list has ${gtList.cells.length} events, ${GT_FILES.face} has ${nEvents}`);
    let k = 0;
    for (let i = 0; i < nEvents; i++) {
      const perImage = asCell(gtList.cells[i], `gt_list{${i + 1}}`, path);
      for (let j = 0; j < perImage.cells.length; j++, k++) {
        const img = images[k];
        if (!img || img.event !== events[i])
          throw notWider(path, `gt_list{${i + 1}} has more images than event ${events[i]} in ${GT_FILES.face}`);
        const v = perImage.cells[j];
        if (v.kind !== 'numeric') throw notWider(path, `gt_list{${i + 1}}{${j + 1}} is not numeric`);
        const keep = new Int32Array(v.data.length);
        for (let q = 0; q < v.data.length; q++) {
          const idx = v.data[q];
          if (!Number.isInteger(idx) || idx < 1 || idx > img.faces)
            throw notWider(path, `gt_list{${i + 1}}{${j + 1}} has face index ${idx}, image ${img.key} has ${img.faces} faces`);
          keep[q] = idx - 1;
        }
        img.keep[d] = keep;
      }
      if (k < images.length && images[k].event === events[i])
        throw notWider(path, `gt_list{${i + 1}} has ${perImage.cells.length} images, fewer than event ${events[i]} in ${GT_FILES.face}`);
    }
  }
  return { dir, events, images, byKey: new Map(images.map((im) => [im.key, im])) };
}

/** Image key `event/name` from a list-file entry or path (`event/name.jpg`, with or without the extension). */
export function imageKey(entry: string): string {
  const parts = entry.trim().replace(/\\/g, '/').split('/').filter(Boolean);
  const last = parts.pop() ?? '';
  const event = parts.pop() ?? '';
  return `${event}/${last.replace(/\.(jpe?g|png|txt)$/i, '')}`;
}

/**
 * Reads a subset list file (`event/name.jpg` per line; blank lines and `#` comments skipped) and
 * checks every entry against the ground truth. Returns keys in file order, without duplicates.
 */
export function readSubsetList(path: string, gt: WiderGroundTruth): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw fsError(e, path);
  }
  const keys: string[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const key = imageKey(line);
    if (!gt.byKey.has(key)) throw new FdkError(`line ${i + 1}: '${line}' is not an image of the WIDER ground truth`, { file: path });
    if (!seen.has(key)) {
      seen.add(key);
      keys.push(key);
    }
  });
  if (keys.length === 0) throw new FdkError('subset list has no images', { file: path });
  return keys;
}
