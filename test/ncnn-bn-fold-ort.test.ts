/**
 * BatchNorm folding gives the ncnn model exactly the weights onnxruntime runs with: onnxruntime
 * fuses Conv + BatchNormalization when it loads the ONNX (ConvBNFusion, graph level "basic"), and
 * fdk's converter folds the same pairs with the same float32 operations in the same order. The
 * fused initializers come from onnxruntime itself (`optimizedModelFilePath`), so this fails if
 * either side changes its arithmetic. With identical weights, `fdk parity` measures kernels only.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportedOnnxPath } from '../src/convert/onnx-export.js';
import { convertOnnxToNcnn } from '../src/convert/ncnn/index.js';
import { loadOnnx } from '../src/onnx/io.js';

describe('BatchNorm folding matches onnxruntime bit for bit', () => {
  for (const id of ['slim', 'mnet0.25'] as const) {
    it(`${id}: every Conv that onnxruntime fused carries the same float32 weights and bias in the ncnn model`, async () => {
      const onnx = exportedOnnxPath(id, { dynamic: true });
      const optimized = join(mkdtempSync(join(tmpdir(), 'fdk-bnfold-')), `${id}-ort-basic.onnx`);
      const session = await ort.InferenceSession.create(onnx, { executionProviders: ['cpu'], graphOptimizationLevel: 'basic', optimizedModelFilePath: optimized });
      await session.release();
      const fusedByOrt = loadOnnx(optimized);
      const ncnn = convertOnnxToNcnn(loadOnnx(onnx), {}).net;
      const layerByName = new Map(ncnn.layers.map((l) => [l.name, l]));
      let compared = 0;
      for (const node of fusedByOrt.graph.nodes) {
        if (node.opType !== 'Conv' || !node.inputs[1]?.startsWith('ConvBnFusion_W_')) continue;
        const layer = layerByName.get(node.name);
        expect(layer, `ncnn layer for Conv '${node.name}'`).toBeDefined();
        const W = fusedByOrt.graph.initializers.get(node.inputs[1])!.data as Float32Array;
        const B = fusedByOrt.graph.initializers.get(node.inputs[2])!.data as Float32Array;
        const [nW, nB] = layer!.weights.map((w) => w.data as Float32Array);
        expect(nW.length).toBe(W.length);
        expect(nB.length).toBe(B.length);
        let differ = 0;
        for (let i = 0; i < W.length; i++) if (nW[i] !== W[i]) differ++;
        for (let i = 0; i < B.length; i++) if (nB[i] !== B[i]) differ++;
        expect(differ, `Conv '${node.name}': elements differing from onnxruntime's fused weights`).toBe(0);
        compared++;
      }
      // mnet0.25 has 47 fused Conv+BN pairs, slim a few dozen: fail if the matching silently found none
      expect(compared).toBeGreaterThan(20);
    });
  }
});
