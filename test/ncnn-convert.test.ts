/**
 * The Ultra-Light ONNX files from ../shared converted by fdk and run in the real ncnn (PyPI):
 * outputs match onnxruntime on the source ONNX on every test image; --no-optimize reproduces the
 * official onnx2ncnn conversions; --fp16 halves the weights.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { shared, runCli } from './helpers/index.js';
import { convertOnnxFileToNcnn } from '../src/convert/ncnn/index.js';
import { readNcnnModel, type NcnnLayer } from '../src/convert/ncnn/format/index.js';
import { getModel } from '../src/models/manifest.js';
import type { LoadedModel } from '../src/runtime/types.js';
import { IMAGES, compareRuns, inputFor, ncnn, ort, tmp } from './ncnn-helpers.js';

const ONNX_DIR = shared('models/ultra-light-1mb/onnx');
const FILES = readdirSync(ONNX_DIR).filter((f) => f.endsWith('.onnx')).sort();
const entryFor = (f: string) => getModel(f.includes('RFB') ? 'ulfd-rfb-320' : 'ulfd-slim-320');
const out = tmp();
const open: LoadedModel[] = [];
afterAll(async () => {
  for (const m of open) await m.release();
});

describe('Ultra-Light ONNX files -> ncnn', () => {
  it('finds the six files', () => expect(FILES.length).toBe(6));

  it.each(FILES)('%s converts, loads in ncnn and matches onnxruntime on every image (<= 1e-4)', async (f) => {
    const r = convertOnnxFileToNcnn(join(ONNX_DIR, f), { prefix: join(out, f.replace('.onnx', '')) });
    expect(r.summary.outputs.sort()).toEqual(['boxes', 'scores']);
    const param = readFileSync(r.paramPath, 'utf8');
    // nothing from ONNX is written verbatim, and the glue is gone
    for (const t of ['Shape', 'Gather', 'Unsqueeze', 'Constant']) expect(param).not.toMatch(new RegExp(`^${t}\\s`, 'm'));
    const o = await (await ort()).load(join(ONNX_DIR, f));
    const n = await (await ncnn()).load(r.paramPath);
    open.push(o, n);
    expect(n.inputNames).toEqual(['input']);
    const entry = entryFor(f);
    let worst = 0;
    for (const img of IMAGES) {
      const d = await compareRuns(o, n, { input: await inputFor(img, entry) });
      worst = Math.max(worst, ...Object.values(d));
    }
    expect(worst).toBeLessThanOrEqual(1e-4);
  });
});

/** Layer sequence with blob and layer names replaced by first-appearance indices. */
function normalised(layers: NcnnLayer[]) {
  const ids = new Map<string, number>();
  const id = (b: string) => (ids.has(b) ? ids.get(b)! : (ids.set(b, ids.size), ids.size - 1));
  return layers.map((l) => ({ type: l.type, inputs: l.inputs.map(id), outputs: l.outputs.map(id) }));
}
/** Params both files write (the 2019 slim conversion predates the pad_right/pad_bottom keys 15/16). */
function commonParams(a: NcnnLayer, b: NcnnLayer) {
  const keys = [...a.params.keys()].filter((k) => b.params.has(k));
  return [keys.map((k) => a.params.get(k)), keys.map((k) => b.params.get(k))];
}

describe('--no-optimize matches the official onnx2ncnn conversions', () => {
  it.each([['slim', 'version-slim-320_simplified.onnx', 'slim-320'], ['RFB', 'version-RFB-320_simplified.onnx', 'RFB-320']])(
    '%s: same layer sequence after normalising names, byte-identical weights',
    (_n, onnx, official) => {
      const prefix = join(out, `noopt-${official}`);
      const r = runCli(['convert', join(ONNX_DIR, onnx), '--to', 'ncnn', '--no-optimize', '-o', prefix]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/ONNX nodes \d+ -> ncnn layers \d+/);
      const ours = readNcnnModel(`${prefix}.param`);
      const ref = readNcnnModel(shared('models/ultra-light-1mb/ncnn', `${official}.param`));
      expect(normalised(ours.layers)).toEqual(normalised(ref.layers));
      ours.layers.forEach((l, i) => {
        const [a, b] = commonParams(l, ref.layers[i]);
        expect(a, `${l.type} ${l.name}`).toEqual(b);
      });
      expect(readFileSync(`${prefix}.bin`).equals(readFileSync(shared('models/ultra-light-1mb/ncnn', `${official}.bin`)))).toBe(true);
    },
  );
});

describe('--fp16', () => {
  it('stores weights as fp16 (about half the .bin) and stays within 1e-2 of fp32 in ncnn', async () => {
    const src = join(ONNX_DIR, 'version-RFB-320.onnx');
    const a = convertOnnxFileToNcnn(src, { prefix: join(out, 'rfb32') });
    const b = convertOnnxFileToNcnn(src, { prefix: join(out, 'rfb16'), fp16: true });
    const ratio = statSync(b.binPath).size / statSync(a.binPath).size;
    expect(ratio).toBeGreaterThan(0.45);
    expect(ratio).toBeLessThan(0.6); // biases, BatchNorm and the prior table stay fp32 (ncnn reads them raw)
    const n32 = await (await ncnn()).load(a.paramPath);
    const n16 = await (await ncnn()).load(b.paramPath);
    open.push(n32, n16);
    const entry = getModel('ulfd-rfb-320');
    let worst = 0;
    for (const img of IMAGES.slice(0, 4)) worst = Math.max(worst, ...Object.values(await compareRuns(n32, n16, { input: await inputFor(img, entry) })));
    expect(worst).toBeLessThanOrEqual(1e-2);
    expect(worst).toBeGreaterThan(0); // the weights really changed
  });
});
