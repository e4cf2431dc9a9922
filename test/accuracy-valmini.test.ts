/**
 * `fdk accuracy` on the val-mini subset (488 images): rows land within ±0.002 of the re-run of the
 * original pipelines (wider/val-mini/expected.json), and the prediction files agree with the
 * reference predictions of those runs. Two rows here (one per family, 320) keep the test near a
 * minute on 2 cores; all ten rows are checked by the CI report (`fdk accuracy --check`).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parsePredictionText } from '../src/accuracy/wider/index.js';
import { formatAccuracy } from '../src/cli/accuracy.js';
import type { AccuracyResult } from '../src/accuracy/run.js';
import { expectOneLineError, ROOT, runCli, shared, type CliResult } from './helpers/index.js';

/** runCli without blocking the test worker for a minute (vitest's RPC times out under spawnSync). */
function runCliAsync(args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const p = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'src/cli/entry.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', FORCE_COLOR: '0' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

const expected = JSON.parse(readFileSync(shared('wider/val-mini/expected.json'), 'utf8')) as {
  rows: Record<string, { val_mini: { easy: number; medium: number; hard: number }; reference_predictions: string }>;
};

describe('fdk accuracy on val-mini', () => {
  it('mnet0.25-320 and ulfd-rfb-320 within ±0.002 of the re-run, predictions match the reference files; seed-layout table', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fdk-acc-'));
    const r = await runCliAsync(['accuracy', '--model', 'mnet0.25,ulfd-rfb', '--long-side', '320', '--jobs', '2', '--out', out, '--json', '--check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { set: string; images: number; rows: { row: string; ap: Record<string, number>; rerun: Record<string, number>; withinTolerance: boolean; predDir: string }[] };
    expect(j.set).toBe('val-mini');
    expect(j.images).toBe(488);
    // the workers decode with the libjpeg-turbo addon when it is built (scripts/build-native.sh)
    expect((j as unknown as AccuracyResult).decoder).toBe(process.env.FDK_JPEG_ADDON === 'off' ? 'sharp' : 'libjpeg-turbo');
    expect(j.rows.map((x) => x.row).sort()).toEqual(['mnet0.25-320', 'ulfd-rfb-320']);
    for (const row of j.rows) {
      const want = expected.rows[row.row].val_mini;
      expect(row.rerun).toEqual(want);
      for (const k of ['easy', 'medium', 'hard'] as const) expect(Math.abs(row.ap[k] - want[k])).toBeLessThanOrEqual(0.002);
      expect(row.withinTolerance).toBe(true);
      expect(row.predDir).toBe(join(out, row.row));

      // per-image: box counts of our files vs the original run's files (debugging aid as a check)
      const refDir = join(shared('wider/val-mini'), expected.rows[row.row].reference_predictions);
      const list = readFileSync(shared('wider/val-mini/list.txt'), 'utf8').split('\n').filter(Boolean);
      let close = 0;
      for (const l of list) {
        const name = l.trim().replace(/\.jpg$/, '.txt');
        const mine = parsePredictionText(readFileSync(join(row.predDir, name), 'utf8'), name).length / 5;
        const ref = parsePredictionText(readFileSync(join(refDir, name), 'utf8'), name).length / 5;
        if (Math.abs(mine - ref) <= Math.max(1, 0.02 * ref)) close++;
      }
      expect(close / list.length).toBeGreaterThanOrEqual(0.98);
    }

    // throughput: images/s and the per-stage split of every row, in --json and in the table
    for (const row of j.rows as unknown as AccuracyResult['rows']) {
      expect(row.imagesPerSecond).toBeCloseTo(row.images / row.seconds, 6);
      for (const k of ['decodeMs', 'preprocessMs', 'inferenceMs', 'postprocessMs', 'formatMs'] as const) expect(row.split[k]).toBeGreaterThan(0);
      expect(row.meanInferenceMs).toBe(row.split.inferenceMs);
      expect(row.writeSeconds).toBeGreaterThan(0);
      expect(row.writeSeconds).toBeLessThan(row.seconds);
    }
    // the text table (what the command prints without --json) in the seed README's layout
    const table = formatAccuracy(j as unknown as AccuracyResult);
    expect(table).toMatch(/Long side 320/);
    expect(table).toMatch(/libfacedetection v1 \(caffe\)/);
    expect(table.indexOf('version-RFB (original)')).toBeLessThan(table.indexOf('Retinaface-Mobilenet-0.25 (our)'));
    expect(table).toMatch(/0\.811 \/ 0\.697 \/ 0\.376/); // published mnet0.25-320
    expect(table).toMatch(/0\.8482 \/ 0\.7431 \/ 0\.4809/); // re-run on val-mini
    expect(table).toMatch(/2 of 2 rows within ±0\.002/);
    expect(table).toMatch(/mnet0\.25-320 +[\d.]+ images\/s +[\d.]+ \/ [\d.]+ \/ [\d.]+ \/ [\d.]+ \/ [\d.]+ +\(writing/);
  }, 300_000);

  it('bad input: unknown model id, bad long side, Ultra-Light size without weights, missing WIDER folder, unknown runtime', () => {
    expectOneLineError(runCli(['accuracy', '--model', 'nope']), "unknown model id 'nope'");
    expectOneLineError(runCli(['accuracy', '--model', 'slim', '--long-side', 'big']), "bad --long-side 'big'");
    expectOneLineError(runCli(['accuracy', '--model', 'ulfd-slim', '--long-side', '480']), 'no 480 variant');
    expectOneLineError(runCli(['accuracy', '--model', 'slim', '--wider-dir', '/nonexistent/wider']), '/nonexistent/wider');
    expectOneLineError(runCli(['accuracy', '--model', 'slim', '--runtime', 'tflite']), "unknown runtime 'tflite'");
  }, 120_000);
});
