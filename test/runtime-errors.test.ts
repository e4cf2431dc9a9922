/** Bad input for the runtimes: each case is one clear FdkError, and nothing hangs. */
import { describe, it, expect, afterAll } from 'vitest';
import { rmSync, mkdtempSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRuntime, parseRuntimeList } from '../src/runtime/index.js';
import { ncnnRuntime } from '../src/runtime/ncnn.js';
import { FdkError } from '../src/util/errors.js';
import { shared } from './helpers/index.js';

const UL = (f: string) => shared('models/ultra-light-1mb', f);
const tmp = mkdtempSync(join(tmpdir(), 'fdk-rt-'));
const input = (dims = [1, 3, 240, 320]) => ({ input: { data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.25), dims } });

async function fdkError(p: Promise<unknown>): Promise<FdkError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FdkError);
    expect((e as Error).message).not.toMatch(/\n/);
    return e as FdkError;
  }
  throw new Error('expected an FdkError');
}

describe('runtime bad input', () => {
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('unknown runtime lists the known ones', async () => {
    expect((await fdkError(getRuntime('tflite'))).message).toMatch(/unknown runtime 'tflite'.*ort, ort-wasm, ncnn, ncnn-wasm/);
    expect(() => parseRuntimeList('ort,tensorrt')).toThrow(/unknown runtime 'tensorrt'/);
  });

  it('a truncated .onnx is rejected by ort and wasm, naming the file', async () => {
    const bad = join(tmp, 'truncated.onnx');
    const bytes = readFileSync(UL('onnx/version-slim-320.onnx'));
    writeFileSync(bad, bytes.subarray(0, bytes.length >> 1));
    for (const rt of ['ort', 'ort-wasm']) {
      const e = await fdkError((await getRuntime(rt)).load(bad));
      expect(e.message, rt).toContain('truncated.onnx');
    }
  });

  it('ncnn rejects a corrupt .param and a truncated .bin, naming the file', async () => {
    const param = join(tmp, 'corrupt.param');
    writeFileSync(param, 'this is not an ncnn param file\n');
    copyFileSync(UL('ncnn/slim-320.bin'), join(tmp, 'corrupt.bin'));
    expect((await fdkError(ncnnRuntime.load(param))).message).toContain('corrupt.param');

    const p2 = join(tmp, 'short.param');
    copyFileSync(UL('ncnn/slim-320.param'), p2);
    const bin = readFileSync(UL('ncnn/slim-320.bin'));
    writeFileSync(join(tmp, 'short.bin'), bin.subarray(0, 1000));
    expect((await fdkError(ncnnRuntime.load(p2))).message).toContain('short.bin');

    const p3 = join(tmp, 'nobin.param');
    copyFileSync(UL('ncnn/slim-320.param'), p3);
    expect((await fdkError(ncnnRuntime.load(p3))).message).toContain('nobin.bin');

    const p4 = join(tmp, 'emptybin.param');
    copyFileSync(UL('ncnn/slim-320.param'), p4);
    writeFileSync(join(tmp, 'emptybin.bin'), new Uint8Array(0));
    expect((await fdkError(ncnnRuntime.load(p4))).message).toMatch(/emptybin\.bin.*cannot load the \.bin weights/);
  });

  it('ncnn runs a model without weights from an empty .bin', async () => {
    const param = join(tmp, 'weightless.param');
    writeFileSync(param, '7767517\n2 2\nInput in0 0 1 in0 0=4 1=2 2=1\nReLU relu 1 1 in0 out0\n');
    writeFileSync(join(tmp, 'weightless.bin'), new Uint8Array(0));
    const m = await ncnnRuntime.load(param);
    try {
      const r = await m.run({ in0: { data: Float32Array.from([-1, 2, -3, 4, 5, -6, 7, -8]), dims: [1, 1, 2, 4] } });
      expect(Array.from(r.outputs.out0.data)).toEqual([0, 2, 0, 4, 5, 0, 7, 0]);
    } finally {
      await m.release();
    }
  });

  it('a wrong input shape is an error on ort, wasm and ncnn (declared Input shape)', async () => {
    for (const rt of ['ort', 'ort-wasm']) {
      const m = await (await getRuntime(rt)).load(UL('onnx/version-slim-320_simplified.onnx'));
      await fdkError(m.run(input([1, 3, 100, 100])));
      await m.release();
    }
    // The official .param has no input shape; give it one so the adapter can check it.
    const p = join(tmp, 'shaped.param');
    const text = readFileSync(UL('ncnn/slim-320.param'), 'utf8').replace(/^(Input\s+input\s+0 1 input)\s*$/m, '$1 0=320 1=240 2=3');
    writeFileSync(p, text);
    copyFileSync(UL('ncnn/slim-320.bin'), join(tmp, 'shaped.bin'));
    const m = await ncnnRuntime.load(p);
    expect((await fdkError(m.run(input([1, 3, 100, 100])))).message).toMatch(/wrong input shape.*\[1,3,240,320\]/);
    expect((await fdkError(m.run(input([2, 3, 240, 320])))).message).toMatch(/wrong input shape/);
    // the model still works after a rejected request
    const ok = await m.run(input());
    expect(ok.outputs.scores.dims).toEqual([1, 4420, 2]);
    await m.release();
  });

  it('a worker killed mid-run gives an error, and later calls fail fast', async () => {
    const m = await ncnnRuntime.load(UL('ncnn/RFB-320.param'));
    const pending = m.run(input());
    process.kill(m.pid!, 'SIGKILL');
    expect((await fdkError(pending)).message).toMatch(/ncnn worker \(pid \d+\) killed by SIGKILL during 'run'/);
    expect((await fdkError(m.run(input()))).message).toMatch(/is gone/);
    await m.release();
  });

  it('a hung worker is killed after the timeout', async () => {
    const m = await ncnnRuntime.load(UL('ncnn/slim-320.param'));
    process.kill(m.pid!, 'SIGSTOP');
    process.env.FDK_NCNN_TIMEOUT_MS = '1500';
    try {
      const t0 = Date.now();
      expect((await fdkError(m.run(input()))).message).toMatch(/did not answer 'run' within 1\.5 s.*killed it/);
      expect(Date.now() - t0).toBeLessThan(30_000); // it returned instead of hanging (not a speed check)
    } finally {
      delete process.env.FDK_NCNN_TIMEOUT_MS;
    }
    await m.release();
  });
});
