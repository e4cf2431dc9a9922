/** `fdk parity` on real images: runtimes agree within 1e-4; a tolerance that cannot hold fails; bad input. */
import { describe, it, expect } from 'vitest';
import { shared, expectOneLineError } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';

const UL = (f: string) => shared('models/ultra-light-1mb', f);

describe('fdk parity', () => {
  it('ort, ort-wasm and ncnn agree within 1e-4 on the images folder (Ultra-Light slim, official ncnn files)', async () => {
    const r = await runCliAsync(['parity', UL('onnx/version-slim-320_simplified.onnx'), '--ncnn-param', UL('ncnn/slim-320.param'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.preprocessing).toBe('ulfd-slim-320'); // found from the manifest by the file path
    expect(j.inputs.length).toBeGreaterThanOrEqual(10);
    expect(j.pairs.map((p: { a: string; b: string }) => `${p.a}/${p.b}`)).toEqual(['ort/ort-wasm', 'ort/ncnn', 'ort-wasm/ncnn']);
    for (const p of j.pairs)
      for (const name of ['scores', 'boxes']) {
        const d = p.outputs[name];
        expect(d.maxAbs, `${p.a}/${p.b} ${name}`).toBeLessThanOrEqual(1e-4);
        expect(d.maxAbs, 'different runtimes are not bit-identical').toBeGreaterThan(0);
        expect(d.cosine).toBeGreaterThan(0.999999);
        expect(d.dimsA).toEqual(d.dimsB);
      }
  });

  it('mnet0.25 (fdk export, converted by fdk) at long sides 320 and 640: every pair within a bare 1e-4 max abs', async () => {
    // the deepest seed model at its largest input: the case where folding BatchNorm in another
    // arithmetic than onnxruntime's once pushed wasm/ncnn landmarks to 1.03e-4
    const r = await runCliAsync(['parity', 'mnet0.25', '--long-side', '320,640', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.tolerance).toEqual({ atol: 1e-4, rtol: 0 });
    expect(j.inputs.length).toBeGreaterThanOrEqual(20);
    expect(j.pairs.length).toBe(3);
    for (const p of j.pairs)
      for (const name of ['loc', 'conf', 'landms']) {
        expect(p.outputs[name].maxAbs, `${p.a}/${p.b} ${name}`).toBeLessThanOrEqual(1e-4);
        expect(p.outputs[name].outside).toBe(0);
      }
  });

  it('exits non-zero when the tolerance cannot hold (atol 0 between two different runtimes)', async () => {
    const r = await runCliAsync(['parity', 'ulfd-rfb-320', '--runtimes', 'ort,wasm', '--atol', '0', '--max-images', '2']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/parity: FAILED/);
  });

  it('bad input: unknown runtime, missing model, image folder without images, unknown preprocessing', async () => {
    const cases: [string[], string | RegExp][] = [
      [['parity', 'ulfd-slim-320', '--runtimes', 'ort,coreml'], /unknown runtime 'coreml'.*ort, ort-wasm, ncnn, ncnn-wasm/],
      [['parity', '/nonexistent/model.onnx'], '/nonexistent/model.onnx: no such file'],
      [['parity', 'ulfd-slim-320', '--images', shared('models')], 'no .jpg/.png images'],
      [['parity', 'not-a-model'], /neither a file nor a model id/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCliAsync(args)));
    results.forEach((r, i) => expectOneLineError(r, cases[i][1]));
  });
});
