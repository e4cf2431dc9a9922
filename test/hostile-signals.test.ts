/**
 * Issue #15, item 6: SIGINT / SIGTERM during the write phase leave no temp file behind and exit
 * 130 / 143. The signal is sent the moment the `.NAME.PID.TS.tmp` file of the atomic write
 * appears in the output folder (watched), i.e. while the model is being written.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GraphBuilder } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { Tensor } from '../src/onnx/tensor.js';
import { ROOT } from './helpers/index.js';
import { tempFiles, runInterruptCleanup, onInterrupt } from '../src/util/signals.js';

const dir = mkdtempSync(join(tmpdir(), 'fdk-hostile-sig-'));

/** A model with 96 MB of weights, so writing it takes long enough to be interrupted. */
function bigModel(): string {
  const p = join(dir, 'big.onnx');
  if (existsSync(p)) return p;
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('input', 'float32', [1, 24 * 1024 * 1024]);
  const w = b.addInitializer('w', Tensor.float32('w', [1, 24 * 1024 * 1024], new Float32Array(24 * 1024 * 1024).fill(0.25)));
  b.addOutput(b.op('Add', [x, w]), 'out', 'float32');
  saveOnnx(b.build(), p);
  return p;
}

/** Runs `fdk convert big.onnx --to onnx -o OUT/clean.onnx`, signalling it when its temp file shows up. */
function interruptWrite(signal: 'SIGINT' | 'SIGTERM'): Promise<{ code: number | null; sig: string | null; sent: boolean; left: string[] }> {
  const out = join(dir, `out-${signal}`);
  mkdirSync(out, { recursive: true });
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'src/cli/entry.ts'), 'convert', bigModel(), '--to', 'onnx', '-o', join(out, 'clean.onnx')], {
      cwd: ROOT, env: { ...process.env, CI: 'true' }, stdio: 'ignore',
    });
    let sent = false;
    const w = watch(out, (_e, name) => {
      if (!sent && name && name.endsWith('.tmp')) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('error', fail);
    child.on('exit', (code, sig) => {
      w.close();
      done({ code, sig, sent, left: readdirSync(out).filter((f) => f.endsWith('.tmp')) });
    });
  });
}

describe('signals during the write phase', () => {
  it.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('%s: exit %i, no temp file left', async (signal, code) => {
    const r = await interruptWrite(signal);
    expect(r.sent).toBe(true); // the signal did arrive while the temp file existed
    expect(r.left).toEqual([]);
    expect(r.sig).toBeNull(); // exited on its own terms, not killed by the signal
    expect(r.code).toBe(code);
  }, 240_000);

  it('the cleanup removes registered temp files and runs registered cleanups once', () => {
    const f = join(dir, '.x.tmp');
    writeFileSync(f, 'partial');
    tempFiles.add(f);
    let ran = 0;
    onInterrupt(() => ran++);
    runInterruptCleanup();
    runInterruptCleanup();
    expect(existsSync(f)).toBe(false);
    expect(ran).toBe(1);
  });
});
