/** `fdk analyze model.param`: the ncnn reader feeds the same report as ONNX analysis. */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { shared, runCli, expectOneLineError } from './helpers/index.js';
import { analyzeNcnn } from '../src/convert/ncnn/analyze.js';
import { analyzeFile } from '../src/analyze/index.js';
import { convertOnnxFileToNcnn } from '../src/convert/ncnn/index.js';
import { tmp } from './ncnn-helpers.js';
import { exportedOnnxPath } from '../src/convert/onnx-export.js';

const ONNX = (n: string) => shared('models/ultra-light-1mb/onnx', n);
const NCNN = (n: string) => shared('models/ultra-light-1mb/ncnn', n);
const shape = { input: [1, 3, 240, 320] };

describe('ncnn analysis', () => {
  it.each([['slim', 'version-slim-320_simplified.onnx', 'slim-320.param'], ['RFB', 'version-RFB-320_simplified.onnx', 'RFB-320.param']])(
    '%s: the official .param has the params and MACs of its source ONNX, layer by layer for convolutions',
    async (_n, onnx, param) => {
      const a = await analyzeFile(ONNX(onnx), { inputShapes: shape });
      const b = await analyzeFile(NCNN(param), { inputShapes: shape });
      expect(b.format).toBe('ncnn');
      expect(b.totals.params).toBe(a.totals.params);
      expect(b.totals.macs).toBe(a.totals.macs);
      // same multiset of (MACs, params, output shape) per counted layer (layer order may differ)
      const convs = (r: typeof a) => r.layers.filter((l) => l.macs > 0).map((l) => JSON.stringify([l.macs, l.params, l.outputShapes])).sort();
      expect(convs(b)).toEqual(convs(a));
    },
  );

  it('our optimized conversion keeps the MACs of the unfused model minus what BatchNorm folding removes', async () => {
    const dir = tmp();
    const r = convertOnnxFileToNcnn(ONNX('version-RFB-320.onnx'), { prefix: join(dir, 'rfb') });
    const ours = analyzeNcnn(r.paramPath, { inputShapes: shape });
    const official = analyzeNcnn(NCNN('RFB-320.param'), { inputShapes: shape });
    const sum = (g: typeof ours, k: 'macs' | 'params') => g.layers.reduce((s, l) => s + l[k], 0);
    expect(sum(ours, 'macs')).toBe(sum(official, 'macs'));
    expect(sum(ours, 'params')).toBe(sum(official, 'params'));
    expect(ours.outputs.sort()).toEqual(['boxes', 'scores']);
    const reshapes = (g: typeof ours) => g.layers.filter((l) => l.op === 'Reshape').map((l) => l.outputs[0].shape);
    expect(reshapes(ours)).toEqual(reshapes(official));
    expect(reshapes(ours)[0]).toEqual([1, 3600, 2]); // 30x40 cells x 3 anchors, 2 classes
  });

  it('the CLI analyzes a .param and fails clearly on a broken one', async () => {
    const ok = runCli(['analyze', NCNN('slim-320.param'), '--input', 'input:1x3x240x320', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).totals.macs).toBe((await analyzeFile(ONNX('version-slim-320_simplified.onnx'), { inputShapes: shape })).totals.macs);
    const bad = join(tmp(), 'broken.param');
    writeFileSync(bad, '7767517\n2 2\nInput input 0 1 input\nConvolution c 1 1 input\n');
    expectOneLineError(runCli(['analyze', bad, '--input', 'input:1x3x240x320']), 'broken.param');
  });

  // The seed detectors: fdk's ONNX export, converted by fdk (BatchNorm folded into the convolutions),
  // analyzed as .param, against the same ONNX analyzed with --fold-bn.
  const seedShape = { '': [1, 3, 240, 320] };
  it.each(['slim', 'rfb', 'mnet0.25'])('%s: fdk\'s ncnn conversion has the params and thop MACs of its ONNX after BN folding', async (id) => {
    const onnx = exportedOnnxPath(id, { postprocess: false });
    const a = await analyzeFile(onnx, { inputShapes: seedShape, foldBn: true });
    const r = convertOnnxFileToNcnn(onnx, { prefix: join(tmp(), id), inputShapes: seedShape });
    const b = await analyzeFile(r.paramPath, { inputShapes: seedShape });
    expect(b.totals.params).toBe(a.totals.params);
    expect(Math.abs(b.totals.macs - a.totals.macs) / a.totals.macs).toBeLessThan(0.01);
  });

  it('the official Face-Detector-1MB ncnn file (slim-face.param) has exactly the counts of the RFB export with BN folded', async () => {
    // (despite its name: 357,188 params, the RFB variant's count, not slim's 341,216)
    const a = await analyzeFile(exportedOnnxPath('rfb', { postprocess: false }), { inputShapes: seedShape, foldBn: true });
    const b = await analyzeFile(shared('models/retinaface-1mb/ncnn/slim-face.param'), { inputShapes: seedShape });
    expect({ params: b.totals.params, macs: b.totals.macs }).toEqual({ params: a.totals.params, macs: a.totals.macs });
  });
});
