#!/usr/bin/env node
/**
 * Cross-check of `fdk analyze --convention onnx-tool` against onnx-tool's own profile (PyPI,
 * in .venv-dev): total MACs, params and per-op-type MACs on the six Ultra-Light ONNX files and,
 * when they exist, fdk's exports of the seed models (.fdk/exports, made by the test suite or
 * `fdk convert`). Prints every difference; exits 1 when any total or per-op-type number differs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const data = process.env.FDK_DATA ?? resolve(root, '..', 'shared');
const shape = process.argv[2] ?? '1x3x240x320';
const py = join(root, '.venv-dev', 'bin', 'python');
if (!existsSync(py)) {
  console.error('crosscheck: .venv-dev missing; run `bash scripts/setup-python.sh` (onnx-tool is in scripts/requirements-dev.txt)');
  process.exit(2);
}
const ulDir = join(data, 'models', 'ultra-light-1mb', 'onnx');
const files = readdirSync(ulDir).filter((f) => f.endsWith('.onnx')).sort().map((f) => join(ulDir, f));
for (const id of ['slim', 'rfb', 'mnet0.25']) {
  const p = join(root, '.fdk', 'exports', `${id}-dyn-op13.onnx`);
  if (existsSync(p)) files.push(p);
}

const ot = spawnSync(py, [join(root, 'scripts', 'onnx-tool-profile.py'), shape, ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
if (ot.status !== 0) {
  console.error(ot.stderr);
  process.exit(2);
}
const theirs = JSON.parse(ot.stdout.trim().split('\n').pop());

let bad = 0;
for (const [i, file] of files.entries()) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/entry.ts'), 'analyze', file, '--input', shape, '--convention', 'onnx-tool', '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    console.log(`${file}: fdk failed: ${r.stderr.trim()}`);
    bad++;
    continue;
  }
  const ours = JSON.parse(r.stdout);
  const t = theirs[i];
  const name = file.replace(root + '/', '').replace(data + '/', '');
  const macsOk = ours.totals.macs === t.macs;
  console.log(`\n${name}`);
  console.log(`  MACs   fdk ${ours.totals.macs.toLocaleString('en-US').padStart(14)}  onnx-tool ${t.macs.toLocaleString('en-US').padStart(14)}  ${macsOk ? 'equal' : 'DIFFER'}`);
  console.log(`  params fdk ${ours.totals.params.toLocaleString('en-US').padStart(14)}  onnx-tool ${t.params.toLocaleString('en-US').padStart(14)}  ${ours.totals.params === t.params ? 'equal' : `differ by ${t.params - ours.totals.params}`}`);
  let opsDiffer = false;
  const ourOps = Object.fromEntries(ours.byOp.map((o) => [o.op, o]));
  for (const op of new Set([...Object.keys(ourOps), ...Object.keys(t.byOp)])) {
    const a = ourOps[op]?.macs ?? 0;
    const b = t.byOp[op]?.macs ?? 0;
    const ca = ourOps[op]?.count ?? 0;
    const cb = t.byOp[op]?.count ?? 0;
    const pa = ourOps[op]?.params ?? 0;
    const pb = t.byOp[op]?.params ?? 0;
    if (a !== b || ca !== cb || pa !== pb) {
      console.log(`  ${op.padEnd(20)} MACs ${a} vs ${b}, nodes ${ca} vs ${cb}, params ${pa} vs ${pb}`);
      opsDiffer = true;
    }
  }
  if (!opsDiffer) console.log(`  per op type (${Object.keys(t.byOp).length} types): nodes, MACs and params equal`);
  if (!macsOk || opsDiffer || ours.totals.params !== t.params) bad++;
}
console.log(bad ? `\n${bad} file(s) differ` : `\nall ${files.length} files: totals and per-op-type counts equal`);
process.exit(bad ? 1 : 0);
