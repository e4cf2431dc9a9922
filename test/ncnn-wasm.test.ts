/**
 * ncnn-wasm: real ncnn compiled to WebAssembly (scripts/build-ncnn-wasm.sh, run by `npm run setup`
 * and CI) gives the outputs of native ncnn and onnxruntime on real images, for official ncnn
 * files and for fdk's own conversions; bad models get one clear error line.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRuntime } from '../src/runtime/index.js';
import { findNcnnWasm } from '../src/runtime/ncnn-wasm/locate.js';
import { ncnnWasmRuntime, type NcnnWasmModel } from '../src/runtime/ncnn-wasm/runtime.js';
import { getModel, loadManifest } from '../src/models/manifest.js';
import type { LoadedModel } from '../src/runtime/types.js';
import { shared, maxAbsDiff, expectOneLineError } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';
import { compareRuns, IMAGES, inputFor } from './ncnn-helpers.js';

const UL = (p: string) => shared('models/ultra-light-1mb', p);
const loaded: LoadedModel[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'fdk-ncnn-wasm-'));
afterAll(async () => {
  for (const m of loaded) await m.release();
  rmSync(tmp, { recursive: true, force: true });
});
async function load(rt: string, file: string, threads = 1): Promise<LoadedModel> {
  const m = await (await getRuntime(rt)).load(file, { threads });
  loaded.push(m);
  return m;
}

describe('ncnn-wasm build', () => {
  it('is built from the pinned ncnn source with SIMD, and says so', async () => {
    const b = findNcnnWasm('simd');
    expect(b, 'run bash scripts/build-ncnn-wasm.sh').toBeDefined();
    expect(b!.meta.ncnn).toBe('1.0.20261020');
    expect(b!.meta.wasmBytes).toBe(readFileSync(b!.wasm).length);
    const bytes = readFileSync(b!.wasm);
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d])); // \0asm
    // the SIMD build must validate as a module that a SIMD-less engine would refuse: it uses v128
    expect(WebAssembly.validate(bytes)).toBe(true);
    const info = await ncnnWasmRuntime.info();
    expect(info).toMatchObject({ name: 'ncnn-wasm', version: '1.0.20261020' });
  });
});

describe('ncnn-wasm agrees with native ncnn and onnxruntime', () => {
  it('official slim-320 ncnn files on every shared image: ncnn-wasm = native ncnn within 1e-4', async () => {
    const entry = getModel('ulfd-slim-320');
    const wasm = (await load('ncnn-wasm', UL('ncnn/slim-320.param'))) as NcnnWasmModel;
    const native = await load('ncnn', UL('ncnn/slim-320.param'));
    expect(wasm.inputNames).toEqual(native.inputNames);
    expect([...wasm.outputNames].sort()).toEqual([...native.outputNames].sort());
    // Node loads the pthreads build at 1 thread too when it is built (faster, docs/wasm.md)
    expect(wasm.notes?.[0]).toMatch(findNcnnWasm('simd-threads') ? /ncnn 1\.0\.20261020 simd threads in Node \(simd-threads build\)/ : /ncnn 1\.0\.20261020 simd single in Node \(simd build\)/);
    for (const img of IMAGES) {
      const input = await inputFor(img, entry);
      const d = await compareRuns(native, wasm, { [native.inputNames[0]]: input });
      for (const [k, v] of Object.entries(d)) expect(v, `${img} ${k}`).toBeLessThanOrEqual(1e-4);
    }
  });

  it('the single-thread build (ncnn.wasmBuild simd) gives the outputs of the default pthreads build at 1 thread', async () => {
    const entry = getModel('ulfd-slim-320');
    const param = UL('ncnn/slim-320.param');
    const def = (await load('ncnn-wasm', param)) as NcnnWasmModel;
    const single = (await (await getRuntime('ncnn-wasm')).load(param, { threads: 1, ncnn: { wasmBuild: 'simd' } })) as NcnnWasmModel;
    loaded.push(single);
    expect(single.variant).toBe('simd');
    expect(def.variant).toBe(findNcnnWasm('simd-threads') ? 'simd-threads' : 'simd');
    const input = await inputFor(IMAGES[0], entry);
    const d = await compareRuns(def, single, { [def.inputNames[0]]: input });
    for (const [k, v] of Object.entries(d)) expect(v, k).toBeLessThanOrEqual(1e-6);
    await expect(ncnnWasmRuntime.load(param, { threads: 2, ncnn: { wasmBuild: 'simd' } })).rejects.toThrow('the ncnn-wasm simd build runs 1 thread, not 2');
  });

  it('an .onnx is converted with fdk\'s converter first, and matches ort (RFB-320 with decoded boxes)', async () => {
    const onnx = UL('onnx/version-RFB-320.onnx');
    const wasm = (await load('ncnn-wasm', onnx)) as NcnnWasmModel;
    expect(wasm.converted?.onnx).toBe(onnx);
    const ort = await load('ort', onnx);
    const input = await inputFor(IMAGES[0], getModel('ulfd-rfb-320'));
    const a = (await ort.run({ input })).outputs;
    const b = (await wasm.run({ input })).outputs;
    for (const k of ['scores', 'boxes']) {
      expect(b[k].dims).toEqual(a[k].dims);
      expect(maxAbsDiff(a[k].data, b[k].data), k).toBeLessThanOrEqual(1e-4);
    }
    // real outputs, not zeros: softmax rows sum to 1
    expect(b.scores.data[0] + b.scores.data[1]).toBeCloseTo(1, 5);
  });

  it('packing off gives the same outputs; fp16 on stays within 1e-2', async () => {
    const param = UL('ncnn/RFB-320.param');
    const input = await inputFor(IMAGES[1], getModel('ulfd-rfb-320'));
    const run = async (ncnn: { packing?: boolean; fp16?: boolean }) => {
      const m = await ncnnWasmRuntime.load(param, { ncnn });
      loaded.push(m);
      return (await m.run({ input })).outputs;
    };
    const base = await run({});
    const unpacked = await run({ packing: false });
    const fp16 = await run({ fp16: true });
    for (const k of Object.keys(base)) expect(maxAbsDiff(base[k].data, unpacked[k].data), k).toBeLessThanOrEqual(1e-4);
    // fp16 storage needs F16C on x86, which a wasm build has not: ncnn may keep fp32, so only closeness is asserted
    for (const k of Object.keys(base)) expect(maxAbsDiff(base[k].data, fp16[k].data), k).toBeLessThanOrEqual(1e-2);
  });
});

describe('fdk parity with ncnn-wasm on every manifest model, at 320 and 640', () => {
  // seed models take any size: both long sides in one run; Ultra-Light models have one fixed size each
  // (ulfd-*-320 at 320x240, ulfd-*-640 at 640x480), so the family covers both sizes.
  const sizes: Record<string, number[]> = {};
  it.each(loadManifest().map((e) => e.id))('%s: ncnn-wasm against ort and native ncnn at <= 1e-4', async (id) => {
    const r = await runCliAsync(['parity', id, '--runtimes', 'ort,ncnn,ncnn-wasm', '--long-side', '320,640', '--max-images', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.pairs.map((p: { a: string; b: string }) => `${p.a}/${p.b}`)).toEqual(['ort/ncnn', 'ort/ncnn-wasm', 'ncnn/ncnn-wasm']);
    for (const p of j.pairs) {
      expect(Object.keys(p.outputs).length, `${p.a}/${p.b}`).toBeGreaterThan(0);
      for (const [name, d] of Object.entries(p.outputs)) expect((d as { maxAbs: number }).maxAbs, `${id} ${p.a}/${p.b} ${name}`).toBeLessThanOrEqual(1e-4);
    }
    sizes[id] = [...new Set(j.inputs.map((i: { dims: number[] }) => Math.max(i.dims[2], i.dims[3])))].sort() as number[];
    if (getModel(id).family === 'seed') expect(sizes[id]).toEqual([320, 640]);
  }, 600_000);
  it('covered both sizes for both families', () => {
    const family = (f: string) => [...new Set(Object.entries(sizes).filter(([id]) => getModel(id).family === f).flatMap(([, s]) => s))].sort();
    expect(family('seed')).toEqual([320, 640]);
    expect(family('ultra-light')).toEqual([320, 640]);
  });
});

describe('a command that ran the pthreads build exits', () => {
  it('fdk parity with ncnn-wasm at 1 and 2 threads ends by itself (its pool of workers does not keep Node alive)', async () => {
    for (const t of ['1', '2']) {
      // a process that hangs after its output is killed after 2 minutes and fails here with code -1
      const r = await runCliAsync(['parity', 'ulfd-slim-320', '--runtimes', 'ncnn,ncnn-wasm', '--threads', t, '--max-images', '1', '--json'], { timeout: 120_000 });
      expect(r.code, `threads ${t}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout).ok).toBe(true);
    }
  }, 300_000);
});

describe('fdk accuracy on ncnn-wasm', () => {
  it('Ultra-Light slim-320 on val-mini: the AP of native ncnn, and within ±0.002 of the original pipeline', async () => {
    const rows: Record<string, { ap: Record<string, number>; diff: Record<string, number> }> = {};
    for (const rt of ['ncnn-wasm', 'ncnn']) {
      const r = await runCliAsync(['accuracy', '--model', 'ulfd-slim', '--long-side', '320', '--runtime', rt, '--jobs', '2', '--out', join(tmp, `preds-${rt}`), '--check', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const row = JSON.parse(r.stdout).rows[0];
      expect(row).toMatchObject({ row: 'ulfd-slim-320', images: 488, missingPredictions: 0, withinTolerance: true });
      for (const d of ['easy', 'medium', 'hard'] as const) expect(Math.abs(row.diff[d]), `${rt} ${d}`).toBeLessThanOrEqual(0.002);
      rows[rt] = row;
    }
    // the same AP as native ncnn at the 4 decimals the report shows (measured: within 2e-7; float rounding of scores differs)
    for (const d of ['easy', 'medium', 'hard'] as const) {
      expect(Math.abs(rows['ncnn-wasm'].ap[d] - rows.ncnn.ap[d]), d).toBeLessThanOrEqual(1e-6);
      expect(rows['ncnn-wasm'].ap[d].toFixed(4), d).toBe(rows.ncnn.ap[d].toFixed(4));
    }
  }, 1_200_000);
});

describe('ncnn-wasm bad input', () => {
  it('a layer type the wasm build does not have: one line naming the file and the layer', async () => {
    const param = join(tmp, 'unknown-layer.param');
    writeFileSync(param, '7767517\n2 2\nInput data 0 1 data 0=4 1=4 2=1\nFancyAttention attn 1 1 data out\n');
    writeFileSync(join(tmp, 'unknown-layer.bin'), Buffer.alloc(0));
    const r = await runCliAsync(['bench', param, '--runtimes', 'ncnn-wasm', '--runs', '1', '--warmup', '0']);
    expectOneLineError(r, /unknown-layer\.param.*ncnn-wasm cannot load the \.param.*FancyAttention not exists or registered/);
  });

  it('weights that do not match the .param, and a missing .bin', async () => {
    const param = join(tmp, 'rfb.param');
    writeFileSync(param, readFileSync(UL('ncnn/RFB-320.param')));
    writeFileSync(join(tmp, 'rfb.bin'), readFileSync(UL('ncnn/RFB-320.bin')).subarray(0, 1000));
    await expect(ncnnWasmRuntime.load(param)).rejects.toThrow(/rfb\.param: ncnn-wasm cannot load the \.bin weights/);
    rmSync(join(tmp, 'rfb.bin'));
    await expect(ncnnWasmRuntime.load(param)).rejects.toThrow(/rfb\.bin: the weights file rfb\.bin is missing/);
  });
});
