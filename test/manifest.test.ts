import { describe, it, expect } from 'vitest';
import { loadManifest, verifyModel, getModel, modelFile } from '../src/models/manifest.js';
import { mkdtempSync, cpSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { resolveDataDir } from '../src/util/data.js';

describe('model manifest', () => {
  it('covers the seed models and the Ultra-Light originals', () => {
    const ids = loadManifest().map((m) => m.id);
    for (const id of ['slim', 'rfb', 'mnet0.25', 'ulfd-slim-320', 'ulfd-rfb-320', 'ulfd-slim-640', 'ulfd-rfb-640']) expect(ids).toContain(id);
  });
  it('verifies every file of the shared data by sha256', () => {
    for (const m of loadManifest()) expect(verifyModel(m).ok, m.id).toBe(true);
  });
  it('reports a wrong checksum and a missing file per model', () => {
    const data = mkdtempSync(join(tmpdir(), 'fdk-data-'));
    const m = getModel('rfb');
    const src = join(resolveDataDir()!, m.files.pth!.path);
    const dst = join(data, m.files.pth!.path);
    mkdirSync(dirname(dst), { recursive: true });
    cpSync(src, dst);
    writeFileSync(dst, Buffer.from('corrupted'), { flag: 'r+' });
    const r = verifyModel(m, data);
    expect(r.ok).toBe(false);
    expect(r.files[0].status).toBe('checksum-mismatch');
    expect(() => modelFile(m, 'pth', data)).toThrow(/sha256 mismatch for model 'rfb'/);
    expect(verifyModel(getModel('slim'), data).files[0].status).toBe('missing');
  });
});
