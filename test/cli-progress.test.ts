/**
 * Progress bars (issue #16): report, bench, parity and convert draw a bar on stderr when it is a
 * terminal (a real pseudo-terminal here, through `script`), and none in a pipe, in CI or with --json.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { A, GraphBuilder } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { ROOT, TSX, runCli } from './helpers/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'fdk-progress-'));
const CLI = `${JSON.stringify(process.execPath)} --import ${JSON.stringify(TSX)} ${JSON.stringify(resolve(ROOT, 'src/cli/entry.ts'))}`;
/** What the bar draws: `label [████░░░░] 2/6 stages, 1s`. */
const BAR = /\[[█░]+\] \d+\/\d+ (stages|cases|steps)/;
let model: string;

/** Runs fdk on a pseudo-terminal (stdout and stderr both on it); returns everything it drew. */
function onTty(args: string[], env = 'env -u CI'): string {
  const r = spawnSync('script', ['-qec', `${env} ${CLI} ${args.map((a) => JSON.stringify(a)).join(' ')}`, '/dev/null'], { encoding: 'utf8' });
  expect(r.status, r.stdout).toBe(0);
  return r.stdout;
}

beforeAll(() => {
  const g = new GraphBuilder({ opset: 13 });
  const x = g.addInput('input', 'float32', [1, 3, 16, 16]);
  const y = g.op('Conv', [x, g.constFloat('w', [4, 3, 1, 1], new Float32Array(12).fill(0.25))], { kernel_shape: A.ints([1, 1]) });
  g.addOutput(g.op('Relu', [y]), 'out', 'float32');
  model = join(tmp, 'tiny.onnx');
  saveOnnx(g.build(), model);
});

const commands = (): [string, string[]][] => [
  ['bench', ['bench', model, '--runtimes', 'ort,ort-wasm', '--runs', '1', '--warmup', '0', '--threads', '1']],
  ['parity', ['parity', model, '--runtimes', 'ort,ort-wasm']],
  ['convert', ['convert', model, '--to', 'ncnn', '--out', tmp, '--force']],
  ['report', ['report', '--models', 'ulfd-slim-320', '--stages', 'analyze', '--out', join(tmp, 'report')]],
];

describe('progress bars', () => {
  it('on a terminal: a bar on report, bench, parity and convert; the cursor is shown again', () => {
    for (const [name, args] of commands()) {
      const out = onTty(args);
      expect(out, name).toMatch(BAR);
      expect(out.lastIndexOf('\x1b[?25h'), `${name}: cursor shown after the bar hid it`).toBeGreaterThan(out.indexOf('\x1b[?25l'));
    }
  }, 180_000);

  it('none in a pipe, in CI or with --json', () => {
    for (const [name, args] of commands()) {
      const piped = runCli(args, { env: { ...process.env, CI: '' } });
      expect(piped.code, piped.stderr).toBe(0);
      expect(piped.stderr + piped.stdout, `${name} piped`).not.toMatch(BAR);
      expect(piped.stderr, `${name} piped`).not.toMatch(/\r|\x1b\[/);
    }
    expect(onTty(commands()[0][1], 'CI=true')).not.toMatch(BAR);
    expect(onTty([...commands()[0][1], '--json'])).not.toMatch(BAR);
    expect(onTty([...commands()[2][1], '--json'])).not.toMatch(BAR);
  }, 180_000);
});
