/**
 * `fdk convert MODEL.onnx --to onnx`: the Ultra-Light originals (opset 9, every weight also listed as
 * a graph input) cleaned up for deployment. The cleaned file has one input, no shape glue and no dead
 * initializers, passes onnx.checker, and onnxruntime still reproduces the PyTorch reference outputs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { cleanOnnx } from '../src/onnx/clean.js';
import { loadOnnx, saveOnnx } from '../src/onnx/io.js';
import { readNpyFloat32 } from '../src/util/npy.js';
import { expectOneLineError, maxAbsDiff, ROOT, runCli, shared } from './helpers/index.js';

const UL = (f: string) => shared('models', 'ultra-light-1mb', 'onnx', f);
const tmp = mkdtempSync(join(tmpdir(), 'fdk-clean-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function runOrt(path: string, x: Float32Array): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
  const r = await s.run({ input: new ort.Tensor('float32', x, [1, 3, 240, 320]) });
  await s.release();
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array]));
}

describe('cleanOnnx on the Ultra-Light originals', () => {
  for (const net of ['slim', 'RFB'] as const) {
    it(`version-${net}-320.onnx: one input, glue folded, no dead initializer, same outputs as PyTorch`, async () => {
      const src = loadOnnx(UL(`version-${net}-320.onnx`));
      const weightInputs = src.graph.inputs.filter((i) => src.graph.initializers.has(i.name)).length;
      expect(weightInputs).toBeGreaterThan(100);
      const { model, summary } = cleanOnnx(src);
      expect(summary.droppedInputs).toBe(weightInputs);
      expect(model.graph.inputs.map((i) => i.name)).toEqual(['input']);
      expect(model.graph.nodes.filter((n) => ['Shape', 'Gather', 'Unsqueeze', 'Constant'].includes(n.opType))).toEqual([]);
      expect(summary.nodesAfter).toBe(summary.nodesBefore - summary.foldedNodes);
      // every initializer is read, every node input is an initializer, an input or a node output
      const read = new Set(model.graph.nodes.flatMap((n) => n.inputs).filter(Boolean));
      for (const name of model.graph.initializers.keys()) expect(read.has(name) || model.graph.outputs.some((o) => o.name === name), name).toBe(true);
      const produced = new Set(['input', ...model.graph.initializers.keys(), ...model.graph.nodes.flatMap((n) => n.outputs)]);
      for (const i of read) expect(produced.has(i), i).toBe(true);

      const out = join(tmp, `${net}.onnx`);
      saveOnnx(model, out);
      const dir = shared('reference', 'pytorch', `version-${net}-320-sample`);
      const x = readNpyFloat32(join(dir, 'input_tensor_1x3x240x320.npy')).data;
      const r = await runOrt(out, x);
      expect(maxAbsDiff(r.scores, readNpyFloat32(join(dir, 'scores_softmax.npy')).data)).toBeLessThan(1e-4);
      expect(maxAbsDiff(r.boxes, readNpyFloat32(join(dir, 'boxes_corner_norm.npy')).data)).toBeLessThan(1e-4);
    });
  }

  it('the cleaned files pass onnx.checker full_check', () => {
    const files = ['slim', 'RFB'].map((n) => join(tmp, `${n}.onnx`)).filter((f) => existsSync(f));
    expect(files.length).toBe(2);
    const py = join(ROOT, '.venv-dev', 'bin', 'python');
    const r = spawnSync(py, ['-c', 'import sys, onnx\nfor f in sys.argv[1:]: onnx.checker.check_model(onnx.load(f), full_check=True)', ...files], { encoding: 'utf8' });
    expect(r.status, r.stderr.split('\n').slice(-3).join(' ')).toBe(0);
  });
});

describe('fdk convert MODEL.onnx --to onnx', () => {
  it('writes the cleaned model and a JSON summary', () => {
    const out = join(tmp, 'cli.onnx');
    const r = runCli(['convert', UL('version-slim-320_without_postprocessing.onnx'), '--to', 'onnx', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.output).toBe(out);
    expect(j.inputs).toEqual(['input']);
    expect(j.droppedInputs).toBeGreaterThan(100);
    expect(j.foldedNodes).toBeGreaterThan(0);
    expect(loadOnnx(out).graph.nodes.length).toBe(j.nodesAfter);
  });

  it('bad input: truncated .onnx (no output written), --arch with an .onnx', () => {
    const bad = join(tmp, 'truncated.onnx');
    const bytes = readFileSync(UL('version-slim-320.onnx'));
    writeFileSync(bad, bytes.subarray(0, bytes.length >> 1));
    const out = join(tmp, 'never.onnx');
    expectOneLineError(runCli(['convert', bad, '--to', 'onnx', '-o', out]), 'truncated.onnx');
    expect(existsSync(out)).toBe(false);
    expectOneLineError(runCli(['convert', UL('version-slim-320.onnx'), '--to', 'onnx', '--arch', 'slim', '-o', out]), '--arch applies to PyTorch checkpoints');
    expect(existsSync(out)).toBe(false);
  });
});
