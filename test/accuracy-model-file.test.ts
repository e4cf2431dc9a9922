/**
 * `fdk accuracy` on model files with a description: a Linzaer ONNX (with its own decoding tail)
 * given as a plain file with `--spec` gives its manifest row's val-mini AP; `--arch --weights`
 * evaluates a checkpoint of a known architecture and writes the same predictions as the manifest
 * model it is the checkpoint of.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getModel } from '../src/models/manifest.js';
import { runCliAsync } from './helpers/cli-async.js';
import { shared } from './helpers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'fdk-accfile-'));
const expected = JSON.parse(readFileSync(shared('wider/val-mini/expected.json'), 'utf8')) as { rows: Record<string, { val_mini: Record<string, number> }> };

describe('fdk accuracy --model-file / --arch --weights', () => {
  it('version-RFB-320.onnx (decoding tail in the graph) + --spec: val-mini AP of the ulfd-rfb-320 row (±0.0005)', async () => {
    const spec = join(dir, 'rfb-320.json');
    writeFileSync(spec, JSON.stringify({ ...getModel('ulfd-rfb-320').description, name: 'linzaer-rfb-320' }));
    const r = await runCliAsync(['accuracy', '--model-file', shared('models/ultra-light-1mb/onnx/version-RFB-320.onnx'), '--spec', spec, '--jobs', '2', '--out', dir, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { rows: { row: string; ap: Record<string, number> }[] };
    expect(j.rows.map((x) => x.row)).toEqual(['linzaer-rfb-320']);
    const want = expected.rows['ulfd-rfb-320'].val_mini;
    for (const k of ['easy', 'medium', 'hard']) expect(Math.abs(j.rows[0].ap[k] - want[k])).toBeLessThanOrEqual(0.0005);
  });

  it('--arch slim --weights slim_Final.pth: byte-identical predictions to --model slim (30 images)', async () => {
    const list = join(dir, 'sub30.txt');
    writeFileSync(list, readFileSync(shared('wider/val-mini/list.txt'), 'utf8').split('\n').slice(100, 130).join('\n') + '\n');
    const a = await runCliAsync(['accuracy', '--arch', 'slim', '--weights', shared('models/retinaface-1mb/slim_Final.pth'), '--long-side', '320', '--subset', list, '--jobs', '1', '--out', join(dir, 'arch'), '--json']);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const b = await runCliAsync(['accuracy', '--model', 'slim', '--long-side', '320', '--subset', list, '--jobs', '1', '--out', join(dir, 'manifest'), '--json']);
    expect(b.code).toBe(0);
    const ra = (JSON.parse(a.stdout) as { rows: { row: string; predDir: string; ap: unknown }[] }).rows[0];
    const rb = (JSON.parse(b.stdout) as { rows: { row: string; predDir: string; ap: unknown }[] }).rows[0];
    expect(ra.row).toBe('slim_Final-320');
    expect(ra.ap).toEqual(rb.ap);
    for (const ev of readdirSync(rb.predDir))
      for (const f of readdirSync(join(rb.predDir, ev))) expect(readFileSync(join(ra.predDir, ev, f), 'utf8')).toBe(readFileSync(join(rb.predDir, ev, f), 'utf8'));
  });
});
