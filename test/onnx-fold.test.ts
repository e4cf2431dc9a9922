/**
 * Shape inference and constant folding on the Ultra-Light exports: inferred output shapes match
 * the declared ones, folding with a known input shape removes the Shape→Gather→Unsqueeze→Concat
 * glue and the Constant nodes, and onnxruntime gives the same outputs for the folded model on the
 * reference input tensor.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadOnnx, saveOnnx } from '../src/onnx/io.js';
import { inferShapes, peekKeptPropagation } from '../src/onnx/shape-inference.js';
import { validateOnnx } from '../src/onnx/validate.js';
import { foldConstants } from '../src/onnx/fold.js';
import { readNpyFloat32 } from '../src/util/npy.js';
import { shared, maxAbsDiff } from './helpers/index.js';

const UL = shared('models', 'ultra-light-1mb', 'onnx');
const FILES = readdirSync(UL).filter((f) => f.endsWith('.onnx')).sort();
const GLUE = new Set(['Shape', 'Gather', 'Unsqueeze', 'Constant']);

async function run(path: string, input: Float32Array): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
  const r = await s.run({ input: new ort.Tensor('float32', input, [1, 3, 240, 320]) });
  await s.release();
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array]));
}

describe('shape inference', () => {
  it.each(FILES)('%s: every node output gets a static shape; outputs match the declared ones', (f) => {
    const m = loadOnnx(join(UL, f));
    const shapes = inferShapes(m);
    for (const n of m.graph.nodes) for (const o of n.outputs) expect(shapes.get(o)?.shape.every((d) => typeof d === 'number'), o).toBe(true);
    for (const o of m.graph.outputs) expect(shapes.get(o.name)?.shape, o.name).toEqual(o.shape);
    expect(shapes.get('scores')?.shape).toEqual([1, 4420, 2]);
  });

  it('symbolic input dims are refused without inputShapes and resolved with them', () => {
    const m = loadOnnx(join(UL, 'version-RFB-320.onnx'));
    m.graph.inputs[0].shape = [1, 3, 'H', 'W'];
    expect(() => inferShapes(m)).toThrow(/symbolic dims \[1x3xHxW\].*--input input:1x3x<H>x<W>/);
    const at640 = inferShapes(m, { inputShapes: { '': [1, 3, 240, 320] } });
    expect(at640.get('boxes')?.shape).toEqual([1, 4420, 4]);
    // allowSymbolic lets names flow through the conv stack
    const sym = inferShapes(m, { allowSymbolic: true });
    expect(sym.get(m.graph.nodes[0].outputs[0])?.shape.slice(0, 2)).toEqual([1, 16]);
    expect(typeof sym.get(m.graph.nodes[0].outputs[0])?.shape[2]).toBe('string');
  });

  it('an op it cannot infer is named with its node', () => {
    const m = loadOnnx(join(UL, 'version-slim-320_simplified.onnx'));
    m.graph.nodes[3] = { ...m.graph.nodes[3], opType: 'FancyNorm', name: 'my_node' };
    expect(() => inferShapes(m)).toThrow(/cannot infer shapes for op FancyNorm \(node 'my_node'\)/);
  });
});

describe('constant folding', () => {
  const input = readNpyFloat32(shared('reference', 'pytorch', 'version-slim-320-sample', 'input_tensor_1x3x240x320.npy')).data;

  it.each(['version-slim-320.onnx', 'version-RFB-320.onnx', 'version-RFB-320_without_postprocessing.onnx'])(
    '%s: glue folded away, ort outputs unchanged', async (f) => {
      const src = join(UL, f);
      const m = loadOnnx(src);
      const glueBefore = m.graph.nodes.filter((n) => GLUE.has(n.opType)).length;
      expect(glueBefore).toBeGreaterThan(20);
      const r = foldConstants(m, { inputShapes: { input: [1, 3, 240, 320] } });
      expect(r.model.graph.nodes.filter((n) => GLUE.has(n.opType))).toEqual([]);
      expect(r.folded).toBe(glueBefore + 8); // + the 8 Concats that built Reshape targets
      expect(r.removedNodes).toHaveLength(r.folded);
      expect(r.model.graph.nodes.length).toBe(m.graph.nodes.length - r.folded);
      // every Reshape now takes a constant int64 target
      for (const n of r.model.graph.nodes.filter((x) => x.opType === 'Reshape')) expect(r.model.graph.initializers.get(n.inputs[1])?.dtype).toBe('int64');
      const dir = mkdtempSync(join(tmpdir(), 'fdk-fold-'));
      const out = join(dir, 'folded.onnx');
      saveOnnx(r.model, out);
      const [a, b] = [await run(src, input), await run(out, input)];
      for (const k of Object.keys(a)) expect(maxAbsDiff(a[k], b[k]), k).toBeLessThanOrEqual(1e-5);
      rmSync(dir, { recursive: true });
    });

  it('folding a model without constants changes nothing', () => {
    const m = loadOnnx(join(UL, 'version-slim-320_simplified.onnx'));
    const r = foldConstants(m);
    expect(r.folded).toBe(0);
    expect(r.model.graph.nodes).toHaveLength(m.graph.nodes.length);
  });
});

describe('one propagation for validation, the size check and folding', () => {
  // validateOnnx keeps its propagation; the size check and foldConstants reuse it for the same,
  // unchanged graph and shapes ('' = the first input, as the CLI passes --input), never for another.
  const file = join(UL, FILES[0]);
  const shapes = { '': [1, 3, 240, 320] };
  it('kept by validation, taken once by folding, with the same folded graph as a fresh propagation', () => {
    const model = loadOnnx(file);
    expect(peekKeptPropagation(model, { inputShapes: shapes, allowSymbolic: true })).toBeUndefined();
    validateOnnx(model, { inputShapes: shapes });
    const kept = peekKeptPropagation(model, { inputShapes: { input: [1, 3, 240, 320] }, allowSymbolic: true });
    expect(kept).toBeDefined();
    expect(peekKeptPropagation(model, { inputShapes: { input: [1, 3, 480, 640] }, allowSymbolic: true })).toBeUndefined();
    expect(peekKeptPropagation(model, { inputShapes: shapes })).toBeUndefined(); // other options
    const folded = foldConstants(model, { inputShapes: shapes, allowSymbolic: true });
    expect(peekKeptPropagation(model, { inputShapes: shapes, allowSymbolic: true })).toBeUndefined(); // taken
    const fresh = foldConstants(loadOnnx(file), { inputShapes: shapes, allowSymbolic: true });
    expect(folded.folded).toBe(fresh.folded);
    expect(folded.model.graph.nodes.map((n) => `${n.opType}:${n.outputs.join(',')}`)).toEqual(fresh.model.graph.nodes.map((n) => `${n.opType}:${n.outputs.join(',')}`));
  });
  it('a graph changed after validation gets none', () => {
    const model = loadOnnx(file);
    validateOnnx(model, { inputShapes: shapes });
    model.graph.nodes = [...model.graph.nodes];
    expect(peekKeptPropagation(model, { inputShapes: shapes, allowSymbolic: true })).toBeUndefined();
  });
});
