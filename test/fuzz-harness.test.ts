/**
 * The fuzz harness itself (fuzz/): inputs are a pure function of (seed, target, index), and the
 * outcome classes mean what docs/robustness.md says. The fuzzing runs are `npm run fuzz`.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TSX } from './helpers/index.js';
import { TARGETS } from '../fuzz/targets.js';
import { generate, classifyCli, classifyError } from '../fuzz/worker.js';
import { FdkError } from '../src/util/errors.js';

describe('fuzz harness', () => {
  it('input i of a target is the same bytes every time, and differs from input i+1', async () => {
    for (const name of ['pred', 'param', 'mat']) {
      const t = TARGETS.find((x) => x.name === name)!;
      const seeds = await t.seeds();
      const a = generate(t, seeds, 1, 17).bytes;
      expect(Buffer.from(generate(t, seeds, 1, 17).bytes).equals(Buffer.from(a))).toBe(true);
      expect(Buffer.from(generate(t, seeds, 1, 18).bytes).equals(Buffer.from(a))).toBe(false);
    }
  });

  it('classifies outcomes: clean names the file, unnamed does not, anything else is a crash', () => {
    const f = '/w/input.onnx';
    expect(classifyError(new FdkError('bad', { file: f }), f).c).toBe('clean');
    expect(classifyError(new FdkError('bad'), f).c).toBe('unnamed');
    expect(classifyError(new RangeError('Invalid typed array length: -1'), f).c).toBe('crash');
    const cli = (status: number | null, stderr: string, signal: string | null = null) => classifyCli({ status, signal, stderr }, f).c;
    expect(cli(0, '')).toBe('success');
    expect(cli(1, `fdk: error: ${f}: bad\n`)).toBe('clean');
    expect(cli(1, 'fdk: error: bad\n')).toBe('unnamed');
    expect(cli(1, `fdk: error: ${f}: bad\n    at foo (x.js:1)\n`)).toBe('crash');
    expect(cli(133, '#\n# Fatal error in , line 0\n')).toBe('crash');
    expect(cli(null, '', 'SIGSEGV')).toBe('crash');
    expect(classifyCli({ status: null, signal: 'SIGKILL', stderr: '', error: Object.assign(new Error('t'), { code: 'ETIMEDOUT' }) }, f).c).toBe('hang');
  });

  // run.ts drives the CLI samples from dist/ and refuses to start without it (npm run fuzz builds first)
  it.skipIf(!existsSync(join(ROOT, 'dist', 'cli', 'main.js')))('SIGINT stops a run early and prints the partial table with the real counts', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fdk-fuzz-stop-'));
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'fuzz', 'run.ts'), '--targets', 'pred,mat', '--parallel', '--seconds', '600', '--cli-every', '0', '--out', out], { cwd: ROOT });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      const first = !stdout;
      stdout += c.toString();
      if (first) setTimeout(() => child.kill('SIGINT'), 3000); // started: let the workers run a little
    });
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    rmSync(out, { recursive: true, force: true });
    expect(stdout).toMatch(/^fuzz: mat, pred at once, 600 s, seed 1$/m);
    expect(stdout).toMatch(/^partial run: stopped by SIGINT$/m);
    const rows = stdout.split('\n').filter((l) => /^\| (mat|pred) \| \d+ \|/.test(l));
    expect(rows.map((r) => r.split('|')[1].trim())).toEqual(['mat', 'pred']);
    expect(code).toBe(0); // nothing crashed, hung or was unnamed
  }, 120_000);
});

