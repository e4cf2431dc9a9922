/** `fdk models list|verify`: the manifest and checksum verification of the data folder. */
import type { Command } from 'commander';
import { allFileRefs, loadManifest, verifyModel, getModel } from '../models/manifest.js';
import { resolveDataDir } from '../util/data.js';
import { printJson } from './output.js';
import { fitTable, printFitted } from './table.js';

export function register(program: Command): void {
  const models = program.command('models').description('list the models in the manifest, verify their files');
  models
    .command('list')
    .description('list models with their files and sources')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const all = loadManifest();
      if (opts.json) return printJson(all);
      const rows = all.map((m) => [m.id, m.family, m.arch, m.input.resize.mode === 'fixed' ? `${m.input.resize.width}x${m.input.resize.height}` : 'long side',
          allFileRefs(m).map(([r]) => r).join(' '), `${m.source.repo} (${m.source.license})`]);
      // the file list and the source wrap rather than lose their ends
      printFitted(fitTable(['id', 'family', 'arch', 'input', 'files', 'source'], rows, [{}, {}, {}, {}, { overflow: 'wrap' }, { overflow: 'wrap' }]));
    });
  models
    .command('verify [ids...]')
    .description('check that every model file exists under the data folder with the manifest sha256')
    .option('--json', 'machine-readable output')
    .action((ids: string[], opts: { json?: boolean }) => {
      const dir = resolveDataDir();
      const list = ids.length ? ids.map((i) => getModel(i)) : loadManifest();
      const results = list.map((m) => verifyModel(m, dir));
      if (opts.json) printJson({ dataDir: dir, results });
      else {
        for (const r of results) {
          if (r.ok) printFitted(`ok       ${r.id} (${r.files.length} files)`);
          else for (const f of r.files.filter((x) => x.status !== 'ok'))
            printFitted(`${f.status === 'missing' ? 'MISSING ' : 'MISMATCH'} ${r.id}: ${f.path}${f.actual ? ` (sha256 ${f.actual})` : ''}`);
        }
      }
      if (!results.every((r) => r.ok)) process.exitCode = 1;
    });
}
