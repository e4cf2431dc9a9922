/**
 * Issue #15, items 4, 9, 10, 11, 12: terminal escapes in names, the analyze table, thread counts,
 * pixel and memory limits, and an image too narrow to resize. Models are built here; the photo is
 * a real one from ../shared.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli, expectOneLineError, shared } from './helpers/index.js';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { analyzeFile } from '../src/analyze/index.js';
import { renderTable, renderMarkdown } from '../src/analyze/format.js';
import { errorLine, escapeName, FdkError } from '../src/util/errors.js';
import { checkThreads, estimateInferenceBytes } from '../src/util/limits.js';

const dir = mkdtempSync(join(tmpdir(), 'fdk-hostile-cli-'));
const OSC = '\u001b]0;pwned\u0007';
const CLEAR = '\u001b[2J';

/** Conv -> Relu with hostile node names; input H and W symbolic unless `fixed`. */
function named(name: string, nodeName: string, fixed = true): string {
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('input', 'float32', fixed ? [1, 3, 16, 16] : [1, 3, 'H', 'W']);
  const w = b.constFloat('w', [4, 3, 3, 3], new Float32Array(108).fill(0.1));
  const y = b.op('Conv', [x, w], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]) }, nodeName);
  b.addOutput(b.op('Relu', [y], {}, `relu${CLEAR}`), 'out', 'float32');
  const p = join(dir, `${name}.onnx`);
  saveOnnx(b.build(), p);
  return p;
}

describe('names are escaped before printing', () => {
  it('escapeName shows control characters as \\xNN; errorLine keeps one line', () => {
    expect(escapeName(`a${OSC}b\rc`)).toBe('a\\x1b]0;pwned\\x07b\\x0dc');
    expect(errorLine(new FdkError('bad node \'x\ry\'', { file: 'f.onnx' }))).toBe("fdk: error: f.onnx: bad node 'x\\x0dy'");
  });

  it('fdk analyze: the table and Markdown carry no raw escape sequence', async () => {
    const p = named('osc', `conv${OSC}`);
    const r = runCli(['analyze', p]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(r.stdout).toContain('conv\\x1b]0;pwned\\x07');
    expect(r.stdout).toContain('relu\\x1b[2J');
    const md = renderMarkdown(await analyzeFile(p));
    expect(md).not.toMatch(/\u001b/);
    expect(md).toContain('conv\\x1b]0;pwned\\x07');
  });

  it('an error naming a node with \\r is still one line', () => {
    const b = new GraphBuilder({ opset: 13 });
    b.addOutput(b.op('NoSuchOp', [b.addInput('input', 'float32', [1, 3])], {}, 'evil\rfdk: ok'), 'out', 'float32');
    const p = join(dir, 'cr.onnx');
    saveOnnx(b.build(), p);
    const r = runCli(['analyze', p]);
    expectOneLineError(r, /cr\.onnx: .*evil\\x0dfdk: ok/);
    expect(r.stderr).not.toContain('\r');
  });
});

describe('every printer of model-derived names escapes them', () => {
  const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
  /** Conv -> Relu -> Sigmoid; every node, tensor, input and output name carries `tag`. */
  function hostile(file: string, tag: (s: string) => string): string {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput(tag('in'), 'float32', [1, 3, 16, 16]);
    const w = b.constFloat(tag('w'), [4, 3, 3, 3], new Float32Array(108).map((_, i) => Math.sin(i) / 4));
    const y = b.op('Conv', [x, w], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]) }, tag('conv'));
    const z = b.op('Relu', [y], {}, tag('relu'));
    b.addOutput(b.op('Sigmoid', [z], {}, tag('sig')), tag('out'), 'float32');
    const p = join(dir, file);
    saveOnnx(b.build(), p);
    return p;
  }
  /** stdout and stderr carry no raw control character (a newline ends a line and is allowed). */
  const expectClean = (r: { code: number; stdout: string; stderr: string }, escaped: string) => {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(RAW);
    expect(r.stdout).toContain(escaped);
  };

  it('analyze, bench and parity (ort vs ort-wasm): ESC, OSC, \\r and \\n in names', () => {
    const p = hostile('names-all.onnx', (s) => `${s}${OSC}${CLEAR}\r\n`);
    const esc = '\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\x0a';
    expectClean(runCli(['analyze', p]), `conv${esc}`);
    const parity = runCli(['parity', p, '--runtimes', 'ort,ort-wasm']);
    expectClean(parity, `out${esc}`);
    expect(parity.stdout).toMatch(/parity: ok/);
    const bench = runCli(['bench', p, '--runtimes', 'ort', '--runs', '2', '--warmup', '0']);
    expect(bench.code, bench.stderr).toBe(0);
    expect(bench.stdout + bench.stderr).not.toMatch(RAW);
  });

  it('parity --per-layer --all against real ncnn: node and tensor names escaped', () => {
    // ncnn names may not hold whitespace (convert refuses them), so ESC and OSC only here
    const p = hostile('names-ncnn.onnx', (s) => `${s}${OSC}`);
    const r = runCli(['parity', p, '--per-layer', '--all']);
    expectClean(r, 'conv\\x1b]0;pwned\\x07');
    expect(r.stdout).toMatch(/relu\\x1b\]0;pwned\\x07|sig\\x1b\]0;pwned\\x07/);
  });
});

describe('usage errors carry the fdk: prefix', () => {
  it('an unknown command and a missing --to', () => {
    expectOneLineError(runCli(['frobnicate']), /^fdk: error: unknown command 'frobnicate'/);
    expectOneLineError(runCli(['convert', 'x.onnx']), /^fdk: error: required option '--to <format>' not specified/);
  });
});

