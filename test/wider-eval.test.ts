/**
 * The WIDER evaluator against the official Python evaluator's numbers: the published seed RFB-320
 * prediction folder (full val) and the ten reference val-mini rows (subset semantics), plus the
 * MATLAB protocol, missing files and malformed prediction files.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { evaluateWider } from '../src/accuracy/wider/index.js';
import { parsePredictionText, readPredictionDir } from '../src/accuracy/wider/predictions.js';
import { shared, runCli, expectOneLineError } from './helpers/index.js';

const TOL = 1e-6;
const LIST = shared('wider', 'val-mini', 'list.txt');
const listKeys = () => readFileSync(LIST, 'utf8').split('\n').filter((l) => l.trim()).map((l) => l.trim().replace(/\.jpg$/, ''));

function expectAp(got: { easy: number; medium: number; hard: number }, want: { easy: number; medium: number; hard: number }, what: string) {
  for (const d of ['easy', 'medium', 'hard'] as const) {
    expect(Math.abs(got[d] - want[d]), `${what} ${d}: got ${got[d]}, want ${want[d]}`).toBeLessThanOrEqual(TOL);
  }
}

describe('fdk eval: the official Python evaluator numbers', () => {
  it('known-preds/seed-rfb-320 (full val, 3226 images)', () => {
    const expected = JSON.parse(readFileSync(shared('wider', 'known-preds', 'seed-rfb-320.expected.json'), 'utf8'));
    const r = runCli(['eval', shared('wider', 'known-preds', 'seed-rfb-320'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expectAp(out, expected.official_python_evaluator, 'seed-rfb-320');
    expect(out.images).toBe(3226);
    expect(out.missing).toBe(0);
    // PR curves: 1000 points per difficulty, recall non-decreasing as the threshold drops.
    for (const d of ['easy', 'medium', 'hard']) {
      const { precision, recall } = out.pr[d];
      expect(precision.length).toBe(1000);
      expect(recall.length).toBe(1000);
      for (let t = 1; t < 1000; t++) expect(recall[t]).toBeGreaterThanOrEqual(recall[t - 1]);
    }
    // The table output prints the same numbers.
    const table = runCli(['eval', shared('wider', 'known-preds', 'seed-rfb-320')]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(expected.official_python_evaluator.easy.toFixed(10));
  });

  const exp = JSON.parse(readFileSync(shared('wider', 'val-mini', 'expected.json'), 'utf8'));
  const expDir = dirname(shared('wider', 'val-mini', 'expected.json'));
  for (const [row, v] of Object.entries<any>(exp.rows)) {
    it(`val-mini --subset: ${row}`, () => {
      const predDir = resolve(expDir, v.reference_predictions);
      const r = evaluateWider(predDir, { subset: LIST });
      expectAp(r, v.val_mini, row);
      expect(r.images).toBe(listKeys().length);
      expect(r.missing).toBe(0);
    });
  }

  it('val-mini through the CLI (--subset, --json)', () => {
    const v = exp.rows['rfb-320'];
    const r = runCli(['eval', resolve(expDir, v.reference_predictions), '--subset', LIST, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expectAp(JSON.parse(r.stdout), v.val_mini, 'rfb-320 cli');
  });
});

describe('protocols and in-memory predictions', () => {
  const dir = shared('reference', 'pytorch', 'val-mini-preds', 'RFB-320');
  const keys = listKeys();
  const set = readPredictionDir(dir, { wanted: keys });

  it('an in-memory Map gives the same AP as the folder', () => {
    const fromDir = evaluateWider(dir, { subset: LIST });
    const map = new Map([...set.boxes].map(([k, b]) => [k, Float64Array.from(b)]));
    const fromMap = evaluateWider(map, { subset: LIST });
    expect(fromMap.easy).toBe(fromDir.easy);
    expect(fromMap.medium).toBe(fromDir.medium);
    expect(fromMap.hard).toBe(fromDir.hard);
    // Rows of 5 are accepted as well.
    const rows = new Map([...set.boxes].map(([k, b]) => [k, Array.from({ length: b.length / 5 }, (_, i) => Array.from(b.subarray(i * 5, i * 5 + 5)))]));
    expect(evaluateWider(rows, { subset: LIST }).hard).toBe(fromDir.hard);
  });

  it('--protocol matlab sorts each image by score; python uses file order', () => {
    const reversed = new Map<string, Float64Array>();
    for (const [k, b] of set.boxes) {
      const n = b.length / 5;
      const out = new Float64Array(b.length);
      for (let i = 0; i < n; i++) out.set(b.subarray(i * 5, i * 5 + 5), (n - 1 - i) * 5);
      reversed.set(k, out);
    }
    const inOrder = new Map(set.boxes);
    const matlabSorted = evaluateWider(inOrder, { subset: LIST, protocol: 'matlab' });
    const matlabReversed = evaluateWider(reversed, { subset: LIST, protocol: 'matlab' });
    expect(matlabReversed.easy).toBe(matlabSorted.easy);
    expect(matlabReversed.hard).toBe(matlabSorted.hard);
    const pythonReversed = evaluateWider(reversed, { subset: LIST, protocol: 'python' });
    // In file order, reversed boxes put low scores first: a different (worse) curve.
    expect(pythonReversed.hard).toBeLessThan(matlabSorted.hard - 1e-3);
  });

  it('--subset normalises scores over the listed images only', () => {
    const one = keys.slice(0, 40);
    const r = evaluateWider(dir, { subset: one });
    let min = 1, max = 0;
    for (const k of one) for (let i = 4; i < (set.boxes.get(k)?.length ?? 0); i += 5) {
      min = Math.min(min, set.boxes.get(k)![i]);
      max = Math.max(max, set.boxes.get(k)![i]);
    }
    expect(r.normalisation.min).toBe(min);
    expect(r.normalisation.max).toBe(max);
    expect(r.images).toBe(40);
  });
});

describe('bad prediction input', () => {
  const tmp = () => mkdtempSync(join(tmpdir(), 'fdk-wider-eval-'));

  it('missing prediction files count as zero detections, with a warning', () => {
    const src = shared('reference', 'pytorch', 'val-mini-preds', 'RFB-320');
    const dir = tmp();
    const keys = listKeys();
    const dropped = new Set(keys.filter((_, i) => i % 50 === 7)); // 10 of 488
    for (const k of keys) {
      if (dropped.has(k)) continue;
      mkdirSync(join(dir, dirname(k)), { recursive: true });
      symlinkSync(join(src, `${k}.txt`), join(dir, `${k}.txt`));
    }
    const r = runCli(['eval', dir, '--subset', LIST, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.missing).toBe(dropped.size);
    expect(r.stderr).toMatch(new RegExp(`warning: ${dropped.size} of ${keys.length} prediction files missing`));
    // Same as evaluating in memory with those images present but empty.
    const set = readPredictionDir(src, { wanted: keys });
    for (const k of dropped) set.boxes.set(k, new Float64Array(0));
    const ref = evaluateWider(set.boxes, { subset: LIST });
    expect(out.hard).toBe(ref.hard);
    expect(out.easy).toBe(ref.easy);
    expect(out.hard).toBeLessThan(evaluateWider(src, { subset: LIST }).hard);
  });

  it('a malformed line is one error naming the file and line', () => {
    const dir = tmp();
    mkdirSync(join(dir, '0--Parade'));
    const file = join(dir, '0--Parade', '0_Parade_Parade_0_12.txt');
    writeFileSync(file, '0_Parade_Parade_0_12\n3\n729 133 44 59 0.99\n482 166 40 oops 0.98\n1 2 3 4 0.5\n');
    expectOneLineError(runCli(['eval', dir]), /0_Parade_Parade_0_12\.txt: line 4: 'oops' is not a number/);
    // The other cases in-process (same FdkError the CLI prints).
    const parse = (text: string) => () => parsePredictionText(text, 'p.txt');
    expect(parse('x\n3\n729 133 44 59 0.99\n482 166 40\n')).toThrow(/p\.txt: line 4: expected 'x y w h score'/);
    expect(parse('x\n3\n729 133 44 59 0.99\n')).toThrow(/p\.txt: line 2 says 3 boxes but the file has 1/);
    expect(parse('x\n1\n1 2 3 4 0.5\n5 6 7 8 0.4\n')).toThrow(/p\.txt: line 4: more box lines than the count 1/);
    expect(parse('x\nmany\n')).toThrow(/p\.txt: line 2: box count 'many'/);
    expect(parse('x\n1\n1 2 0x10 4 0.5\n')).toThrow(/p\.txt: line 3: '0x10' is not a number/);
    expect(parse('')).toThrow(/p\.txt: empty prediction file/);
    expect(parse('x')).toThrow(/p\.txt: line 2: missing box count/);
    // Accepted like the evaluator: trailing spaces, CRLF, blank lines, extra columns, exponents.
    expect(Array.from(parse('x\r\n2\r\n1 2 3 4 0.5 \r\n\n-5 6.5 7 8 1e-3 9 9\n')())).toEqual([1, 2, 3, 4, 0.5, -5, 6.5, 7, 8, 0.001]);
  });

  it('a missing folder, an empty folder and a bad protocol are one-line errors', () => {
    expectOneLineError(runCli(['eval', '/nonexistent/preds']), /\/nonexistent\/preds: no such file/);
    expectOneLineError(runCli(['eval', tmp()]), /no prediction files found/);
    expectOneLineError(runCli(['eval', LIST]), /list\.txt: is a file, expected a prediction folder/);
    expectOneLineError(runCli(['eval', tmp(), '--protocol', 'octave']), /--protocol must be python or matlab/);
  });
});

/**
 * A literal port of the Python evaluator's loops (full IoU matrix, 1000 thresholds per image),
 * kept here to check the fast cumulative evaluator on synthetic predictions built to hit the edge
 * cases: IoUs around 0.5, unsorted boxes, tied scores, tiny and huge boxes, empty images.
 */
