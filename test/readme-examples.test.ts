/**
 * Every command in the README's "One example per command" block, pasted as a user would: run by
 * bash from a temporary directory outside the checkout, with `fdk` the checkout's bin and FDK_DATA
 * the data folder, exactly the set-up line the README gives. Each must exit 0. A README edit that
 * breaks a command (a renamed option, a moved file) fails here.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SHARED } from './helpers/index.js';
import { runBashAsync } from './helpers/cli-async.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const block = readme.split('<!-- readme-examples:begin')[1]?.split('<!-- readme-examples:end -->')[0] ?? '';
const commands = block.split('\n').filter((l) => l.startsWith('fdk '));
const setup = readme.split('\n').find((l) => l.startsWith('export FDK_DATA='))!;
const cwd = mkdtempSync(join(tmpdir(), 'fdk-readme-'));
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
  rmSync('/tmp/fdk-demo', { recursive: true, force: true });
});

const bash = (script: string) => runBashAsync(script, cwd);

describe('README examples, pasted from another directory', () => {
  it('has the set-up line and one example per command', () => {
    expect(setup).toMatch(/^export FDK_DATA=/);
    const verbs = new Set(commands.map((c) => c.split(/\s+/)[1]));
    for (const v of ['models', 'analyze', 'convert', 'bench', 'parity', 'detect', 'eval', 'accuracy', 'quantize', 'report']) expect(verbs, v).toContain(v);
  });

  // the README's own set-up line, with the data folder of this run and the checkout's bin as `fdk`
  const prelude = `set -e; fdk() { node ${JSON.stringify(join(ROOT, 'bin', 'fdk.js'))} "$@"; }; ${setup.replace('/path/to/shared', JSON.stringify(SHARED))}`;
  it.each(commands.map((c) => [c.replace(/\s+#.*$/, '')]))('%s', async (cmd) => {
    const r = await bash(`${prelude}; ${cmd}`);
    expect(r.code, r.out.slice(-2000)).toBe(0);
  }, 600_000);
});
