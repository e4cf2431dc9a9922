/**
 * Issue #15, items 1 and 17 (evaluation): names read from a crafted `.mat` ground truth never become
 * paths outside the output folder, and prediction values that make AP meaningless are refused or
 * warned about. Ground truths are generated here (fuzz/gen-mat.ts), predictions are written here.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, expectOneLineError } from './helpers/index.js';
import { widerGroundTruth, SMALL_GT, type GtEvent, rawMat, matrix, element, compressed, writeMat, MI, MX } from '../fuzz/gen-mat.js';
import { decodeMat } from '../src/accuracy/wider/mat.js';
import { loadGroundTruth, evaluateWider } from '../src/accuracy/wider/index.js';
import { parsePredictionText } from '../src/accuracy/wider/predictions.js';
import { confinedPath } from '../src/util/paths.js';

const root = mkdtempSync(join(tmpdir(), 'fdk-hostile-wider-'));

function gtDir(name: string, events: GtEvent[]): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  for (const [f, bytes] of Object.entries(widerGroundTruth(events))) writeFileSync(join(d, f), bytes);
  return d;
}

/** A prediction folder: key `event/name` -> file text. */
function predDir(name: string, files: Record<string, string>): string {
  const d = join(root, name);
  for (const [k, text] of Object.entries(files)) {
    mkdirSync(join(d, k.split('/')[0]), { recursive: true });
    writeFileSync(join(d, `${k}.txt`), text);
  }
  return d;
}

describe('ground-truth names are confined to the output folder', () => {
  const escape = join(root, 'escaped-here');
  const evil: GtEvent[] = [{ event: `../../../..${escape}`, images: [{ name: 'evil', boxes: [[1, 2, 3, 4]] }] }];

  it('a generated ground truth loads (so the refusals below are about the names)', () => {
    expect(loadGroundTruth(gtDir('good', SMALL_GT)).images.map((im) => im.key)).toContain('0--Parade/0_Parade_1');
  });

  it("an event named '../../../../tmp/x' is refused when the ground truth is read, and nothing is created", () => {
    const d = gtDir('evil', evil);
    expect(() => loadGroundTruth(d)).toThrow(/wider_face_val\.mat: not WIDER ground truth: event_list\{1\} '.*' contains a path separator/);
    const preds = predDir('preds-evil', { '0--Parade/0_Parade_1': '0_Parade_1\n0\n' });
    expectOneLineError(runCli(['eval', preds, '--gt', d]), /evil\/wider_face_val\.mat: not WIDER ground truth/);
    expect(existsSync(escape)).toBe(false);
  });

  it("an image named '..' or with a control character is refused; confinedPath refuses what leaves its root", () => {
    const dots = gtDir('dots', [{ event: 'ev', images: [{ name: '..', boxes: [[1, 2, 3, 4]] }] }]);
    expect(() => loadGroundTruth(dots)).toThrow(/file_list\{1\}\{1\} '\.\.' is '\.\.'/);
    const ctl = gtDir('ctl', [{ event: 'ev\u001b]0;x', images: [{ name: 'a', boxes: [[1, 2, 3, 4]] }] }]);
    expect(() => loadGroundTruth(ctl)).toThrow(/'ev\\x1b\]0;x' contains a control character/);
    expect(confinedPath('/out', 'ev/a.txt')).toBe('/out/ev/a.txt');
    expect(() => confinedPath('/out', '../../tmp/x/evil.txt')).toThrow(/would be written outside \/out/);
  });
});