describe('fast evaluator equals the literal algorithm', () => {
  function literal(gtImages: { boxes: Float64Array; faces: number; keep: Record<string, Int32Array> }[], preds: (Float64Array | undefined)[]) {
    let max = 0, min = 1;
    for (const p of preds) if (p && p.length) for (let i = 4; i < p.length; i += 5) { max = Math.max(max, p[i]); min = Math.min(min, p[i]); }
    const norm = preds.map((p) => p && Float64Array.from(p, (v, i) => (i % 5 === 4 ? (v - min) / (max - min) : v)));
    const out: number[] = [];
    for (const d of ['easy', 'medium', 'hard']) {
      const curve = Array.from({ length: 1000 }, () => [0, 0]);
      let count = 0;
      gtImages.forEach((im, ii) => {
        const p = norm[ii];
        count += im.keep[d].length;
        if (!p || p.length === 0 || im.faces === 0) return;
        const n = p.length / 5;
        const ignore = new Array(im.faces).fill(0);
        for (const k of im.keep[d]) ignore[k] = 1;
        const recall = new Array(im.faces).fill(0);
        const proposal = new Array(n).fill(1);
        const predRecall = new Array(n).fill(0);
        for (let h = 0; h < n; h++) {
          let best = -1, bi = 0;
          for (let k = 0; k < im.faces; k++) {
            const [x1, y1] = [p[h * 5], p[h * 5 + 1]];
            const [x2, y2] = [p[h * 5 + 2] + x1, p[h * 5 + 3] + y1];
            const [qx1, qy1] = [im.boxes[k * 4], im.boxes[k * 4 + 1]];
            const [qx2, qy2] = [im.boxes[k * 4 + 2] + qx1, im.boxes[k * 4 + 3] + qy1];
            let o = 0;
            const iw = Math.min(x2, qx2) - Math.max(x1, qx1) + 1;
            const ih = Math.min(y2, qy2) - Math.max(y1, qy1) + 1;
            if (iw > 0 && ih > 0) o = (iw * ih) / ((x2 - x1 + 1) * (y2 - y1 + 1) + (qx2 - qx1 + 1) * (qy2 - qy1 + 1) - iw * ih);
            if (o > best) { best = o; bi = k; }
          }
          if (best >= 0.5) {
            if (ignore[bi] === 0) { recall[bi] = -1; proposal[h] = -1; }
            else if (recall[bi] === 0) recall[bi] = 1;
          }
          predRecall[h] = recall.filter((r) => r === 1).length;
        }
        for (let t = 0; t < 1000; t++) {
          const thresh = 1 - (t + 1) / 1000;
          let r = -1;
          for (let h = 0; h < n; h++) if (p[h * 5 + 4] >= thresh) r = h;
          if (r < 0) continue;
          curve[t][0] += proposal.slice(0, r + 1).filter((v) => v === 1).length;
          curve[t][1] += predRecall[r];
        }
      });
      const rec = curve.map((c) => c[1] / count);
      const prec = curve.map((c) => c[1] / c[0]);
      const mrec = [0, ...rec, 1], mpre = [0, ...prec, 0];
      for (let i = mpre.length - 1; i > 0; i--) mpre[i - 1] = Number.isNaN(mpre[i - 1]) || Number.isNaN(mpre[i]) ? NaN : Math.max(mpre[i - 1], mpre[i]);
      let ap = 0;
      for (let i = 0; i < mrec.length - 1; i++) if (mrec[i + 1] !== mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
      out.push(ap);
    }
    return out;
  }

  it('on 300 images with synthetic predictions', async () => {
    const { groundTruth } = await import('../src/accuracy/wider/index.js');
    const gt = groundTruth(shared('wider', 'ground_truth'));
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const images = gt.images.filter((_, i) => i % 11 === 3).slice(0, 300);
    const preds = new Map<string, Float64Array>();
    for (const im of images) {
      if (rnd() < 0.05) continue; // some images without any prediction file
      const rows: number[] = [];
      for (let k = 0; k < im.faces; k++) {
        if (rnd() < 0.3) continue;
        const [x, y, w, h] = im.boxes.subarray(k * 4, k * 4 + 4);
        // Jitter around the face: many IoUs land near 0.5; integer and fractional coordinates.
        const j = (s: number) => (rnd() - 0.5) * s * 0.5;
        const frac = rnd() < 0.5;
        const q = (v: number) => (frac ? v : Math.round(v));
        rows.push(q(x + j(w)), q(y + j(h)), Math.max(1, q(w * (0.7 + rnd() * 0.6))), Math.max(1, q(h * (0.7 + rnd() * 0.6))), Math.round(rnd() * 50) / 50);
      }
      for (let r = 0; r < 5; r++) rows.push(rnd() * 1000, rnd() * 800, 1 + rnd() * 300, 1 + rnd() * 300, rnd()); // background
      // shuffle rows (unsorted scores)
      const n = rows.length / 5;
      const order = Array.from({ length: n }, (_, i) => i).sort(() => rnd() - 0.5);
      preds.set(im.key, Float64Array.from(order.flatMap((i) => rows.slice(i * 5, i * 5 + 5))));
    }
    const fast = evaluateWider(preds, { gtDir: shared('wider', 'ground_truth'), subset: images.map((im) => im.key) });
    const ref = literal(images, images.map((im) => preds.get(im.key)));
    expect(Math.abs(fast.easy - ref[0])).toBeLessThan(1e-12);
    expect(Math.abs(fast.medium - ref[1])).toBeLessThan(1e-12);
    expect(Math.abs(fast.hard - ref[2])).toBeLessThan(1e-12);
    expect(fast.missing).toBeGreaterThan(0);
    expect(fast.hard).toBeGreaterThan(0.1); // the synthetic set does recall faces
  });
});
