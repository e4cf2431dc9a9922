/**
 * The live anchor of `npm run bench:accuracy` (perf/seed-anchor.ts): the folder comparison on real
 * prediction folders, the one-line errors, and — where the seed mirror and the bench venv (torch,
 * opencv) exist — the seed's own test_widerface.py run on a few val-mini images, compared with fdk's
 * predictions for the same images.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { comparePredFolders, DEFAULT_SEED_PYTHON, DEFAULT_SEED_REPO, prepareSeed, runSeed } from '../perf/seed-anchor.js';
import { runAccuracy } from '../src/accuracy/run.js';
import { expectOneLineError, ROOT, shared, TSX, type CliResult } from './helpers/index.js';

const mini = shared('wider/val-mini');
const keys = readFileSync(join(mini, 'list.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => l.replace(/\.jpg$/, ''));
const refSlim = shared('reference/pytorch/val-mini-preds/slim-320');

function runBench(args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const p = spawn(process.execPath, ['--import', TSX, resolve(ROOT, 'perf/accuracy.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

describe('live anchor: the seed pipeline beside fdk', () => {
  it('comparePredFolders: identical folders, a changed score, a changed box, a missing file', () => {
    const same = comparePredFolders(refSlim, refSlim, keys);
    expect(same).toMatchObject({ files: 488, identical: 488, different: 0, missing: 0 });

    const copy = mkdtempSync(join(tmpdir(), 'fdk-anchor-'));
    cpSync(refSlim, copy, { recursive: true });
    const edit = (k: string, f: (lines: string[]) => void) => {
      const p = join(copy, `${k}.txt`);
      const lines = readFileSync(p, 'utf8').split('\n');
      f(lines);
      writeFileSync(p, lines.join('\n'));
    };
    // same box, score 1e-6 lower; another file: x1 one pixel further; a third: same values, other spacing
    edit(keys[0], (l) => (l[2] = l[2].replace(/(\S+) $/, (_m, s: string) => `${(Number(s) - 1e-6).toPrecision(8)} `)));
    edit(keys[1], (l) => (l[3] = l[3].replace(/^(\d+)/, (_m, x: string) => String(Number(x) + 1))));
    edit(keys[2], (l) => (l[2] = l[2].replace(/ $/, '')));
    const c = comparePredFolders(refSlim, copy, keys);
    expect(c.identical).toBe(485);
    expect(c.sameValues).toBe(1);
    expect(c.different).toBe(2);
    expect(c.boxLines).toBe(1);
    expect(c.scoreLines).toBe(1);
    expect(c.maxScoreDiff).toBeGreaterThan(0.9e-6);
    expect(c.maxScoreDiff).toBeLessThan(1.1e-6);
    expect(c.examples.map((e) => e.split(':')[0])).toEqual([keys[0], keys[1]]);

    const missing = comparePredFolders(refSlim, copy, [...keys.slice(0, 3), 'no--event/none']);
    expect(missing.missing).toBe(1);
  });

  it('bad input: a missing seed repository, a folder that is no git repository, an unknown row', async () => {
    expect(() => prepareSeed('/nonexistent/seed')).toThrow(/^\/nonexistent\/seed: seed repository not found: pass --seed-repo DIR/);
    expect(() => prepareSeed(mkdtempSync(join(tmpdir(), 'fdk-noseed-')))).toThrow(/not a git repository/);
    const fakeSeed = { repo: '', commit: '', dir: '', wrapper: '' };
    await expect(runSeed(fakeSeed, { row: 'ulfd-slim-320', imagesDir: mini, keys, predDir: tmpdir(), dataDir: shared() })).rejects.toThrow("the seed pipeline has no row 'ulfd-slim-320'");
    expectOneLineError(await runBench(['--skip-mini', '--skip-eval', '--limit', '2', '--seed-repo', '/nonexistent/seed']), '/nonexistent/seed: seed repository not found');
  }, 60_000);

  it.runIf(existsSync(DEFAULT_SEED_REPO) && existsSync(DEFAULT_SEED_PYTHON))(
    "the seed's test_widerface.py on 4 val-mini images: the same detections as fdk up to float rounding",
    async () => {
      const few = keys.slice(0, 4);
      const seed = prepareSeed(DEFAULT_SEED_REPO);
      expect(existsSync(join(seed.dir, 'test_widerface.py'))).toBe(true);
      const out = mkdtempSync(join(tmpdir(), 'fdk-anchor-'));
      const s = await runSeed(seed, { row: 'slim-320', imagesDir: join(mini, 'images'), keys: few, predDir: join(out, 'seed'), dataDir: shared() });
      expect(s.torch).toMatch(/^\d+\.\d+/);
      expect(s.forwardMs).toBeGreaterThan(0);
      const list = join(out, 'list.txt');
      writeFileSync(list, few.map((k) => `${k}.jpg`).join('\n'));
      const r = await runAccuracy({ models: ['slim'], longSides: [320], subset: list, jobs: 1, outDir: join(out, 'fdk') });
      const c = comparePredFolders(s.predDir, r.rows[0].predDir, few);
      expect(c.missing).toBe(0);
      // onnxruntime and PyTorch round differently: the same number of boxes per image, scores within
      // 1e-5, and at most 0.5% of the boxes one integer pixel apart
      expect(c.lines).toBeGreaterThan(500);
      for (const k of few) expect(readFileSync(join(s.predDir, `${k}.txt`), 'utf8').split('\n')[1]).toBe(readFileSync(join(r.rows[0].predDir, `${k}.txt`), 'utf8').split('\n')[1]);
      expect(c.maxScoreDiff).toBeLessThan(1e-5);
      expect(c.boxLines).toBeLessThanOrEqual(0.005 * c.lines);
    },
    600_000,
  );
});
