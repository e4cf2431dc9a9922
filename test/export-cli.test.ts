/** `fdk convert X.pth --arch ID --to onnx`: output path, summary, fixed input, opset and --fold-bn. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnnx } from '../src/onnx/io.js';
import { opsetVersion } from '../src/onnx/model.js';
import { runCli, shared } from './helpers/index.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'fdk-export-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const MNET = shared('models/retinaface-1mb/mobilenet0.25_Final.pth');

describe('fdk convert --to onnx', () => {
  it('writes ./fdk-out/<name>.onnx under the working directory by default and prints a short summary', () => {
    const r = runCli(['convert', MNET, '--arch', 'mnet0.25', '--to', 'onnx'], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    const out = join(work, 'fdk-out', 'mobilenet0.25_Final.onnx');
    expect(existsSync(out)).toBe(true);
    expect(r.stdout).toContain(out);
    expect(r.stdout).toMatch(/opset 13, \d+ nodes/);
    const m = loadOnnx(out);
    expect(m.graph.inputs.map((i) => [i.name, i.shape])).toEqual([['input', [1, 3, 'H', 'W']]]);
    expect(m.graph.outputs.map((o) => o.name)).toEqual(['loc', 'conf', 'landms']);
    expect(m.graph.nodes.filter((n) => n.opType === 'BatchNormalization').length).toBe(47);
  });

  it('--input fixes the size, --opset sets the opset, --fold-bn removes BatchNormalization; --json summary', () => {
    const o1 = join(work, 'a.onnx');
    const a = runCli(['convert', MNET, '--arch', 'mnet0.25', '--to', 'onnx', '-o', o1, '--input', '1x3x240x320', '--opset', '17', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const sa = JSON.parse(a.stdout);
    expect(sa).toMatchObject({ arch: 'mnet0.25', opset: 17, input: [1, 3, 240, 320], foldBn: false, output: o1 });
    // 2 anchors on 30x40 + 15x20 + 8x10 maps
    expect(sa.outputs).toEqual([{ name: 'loc', shape: [1, 3160, 4] }, { name: 'conf', shape: [1, 3160, 2] }, { name: 'landms', shape: [1, 3160, 10] }]);
    expect(opsetVersion(loadOnnx(o1))).toBe(17);

    const o2 = join(work, 'b.onnx');
    const b = runCli(['convert', MNET, '--arch', 'mnet0.25', '--to', 'onnx', '-o', o2, '--fold-bn', '--json']);
    expect(b.code, b.stderr).toBe(0);
    const sb = JSON.parse(b.stdout);
    const m = loadOnnx(o2);
    expect(m.graph.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
    expect(sb.nodes).toBe(sa.nodes - 47);
    // folding drops each BN's 4 vectors and gives its conv a bias vector instead
    expect(sa.params - sb.params).toBe(3 * 3344);
  });

  it('Ultra-Light: scores and boxes, --no-postprocess gives the raw locations graph', () => {
    const w = shared('models/ultra-light-1mb/pretrained/version-RFB-640.pth');
    const o = join(work, 'u.onnx');
    const r = runCli(['convert', w, '--arch', 'ulfd-rfb-640', '--to', 'onnx', '-o', o, '--input', '1x3x480x640', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).outputs).toEqual([{ name: 'scores', shape: [1, 17640, 2] }, { name: 'boxes', shape: [1, 17640, 4] }]);
    const o2 = join(work, 'u-nopost.onnx'); // another model: the same -o would need --force
    const r2 = runCli(['convert', w, '--arch', 'ulfd-rfb', '--to', 'onnx', '-o', o2, '--no-postprocess', '--json']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(loadOnnx(o2).graph.nodes.some((n) => n.opType === 'Exp')).toBe(false);
  });
});
