/**
 * `fdk analyze` on recurrent models (LSTM and GRU, bidirectional, built in TS the way PyTorch
 * exports them): shapes infer, the onnx-tool convention equals onnx-tool's own profile (PyPI, in
 * .venv-dev) op by op, the thop convention counts what thop's rnn hooks count, and the command
 * works through the CLI with --json.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { analyzeFile } from '../src/analyze/index.js';
import { runCli } from './helpers/index.js';
import { seeded } from './newops-helpers.js';
import { tmp } from './ncnn-helpers.js';

const dir = tmp('fdk-analyze-rnn-');
const T = 12, I = 10, H = 16;

function model(op: 'LSTM' | 'GRU'): string {
  const G = op === 'LSTM' ? 4 : 3;
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('x', 'float32', [T, 1, I]);
  const attrs = { hidden_size: A.int(H), direction: A.string('bidirectional'), ...(op === 'GRU' ? { linear_before_reset: A.int(1) } : {}) };
  const W = b.constFloat('W', [2, G * H, I], seeded(1, 2 * G * H * I));
  const R = b.constFloat('R', [2, G * H, H], seeded(2, 2 * G * H * H));
  const B = b.constFloat('B', [2, 2 * G * H], seeded(3, 4 * G * H));
  // onnx-tool's GRU shape rule reads a Y_h output, so both declare it
  const [y, yh] = b.node(op, [x, W, R, B], { attrs, outputs: 2 });
  b.addOutput(y, 'y', 'float32');
  b.addOutput(yh, 'y_h', 'float32');
  const p = join(dir, `${op}.onnx`);
  saveOnnx(b.build(), p);
  return p;
}

describe('fdk analyze: LSTM / GRU', () => {
  for (const op of ['LSTM', 'GRU'] as const)
    it(`${op}: output shape, thop cell count, onnx-tool profile equality`, async () => {
      const f = model(op);
      const t = (await analyzeFile(f, {})) as unknown as { layers: { op: string; outputShapes: number[][]; macs: number; params: number }[] };
      const l = t.layers.find((x) => x.op === op)!;
      expect(l.outputShapes[0]).toEqual([T, 2, 1, H]);
      const G = op === 'LSTM' ? 4 : 3;
      expect(l.params).toBe(2 * G * H * (I + H + 2));
      // thop/rnn_hooks.py: per step and direction, gates x ((I+H)H + H + 2H) + 4H
      expect(l.macs).toBe(T * 2 * (G * ((I + H) * H + 3 * H) + 4 * H));

      const o = (await analyzeFile(f, { convention: 'onnx-tool' })) as unknown as { layers: { op: string; macs: number }[] };
      const py = resolve('.venv-dev', 'bin', 'python');
      const r = spawnSync(py, [resolve('scripts', 'onnx-tool-profile.py'), `${T}x1x${I}`, f], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const theirs = JSON.parse(r.stdout.trim().split('\n').pop()!)[0];
      expect(o.layers.find((x) => x.op === op)!.macs).toBe(theirs.byOp[op].macs);
    });

  it('through the CLI with --json', () => {
    const r = runCli(['analyze', model('LSTM'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.byOp.find((o: { op: string }) => o.op === 'LSTM').count).toBe(1);
    expect(j.totals.macs).toBeGreaterThan(0);
  });
});
