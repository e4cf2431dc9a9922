/**
 * `fdk analyze` on the six Ultra-Light files at 1x3x240x320: conv MACs per layer against the
 * closed-form formula computed here from the raw attributes, simplified vs non-simplified
 * variants, output formats, peak memory on a hand-made layer list, and the bad-input contract.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnnx, saveOnnx } from '../src/onnx/io.js';
import { attrInt, attrInts } from '../src/onnx/model.js';
import { onnxType } from '../src/onnx/proto.js';
import { analyzeFile, onnxLayerGraph, summarize, type AnalyzeOptions, type LayerGraph } from '../src/analyze/index.js';
import { shared, runCli, expectOneLineError } from './helpers/index.js';

const UL = shared('models', 'ultra-light-1mb', 'onnx');
const FILES = readdirSync(UL).filter((f) => f.endsWith('.onnx')).sort();
const tmp = mkdtempSync(join(tmpdir(), 'fdk-analyze-'));

interface Report {
  totals: { params: number; macs: number; flops: number; weightBytes: number; peakActivationBytes: number };
  byOp: { op: string; count: number; params: number; macs: number }[];
  layers: { name: string; op: string; inputShapes: number[][]; outputShapes: number[][]; params: number; macs: number }[];
}
function analyze(file: string, ...extra: string[]): Report {
  const r = runCli(['analyze', file, '--input', 'input:1x3x240x320', '--json', ...extra]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}
/** In-process analysis (the CLI path is covered by the format and bad-input tests below). */
const inProcess = async (file: string, opts: AnalyzeOptions = {}): Promise<Report> =>
  (await analyzeFile(file, { inputShapes: { input: [1, 3, 240, 320] }, ...opts })) as unknown as Report;
const reports = new Map<string, Report>();
const report = async (f: string) => reports.get(f) ?? reports.set(f, await inProcess(join(UL, f))).get(f)!;
const op = (r: Report, name: string) => r.byOp.find((o) => o.op === name) ?? { macs: 0, params: 0, count: 0 };

/** Conv MACs from first principles: walk the convs in file order tracking H and W per tensor. */
function closedFormConvMacs(file: string): Map<string, number> {
  const m = loadOnnx(file);
  const hw = new Map<string, [number, number]>([['input', [240, 320]]]);
  const out = new Map<string, number>();
  for (const n of m.graph.nodes) {
    const src = hw.get(n.inputs[0]);
    if (n.opType === 'Conv') {
      const w = m.graph.initializers.get(n.inputs[1])!.dims; // [Cout, Cin/g, kh, kw]
      const [s0, s1] = attrInts(n, 'strides')!;
      const p = attrInts(n, 'pads')!;
      const [kh, kw] = attrInts(n, 'kernel_shape')!;
      expect(attrInt(n, 'group', 1) * w[1]).toBeGreaterThan(0);
      const [d0, d1] = attrInts(n, 'dilations') ?? [1, 1]; // the RFB branches use dilated 3x3 convs
      const ho = Math.floor((src![0] + p[0] + p[2] - (d0 * (kh - 1) + 1)) / s0) + 1;
      const wo = Math.floor((src![1] + p[1] + p[3] - (d1 * (kw - 1) + 1)) / s1) + 1;
      const outElems = w[0] * ho * wo;
      out.set(n.name || n.outputs[0], outElems * w[1] * kh * kw + (n.inputs[2] ? outElems : 0));
      hw.set(n.outputs[0], [ho, wo]);
    } else if (src && ['BatchNormalization', 'Relu', 'Add'].includes(n.opType)) hw.set(n.outputs[0], src);
    else if (src && n.opType === 'Concat') hw.set(n.outputs[0], src); // channel concat in the RFB blocks
  }
  return out;
}

