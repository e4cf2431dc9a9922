/**
 * `fdk analyze <export> --convention thop` on the exports prints exactly the published counts
 * (targets.md: thop 0.1.x on the PyTorch modules, BN not folded). The exports keep BatchNorm as its
 * own node and conv biases exactly where PyTorch has them, which is what makes the counts match.
 * With --fold-bn (export) the counts drop; they equal the analyzer's own --fold-bn view.
 */
import { describe, expect, it } from 'vitest';
import { exportedOnnxPath } from '../src/convert/onnx-export.js';
import { runCli } from './helpers/index.js';
import { loadOnnx } from '../src/onnx/io.js';

const PUBLISHED: [string, number, number][] = [
  ['slim', 343_488, 98_793_280],
  ['rfb', 359_592, 118_434_880],
  ['mnet0.25', 426_608, 193_920_640],
];

function analyze(file: string, ...extra: string[]): { params: number; macs: number } {
  const r = runCli(['analyze', file, '--convention', 'thop', '--json', ...extra]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout).totals;
}

describe('thop counts of the exports', () => {
  it.each(PUBLISHED)('%s: %i params / %i MACs at input 1x3x320x240 (and at 1x3x240x320: same feature-map areas)', (id, params, macs) => {
    const file = exportedOnnxPath(id);
    for (const shape of ['input:1x3x320x240', 'input:1x3x240x320']) {
      const t = analyze(file, '--input', shape);
      expect({ params: t.params, macs: t.macs }, shape).toEqual({ params, macs });
    }
  });

  it.each(PUBLISHED)('%s --fold-bn export: fewer params and MACs, equal to the analyzer\'s folded view', (id, params, macs) => {
    const folded = analyze(exportedOnnxPath(id, { foldBn: true }), '--input', 'input:1x3x320x240');
    const view = analyze(exportedOnnxPath(id), '--input', 'input:1x3x320x240', '--fold-bn');
    expect(folded.params).toBeLessThan(params);
    expect(folded.macs).toBeLessThan(macs);
    expect({ params: folded.params, macs: folded.macs }).toEqual({ params: view.params, macs: view.macs });
    // each folded BN loses its scale and bias (2C) and its conv gains a bias (C): -C per BN
    const m = loadOnnx(exportedOnnxPath(id));
    const bnChannels = m.graph.nodes.filter((n) => n.opType === 'BatchNormalization').reduce((c, n) => c + m.graph.initializers.get(n.inputs[1])!.size, 0);
    expect(params - folded.params).toBe(bnChannels);
  });
});
