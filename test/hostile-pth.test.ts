/**
 * Issue #15, items 11, 13 and 16 (checkpoints): bounded memory and recursion, and the right words.
 * Checkpoints are built here with the test pickle writer (test/pth-fixtures.ts).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectOneLineError, runCli } from './helpers/index.js';
import { maliciousZip, zipCheckpoint, PickleWriter } from './pth-fixtures.js';
import { parseCheckpoint } from '../src/convert/pytorch/checkpoint.js';
import { ZipArchive, writeStoredZip } from '../src/convert/pytorch/zip.js';

const dir = mkdtempSync(join(tmpdir(), 'fdk-hostile-pth-'));
const tiny = (): [string, { dtype: 'float32'; shape: number[]; storage: Float32Array }][] => [['w', { dtype: 'float32', shape: [128], storage: new Float32Array(128).fill(0.5) }]];

describe('checkpoints: bounded memory and recursion', () => {
  it('the tiny checkpoint itself reads (so the failures below are about the defect)', () => {
    const c = parseCheckpoint(zipCheckpoint(tiny()), 'tiny.pth');
    expect(c.tensors.get('w')!.data.length).toBe(128);
  });

  it('a zip storage entry far larger than its 128 declared elements is refused before it is inflated', () => {
    const src = new ZipArchive(zipCheckpoint(tiny()));
    const huge = new Uint8Array(64 * 1024 * 1024); // 64 MiB of zeros: ~64 KB deflated
    const bomb = writeStoredZip(src.names().map((n) => ({ name: n, data: n.endsWith('data/0') ? huge : src.read(n) })), { deflate: true });
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    const f = join(dir, 'bomb.pth');
    writeFileSync(f, bomb);
    expect(() => parseCheckpoint(bomb, f)).toThrow(/bomb\.pth: zip entry 'archive\/data\/0' is 67108864 bytes, more than the 512 it may hold/);
    expectOneLineError(runCli(['convert', f, '--arch', 'slim', '--to', 'onnx', '-o', join(dir, 'bomb.onnx')]), /bomb\.pth: .*more than the 512 it may hold/);
  });

  it('200,000 nested MARKs: a clean error about nesting, not "Maximum call stack size exceeded"', () => {
    const n = 200_000;
    const deep = new Uint8Array(2 + 2 * n + 1);
    deep.set([0x80, 2]);
    deep.fill(0x28, 2, 2 + n); // MARK x n
    deep.fill(0x6c, 2 + n, 2 + 2 * n); // LIST x n: lists nested n deep
    deep[2 + 2 * n] = 0x2e;
    expect(() => parseCheckpoint(deep, 'deep.pth')).toThrow(/deep\.pth: corrupt checkpoint \(malformed pickle: more than 10000 nested MARKs/);
    // Nested below the MARK limit: still no recursion when the value is checked and named.
    const m = 5_000;
    const nested = Uint8Array.from([0x80, 2, ...new Array(m).fill(0x28), ...new Array(m).fill(0x6c), 0x2e]);
    expect(() => parseCheckpoint(nested, 'nested.pth')).toThrow(/nested\.pth: not a PyTorch checkpoint \(bad magic number\)/);
  });

  it('negative sizes and a state_dict key that is not a string are malformed, not "Invalid typed array length"', () => {
    const p = new PickleWriter().emptyDict().mark();
    p.str('w').global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(4).tuple().binpersid();
    p.int(0).ints([-1]).ints([1]).bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
    const pkl = p.setitems().stop().bytes();
    const zip = writeStoredZip([{ name: 'archive/data.pkl', data: pkl }, { name: 'archive/data/0', data: new Uint8Array(16) }, { name: 'archive/version', data: Buffer.from('3\n') }]);
    expect(() => parseCheckpoint(zip, 'neg.pth')).toThrow(/neg\.pth: malformed checkpoint: tensor size is not a tuple of non-negative ints/);
  });
});

describe('checkpoints: the right words', () => {
  it('a float64 checkpoint is an unsupported dtype, not a "forbidden global"', () => {
    const f = join(dir, 'double.pth');
    writeFileSync(f, maliciousZip('torch', 'DoubleStorage'));
    expect(() => parseCheckpoint(maliciousZip('torch', 'DoubleStorage'), f)).toThrow(/double\.pth: unsupported tensor dtype float64 \(torch\.DoubleStorage\)/);
    expectOneLineError(runCli(['convert', f, '--arch', 'slim', '--to', 'onnx', '-o', join(dir, 'double.onnx')]), /double\.pth: unsupported tensor dtype float64.*model\.float\(\)/);
    // A really foreign global is still refused as one.
    expect(() => parseCheckpoint(maliciousZip('os', 'system'), 'os.pth')).toThrow(/refusing to load: the pickle references the global 'os\.system'/);
  });
});