describe('prediction values the evaluator cannot give a meaningful answer for', () => {
  const gt = gtDir('gt', SMALL_GT);

  it('negative box sizes and non-finite scores are refused with the file and the box', () => {
    expect(() => parsePredictionText('a\n2\n1 2 3 4 0.5\n10 10 -5 4 0.9\n', 'neg.txt')).toThrow(/neg\.txt: box 2 \(line 4\): negative box size -5 x 4/);
    expect(() => parsePredictionText('a\n1\n1 2 3 4 1e400\n', 'inf.txt')).toThrow(/inf\.txt: box 1 \(line 3\): score is Infinity/);
    const d = predDir('neg', { '0--Parade/0_Parade_1': '0_Parade_1\n1\n10 10 -40 50 0.9\n' });
    expectOneLineError(runCli(['eval', d, '--gt', gt]), /0_Parade_1\.txt: box 1 \(line 3\): negative box size/);
  });

  it('a box count the file cannot hold is refused before allocating', () => {
    expect(() => parsePredictionText('a\n99999999999\n1 2 3 4 0.5\n', 'count.txt')).toThrow(/count\.txt: line 2: box count 99999999999 is more than/);
  });

  it('scores outside [0, 1] and files for images outside the ground truth are warned about', () => {
    const good = {
      '0--Parade/0_Parade_1': '0_Parade_1\n2\n10 10 40 50 0.9\n100 20 30 30 0.8\n',
      '1--Handshaking/1_Handshaking_2': '1_Handshaking_2\n1\n30 30 64 64 0.7\n',
    };
    const clean = evaluateWider(predDir('clean', good), { gtDir: gt });
    expect(clean.warnings).toEqual([]);
    const hostile = evaluateWider(predDir('hostile', { ...good, '0--Parade/0_Parade_2': '0_Parade_2\n1\n5 5 20 25 1e308\n', '9--Other/stray': 'stray\n1\n1 1 5 5 0.5\n' }), { gtDir: gt });
    expect(hostile.warnings).toHaveLength(2);
    expect(hostile.warnings[0]).toMatch(/1 prediction file\(s\) for images not in the ground truth \(e\.g\. 9--Other\/stray\)/);
    expect(hostile.warnings[1]).toMatch(/1 score\(s\) outside \[0, 1\] \(range 0\.5 \.\. 1e\+308\)/);
    const r = runCli(['eval', join(root, 'hostile'), '--gt', gt, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^fdk: warning: 1 prediction file\(s\) for images not in the ground truth/m);
    expect(r.stderr).toMatch(/^fdk: warning: 1 score\(s\) outside \[0, 1\]/m);
  });
});

describe('a .mat whose sizes do not match its bytes is refused before allocating (fuzz: mat peaked at 2.9 GB)', () => {
  const int32 = (v: number) => Buffer.from(Int32Array.of(v).buffer);

  it('a char array of 10^7 empty rows, from 64 bytes, is refused by its dimensions', () => {
    const rows = rawMat(matrix('c', MX.CHAR, [10_000_000, 0], []));
    expect(() => decodeMat(rows, 'rows.mat')).toThrow(/^rows\.mat: corrupt MATLAB v5 file: array 'c' has dimension 10000000, more than its \d+ bytes can hold$/);
  });

  it('a struct with no fields and 2^30 elements, negative and fractional dimensions are refused', () => {
    const noFields = rawMat(matrix('s', MX.STRUCT, [2 ** 30, 1], [element(MI.INT32, int32(0)), element(MI.INT8, Buffer.alloc(0))]));
    expect(() => decodeMat(noFields, 'struct.mat')).toThrow(/struct\.mat: .*array 's' has dimension 1073741824, more than/);
    expect(() => decodeMat(rawMat(matrix('n', MX.DOUBLE, [-1, -1], [element(MI.DOUBLE, Buffer.alloc(8))])), 'neg.mat')).toThrow(/neg\.mat: .*dimension -1, expected a non-negative integer/);
  });

  it('a compressed element that inflates past 64x the file (a zlib bomb) is refused; the WIDER files stay far below', () => {
    const zeros = matrix('z', MX.UINT8, [1, 32 * 2 ** 20], [element(MI.UINT8, Buffer.alloc(32 * 2 ** 20))]);
    const bomb = rawMat(compressed(zeros));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(() => decodeMat(bomb, 'bomb.mat')).toThrow(/^bomb\.mat: corrupt MATLAB v5 file: compressed element at byte 128 inflates beyond 16777216 bytes/);
    // the same data uncompressed is accepted: the budget is about expansion, not size
    const small = rawMat(compressed(matrix('z', MX.UINT8, [1, 4096], [element(MI.UINT8, Buffer.alloc(4096, 7))])));
    expect((decodeMat(small, 'small.mat').get('z') as { data: Float64Array }).data[4095]).toBe(7);
    expect(writeMat({ ok: 'x' }).length).toBeGreaterThan(128);
  });
});
