/** `fdk setup ncnn`: creates (or re-creates with --force) fdk's Python venv for the ncnn worker. */
import type { Command } from 'commander';
import { FdkError } from '../util/errors.js';
import { ensureNcnnVenv, ncnnVenvDir } from '../runtime/ncnn-venv.js';
import { printJson } from './output.js';
import { printFitted } from './table.js';

export function register(program: Command): void {
  program
    .command('setup <what>')
    .description("prepare an optional runtime: 'ncnn' creates .fdk/ncnn-venv with the PyPI ncnn package")
    .option('--force', 'delete and re-create the venv')
    .option('--json', 'machine-readable output')
    .action(async (what: string, opts: { force?: boolean; json?: boolean }) => {
      if (what !== 'ncnn') throw new FdkError(`nothing to set up for '${what}' (known: ncnn)`);
      const log = (s: string) => {
        if (!opts.json) process.stderr.write(`fdk setup ncnn: ${s}\n`);
      };
      const r = await ensureNcnnVenv({ log, force: opts.force });
      const { ncnnRuntime } = await import('../runtime/ncnn.js');
      const info = await ncnnRuntime.info();
      if (opts.json) printJson({ venv: ncnnVenvDir(), python: r.python, created: r.created, ncnn: info.version, detail: info.detail });
      else printFitted(`ncnn ${info.version} ready in ${ncnnVenvDir()}${r.created ? '' : ' (already set up)'}`);
    });
}