describe('fdk analyze on the Ultra-Light files', () => {
  it.each(FILES)('%s: totals are consistent and every conv matches the closed form', async (f) => {
    const r = await report(f);
    expect(r.totals.flops).toBe(2 * r.totals.macs);
    expect(Number.isInteger(r.totals.macs) && Number.isInteger(r.totals.params)).toBe(true);
    expect(r.totals.macs).toBe(r.layers.reduce((a, l) => a + l.macs, 0));
    expect(r.totals.params).toBe(r.layers.reduce((a, l) => a + l.params, 0));
    const expected = closedFormConvMacs(join(UL, f));
    const convs = r.layers.filter((l) => l.op === 'Conv');
    expect(convs.length).toBe(expected.size);
    for (const l of convs) expect(l.macs, l.name).toBe(expected.get(l.name));
    // peak activation memory is at least the largest single activation (input + first conv output)
    expect(r.totals.peakActivationBytes).toBeGreaterThanOrEqual((3 + 16) * 120 * 160 * 4);
    expect(r.layers[0].inputShapes[0]).toEqual([1, 3, 240, 320]);
  });

  it.each(['slim', 'RFB'])('version-%s: simplified and non-simplified give identical conv/BN totals', async (net) => {
    const full = await report(`version-${net}-320.onnx`);
    const simp = await report(`version-${net}-320_simplified.onnx`);
    const bnElems = op(full, 'BatchNormalization').macs / 4; // thop: BN = 4 x elements
    // The simplifier folds BN into the convs, adding a bias: one add per BN element.
    expect(op(full, 'Conv').macs + bnElems).toBe(op(simp, 'Conv').macs);
    expect(op(full, 'Conv').count).toBe(op(simp, 'Conv').count);
    // Counting BN folded (--fold-bn) gives the simplified model's conv/BN totals exactly.
    const folded = await inProcess(join(UL, `version-${net}-320.onnx`), { foldBn: true });
    expect({ macs: op(folded, 'Conv').macs, params: op(folded, 'Conv').params, bn: op(folded, 'BatchNormalization').count })
      .toEqual({ macs: op(simp, 'Conv').macs, params: op(simp, 'Conv').params, bn: 0 });
  });

  it('onnx-tool convention: BN at 31 ops/element, ReLU 1, conv identical to thop', async () => {
    const f = join(UL, 'version-slim-320.onnx');
    const t = await report('version-slim-320.onnx');
    const o = await inProcess(f, { convention: 'onnx-tool' });
    expect(op(o, 'Conv').macs).toBe(op(t, 'Conv').macs);
    expect(op(o, 'BatchNormalization').macs).toBe((op(t, 'BatchNormalization').macs / 4) * 31);
    const relu = o.layers.filter((l) => l.op === 'Relu');
    for (const l of relu) expect(l.macs).toBe(l.outputShapes[0].reduce((a, b) => a * b, 1));
    // onnx-tool counts BN running mean/var as params, thop does not
    expect(o.totals.params - t.totals.params).toBe(op(t, 'BatchNormalization').params);
  });

  it('--csv and --md carry the same totals as --json', async () => {
    const f = join(UL, 'version-RFB-320_simplified.onnx');
    const j = analyze(f);
    expect(j).toEqual({ schemaVersion: 1, ...JSON.parse(JSON.stringify(await report('version-RFB-320_simplified.onnx'))) });
    const csv = runCli(['analyze', f, '--csv']);
    expect(csv.code).toBe(0);
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toBe('index,name,op,input_shapes,output_shapes,params,macs,flops,share');
    expect(rows).toHaveLength(j.layers.length + 2);
    expect(rows.at(-1)).toBe(`,TOTAL,,,,${j.totals.params},${j.totals.macs},${j.totals.flops},1`);
    const md = runCli(['analyze', f, '--md', '--no-layers']);
    expect(md.stdout).toContain(`| MACs | ${j.totals.macs.toLocaleString('en-US')} `);
    expect(md.stdout).toContain('| FLOPs (= 2 x MACs) |');
    const table = runCli(['analyze', f]);
    expect(table.stdout).toMatch(/FLOPs \(= 2 x MACs\)\s*│\s*213,927,280|FLOPs \(= 2 x MACs\)\s*│\s*[\d,]+/);
    expect(table.stdout).not.toMatch(/\x1b\[/); // no colours off a terminal
  });
});

describe('weights are not touched', () => {
  it('analysis reads only dims: no initializer gets its values materialised (no copy of unaligned raw_data)', () => {
    const m = loadOnnx(join(UL, 'version-RFB-320.onnx'));
    const g = onnxLayerGraph(m, { convention: 'onnx-tool' });
    expect(g.weightBytes).toBeGreaterThan(1_000_000);
    const materialised = [...m.graph.initializers.values()].filter((t) => (t as unknown as { values?: unknown }).values !== undefined);
    expect(materialised.map((t) => t.name)).toEqual([]);
  });
});

describe('peak activation memory', () => {
  it('frees each tensor after its last use and keeps graph outputs', () => {
    const t = (name: string, bytes: number) => ({ name, shape: [bytes], bytes });
    const g: LayerGraph = {
      file: 'x', format: 'onnx', convention: 'thop', inputShapes: {}, weightBytes: 0,
      inputs: [t('in', 100)], outputs: ['c', 'd'],
      layers: [
        { name: 'A', op: 'Conv', inputs: [t('in', 100)], outputs: [t('a', 50)], params: 0, macs: 0 }, // live in+a = 150
        { name: 'B', op: 'Conv', inputs: [t('a', 50)], outputs: [t('b', 200)], params: 0, macs: 0 }, // a+b = 250
        { name: 'C', op: 'Relu', inputs: [t('b', 200)], outputs: [t('c', 200)], params: 0, macs: 0 }, // b+c = 400
        { name: 'D', op: 'Relu', inputs: [t('c', 200)], outputs: [t('d', 10)], params: 0, macs: 0 }, // c kept: 210
      ],
    };
    expect(summarize(g).totals.peakActivationBytes).toBe(400);
  });
});

describe('fdk analyze: bad input gets one error line', () => {
  const slim = join(UL, 'version-slim-320.onnx');
  it('truncated file', () => {
    const p = join(tmp, 'truncated.onnx');
    writeFileSync(p, readFileSync(slim).subarray(0, 100_000));
    expectOneLineError(runCli(['analyze', p]), /truncated\.onnx: not a valid ONNX file/);
  });
  it('random bytes', () => {
    const p = join(tmp, 'random.onnx');
    let s = 7;
    writeFileSync(p, Uint8Array.from({ length: 4096 }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 24)));
    expectOneLineError(runCli(['analyze', p]), /random\.onnx: /);
  });
  it('valid protobuf that is not a model', () => {
    const p = join(tmp, 'tensor.onnx');
    const T = onnxType('TensorProto');
    writeFileSync(p, T.encode(T.fromObject({ name: 'w', dataType: 1, floatData: [1, 2, 3] })).finish());
    expectOneLineError(runCli(['analyze', p]), /tensor\.onnx: (is a protobuf message but not an ONNX model|not a valid ONNX file)/);
  });
  it('missing file', () => expectOneLineError(runCli(['analyze', join(tmp, 'nope.onnx')]), /nope\.onnx: no such file/));
  it('symbolic dim with no --input, then fixed with --input', async () => {
    const m = loadOnnx(join(UL, 'version-slim-320_simplified.onnx'));
    m.graph.inputs[0].shape = [1, 3, 'H', 'W'];
    const p = join(tmp, 'dynamic.onnx');
    saveOnnx(m, p);
    expectOneLineError(runCli(['analyze', p]), /dynamic\.onnx: input 'input' has symbolic dims \[1x3xHxW\]/);
    expect(analyze(p).totals).toEqual((await report('version-slim-320_simplified.onnx')).totals);
  });
  it('op it cannot infer', () => {
    const m = loadOnnx(join(UL, 'version-slim-320_simplified.onnx'));
    m.graph.nodes[5] = { ...m.graph.nodes[5], opType: 'MysteryOp', name: 'strange' };
    const p = join(tmp, 'mystery.onnx');
    saveOnnx(m, p);
    expectOneLineError(runCli(['analyze', p]), /mystery\.onnx: cannot infer shapes for op MysteryOp \(node 'strange'\)/);
  });
  it('wrong input shape: channel mismatch named with the conv, rank mismatch named with the input', () => {
    expectOneLineError(runCli(['analyze', slim, '--input', '1x4x240x320']), /cannot infer shapes for op Conv .*input has 4 channels, weight \[16,3,3,3\]/);
    expectOneLineError(runCli(['analyze', slim, '--input', '3x240x320']), /--input input:3x240x320 has rank 3, the model declares rank 4/);
  });
  it('unknown convention and wrong --input name', () => {
    expectOneLineError(runCli(['analyze', slim, '--convention', 'fvcore']), /unknown --convention 'fvcore'/);
    expectOneLineError(runCli(['analyze', slim, '--input', 'image:1x3x240x320']), /--input names 'image', but the model's inputs are: input/);
  });
});