describe('the analyze table: one row per layer, drawn in one pass', () => {
  it('20,000 layers render with the same frame as the small table', async () => {
    const rep = await analyzeFile(named('table', 'conv'));
    const small = renderTable(rep).split('\n');
    const layer = rep.layers[0];
    const big = renderTable({ ...rep, layers: Array.from({ length: 20_000 }, (_, i) => ({ ...layer, name: `layer${i}` })) }).split('\n');
    // frame top, header, rule, 20,000 rows, frame bottom, then the same op and totals tables
    expect(big[0].startsWith('┌')).toBe(true);
    expect(big[3]).toMatch(/^│ +0 │ layer0 +│ Conv/);
    expect(big[20_002]).toMatch(/^│ 19999 │ layer19999 │ Conv/);
    expect(big[20_003].startsWith('└')).toBe(true);
    expect(big.length - 20_000).toBe(small.length - rep.layers.length);
  });
});

describe('resource limits', () => {
  it('thread counts: 0 is refused by parity (it crashed the ncnn worker) and bench', () => {
    expect(() => checkThreads('0')).toThrow(/bad --threads '0': expected an integer from 1 to 256/);
    expect(checkThreads('4')).toBe(4);
    const onnx = shared('models/ultra-light-1mb/onnx/version-slim-320.onnx');
    expectOneLineError(runCli(['parity', onnx, '--threads', '0', '--runtimes', 'ort,ncnn']), "bad --threads '0'");
    expectOneLineError(runCli(['bench', onnx, '--threads', '0', '--runtimes', 'ort']), "bad --threads '0'");
  });

  it('bench --input 1x3x20000x20000 and detect --long-side 20000 are refused before any runtime starts', () => {
    const p = named('dyn', 'conv', false);
    expectOneLineError(runCli(['bench', p, '--input', '1x3x20000x20000', '--runtimes', 'ort']), /1x3x20000x20000: 20000x20000 = 400000000 pixels is over the limit of 67108864/);
    expectOneLineError(runCli(['detect', shared('images/seed-sample.jpg'), '--model', 'slim', '--long-side', '20000', '--no-annotate']), /--long-side: 20000x20000 = 400000000 pixels/);
  });

  it("the memory one inference needs is estimated from analyze's figures and refused over the limit", async () => {
    const p = named('mem', 'conv', false);
    const t = (await analyzeFile(p, { inputShapes: { '': [1, 3, 2000, 2000] } })).totals;
    expect(estimateInferenceBytes(t)).toBe(t.weightBytes + 2 * t.peakActivationBytes);
    const r = runCli(['bench', p, '--input', '1x3x2000x2000', '--runtimes', 'ort'], { env: { ...process.env, CI: 'true', FDK_MAX_MEMORY_MB: '64' } });
    expectOneLineError(r, /mem\.onnx input 1x3x2000x2000: one inference needs about \d+ MiB .* over the limit of 64 MiB/);
  });

  it('--max-pixels and --max-memory MB: one option definition on bench, detect, parity and accuracy; flags win over the environment', () => {
    const p = named('flags', 'conv', false);
    const img = shared('images/seed-sample.jpg');
    expectOneLineError(runCli(['bench', p, '--input', '1x3x16x16', '--runtimes', 'ort', '--max-pixels', '100']), /1x3x16x16: 16x16 = 256 pixels is over the limit of 100 \(raise it with --max-pixels/);
    expectOneLineError(runCli(['detect', img, '--model', 'slim', '--no-annotate', '--max-pixels', '10000']), /--long-side: 320x320 = 102400 pixels is over the limit of 10000/);
    expectOneLineError(runCli(['parity', p, '--input', '1x3x20000x20000', '--runtimes', 'ort']), /flags\.onnx input 1x3x20000x20000: 20000x20000 = 400000000 pixels is over the limit of 67108864/);
    expectOneLineError(runCli(['parity', p, '--input', '1x3x2000x2000', '--runtimes', 'ort', '--max-memory', '64']), /flags\.onnx input 1x3x2000x2000: one inference needs about \d+ MiB .* over the limit of 64 MiB \(raise it with --max-memory MB/);
    expectOneLineError(runCli(['accuracy', '--model', 'slim', '--long-side', '20000']), /--long-side: 20000x20000 = 400000000 pixels/);
    expectOneLineError(runCli(['bench', p, '--max-pixels', 'lots']), "bad --max-pixels 'lots': expected a positive number");
    // the flag raises a limit the environment set: the estimate passes and the model runs
    const env = { ...process.env, CI: 'true', FDK_MAX_MEMORY_MB: '64' };
    expectOneLineError(runCli(['bench', p, '--input', '1x3x2000x2000', '--runtimes', 'ort'], { env }), /over the limit of 64 MiB/);
    const r = runCli(['bench', p, '--input', '1x3x2000x2000', '--runtimes', 'ort', '--runs', '1', '--warmup', '0', '--max-memory', '4096', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).cases[0].input).toMatch(/2000x2000/);
  });

  it('a 1x5000 image at long side 320 resizes to width 0: an error naming the image', async () => {
    const f = join(dir, 'thin.png');
    await sharp({ create: { width: 1, height: 5000, channels: 3, background: '#808080' } }).png().toFile(f);
    const r = runCli(['detect', f, '--model', 'slim', '--no-annotate']);
    expectOneLineError(r, /thin\.png: image 1x5000 resizes to 0x320/);
  });
});
