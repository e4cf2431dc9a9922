/**
 * The per-command pages (docs/commands/<command>.md, issue #16): one page for every command of the
 * CLI, and every example block on them runs as pasted, from a temporary directory outside the
 * checkout, with `fdk` the checkout's bin and FDK_DATA the data folder. A line marked
 * `# until Ctrl-C` (fdk serve) must still be running after a few seconds and have printed its URL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SHARED } from './helpers/index.js';
import { runBashAsync } from './helpers/cli-async.js';
import { COMMANDS } from '../src/cli/commands.js';

const cwd = mkdtempSync(join(tmpdir(), 'fdk-docs-'));
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
  rmSync('/tmp/fdk-docs', { recursive: true, force: true });
});

const page = (name: string) => join(ROOT, 'docs', 'commands', `${name}.md`);

/** The lines of a page's example block (between the markers, without the fences). */
function examples(name: string): string[] {
  const text = readFileSync(page(name), 'utf8');
  const block = text.split('<!-- docs-examples:begin -->')[1]?.split('<!-- docs-examples:end -->')[0] ?? '';
  return block.split('\n').filter((l) => l.trim() && !l.startsWith('```'));
}

/** A line as the test runs it: the data folder of this run; a server line under a timeout. */
function runnable(line: string): string {
  const l = line.replace('/path/to/shared', JSON.stringify(SHARED));
  if (!/#\s*until Ctrl-C/.test(l)) return l;
  const cmd = l.replace(/\s+#.*$/, '');
  return `{ timeout 8 ${cmd.replace(/^fdk /, 'node "$FDK_BIN" ')} > "$OUT/serve.log" 2>&1 || [ $? = 124 ]; } && grep -q 'http://127.0.0.1' "$OUT/serve.log"`;
}

const bash = (script: string) => runBashAsync(script, cwd);

describe('docs/commands: a page per command, every example runs', () => {
  it('every command has a page with a set-up line and examples of that command', () => {
    for (const name of Object.keys(COMMANDS)) {
      expect(existsSync(page(name)), `docs/commands/${name}.md`).toBe(true);
      const lines = examples(name);
      expect(lines[0], name).toMatch(/^export FDK_DATA=\/path\/to\/shared;/);
      expect(lines.some((l) => l.startsWith(`fdk ${name}`)), name).toBe(true);
    }
  });

  const bin = join(ROOT, 'bin', 'fdk.js');
  it.each(Object.keys(COMMANDS).map((n) => [n]))('%s', async (name) => {
    const script = [`set -e; export FDK_BIN=${JSON.stringify(bin)}; fdk() { node "$FDK_BIN" "$@"; }`, ...examples(name).map(runnable)].join('\n');
    const r = await bash(script);
    expect(r.code, r.out.slice(-2000)).toBe(0);
  }, 600_000);
});
