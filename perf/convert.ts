/**
 * `npm run bench:convert`: whole-process ONNX -> ncnn conversion time, fdk vs pnnx (PyPI, in
 * .venv-dev), on the same ONNX files: the Ultra-Light files from the data folder and fdk's own
 * exports (fixed and dynamic). For every result it also reports whether the real ncnn loads it
 * and how far its outputs are from onnxruntime at 320x240 and at 640x480 (dynamic inputs only:
 * the same .param must serve both sizes).
 *
 * fdk runs as `node bin/fdk.js convert` (the built CLI: `npm run build` first); pnnx as its
 * command-line tool with inputshape=[1,3,240,320] fp16=0 (pnnx stores fp16 weights by default; fdk writes fp32 unless --fp16). Times are medians of --runs N (default 3).
 * Then the same for the real-model corpus when it has been built (docs/corpus.md);
 * `--corpus-only` runs just that part, `--corpus a,b` limits it to some models, `--corpus-opsets
 * 11,13,17` widens it (default 13).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tmpdir } from 'node:os';
import { PROJECT_ROOT, resolveDataDir } from '../src/util/data.js';
import { getRuntime } from '../src/runtime/index.js';
import { exportedOnnxPath } from '../src/convert/onnx-export.js';
import { loadOnnx } from '../src/onnx/io.js';
import type { LoadedModel } from '../src/runtime/types.js';
import { median } from '../src/bench/stats.js';
import { CORPUS_DIR, corpusEntries, corpusTable, runCorpus } from '../scripts/corpus/run.js';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 3) || 3;
const work = mkdtempSync(join(tmpdir(), 'fdk-bench-convert-'));
const pnnxBin = join(PROJECT_ROOT, '.venv-dev', 'bin', 'pnnx');
const fdkCli = existsSync(join(PROJECT_ROOT, 'dist', 'cli', 'main.js')) ? ['bin/fdk.js'] : ['--import', 'tsx', 'src/cli/entry.ts'];

interface Row { file: string; dynamic: boolean; tool: string; ms: number | null; converts: boolean; loads: boolean; diff320: number | null; diff640: number | null | 'n/a'; note?: string }


function timed(cmd: string, argv: string[], cwd: string): { ms: number; ok: boolean; out: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' }, maxBuffer: 64 << 20 });
  return { ms: performance.now() - t0, ok: r.status === 0, out: `${r.stdout}\n${r.stderr}` };
}

function input(h: number, w: number) {
  return { data: Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 0.37) * 100), dims: [1, 3, h, w] };
}

async function parity(onnx: string, param: string, inputName: string, ncnnInput: string, sizes: [number, number][]): Promise<(number | null)[]> {
  const ort = await (await getRuntime('ort')).load(onnx);
  let n: LoadedModel | undefined;
  try {
    n = await (await getRuntime('ncnn')).load(param);
  } catch {
    await ort.release();
    throw new Error('ncnn cannot load it');
  }
  const out: (number | null)[] = [];
  for (const [h, w] of sizes) {
    try {
      const a = await ort.run({ [inputName]: input(h, w) });
      const names = Object.keys(a.outputs);
      const own = names.every((k) => (n as LoadedModel).outputNames.includes(k));
      const b = await n.run({ [ncnnInput]: input(h, w) }, own ? names : undefined);
      // pnnx renames blobs (in0, out0...) and may order outputs differently: each onnxruntime
      // output is compared with the ncnn output of the same element count that matches best
      const bo = own ? names.map((k) => b.outputs[k]) : Object.values(b.outputs);
      let m = 0;
      for (const [k, v] of Object.entries(a.outputs)) {
        let best = Infinity;
        for (const g of own ? [b.outputs[k]] : bo) {
          if (!g || g.data.length !== v.data.length) continue;
          let d = 0;
          for (let i = 0; i < v.data.length; i++) d = Math.max(d, Math.abs(v.data[i] - g.data[i]));
          best = Math.min(best, d);
        }
        m = Math.max(m, best);
      }
      out.push(m);
    } catch {
      out.push(null);
    }
  }
  await ort.release();
  await n.release();
  return out;
}

/** Loads a conversion in ncnn and records whether it loads and how far it is from onnxruntime. */
async function checkInNcnn(row: Row, f: { path: string; dynamic: boolean }, param: string, inputName: string, ncnnInput: string, sizes: [number, number][]): Promise<void> {
  try {
    const d = await parity(f.path, param, inputName, ncnnInput, sizes);
    row.loads = true;
    row.diff320 = d[0];
    if (f.dynamic) row.diff640 = d[1];
  } catch (e) {
    row.note = (e as Error).message;
  }
}

async function main(): Promise<void> {
  if (args.includes('--corpus-only')) return corpusTimings();
  const data = resolveDataDir()!;
  const onnxDir = join(data, 'models/ultra-light-1mb/onnx');
  const files: { path: string; dynamic: boolean }[] = readdirSync(onnxDir).filter((f) => f.endsWith('.onnx')).sort().map((f) => ({ path: join(onnxDir, f), dynamic: false }));
  for (const id of ['slim', 'rfb', 'mnet0.25']) for (const dynamic of [false, true]) files.push({ path: exportedOnnxPath(id, { dynamic }), dynamic });
  files.push({ path: exportedOnnxPath('ulfd-slim-320', { dynamic: true, postprocess: false }), dynamic: true });
  if (!existsSync(pnnxBin)) console.error(`bench:convert: ${pnnxBin} is missing (bash scripts/setup-python.sh --bench: pnnx pulls torch, ~5 GB); pnnx rows are skipped`);
  const rows: Row[] = [];
  for (const f of files) {
    const name = basename(f.path, '.onnx');
    const model = loadOnnx(f.path);
    const inputName = model.graph.inputs.filter((i) => !model.graph.initializers.has(i.name))[0].name;
    const sizes: [number, number][] = f.dynamic ? [[240, 320], [480, 640]] : [[240, 320]];
    // fdk
    {
      const prefix = join(work, 'fdk', name);
      const t = Array.from({ length: runs }, () => timed(process.execPath, [...fdkCli, 'convert', f.path, '--to', 'ncnn', '-o', prefix], PROJECT_ROOT));
      const ok = t.every((x) => x.ok);
      const row: Row = { file: name, dynamic: f.dynamic, tool: 'fdk', ms: ok ? median(t.map((x) => x.ms)) : null, converts: ok, loads: false, diff320: null, diff640: f.dynamic ? null : 'n/a' };
      if (!ok) row.note = t.find((x) => !x.ok)!.out.trim().split('\n').pop();
      else {
        await checkInNcnn(row, f, `${prefix}.param`, inputName, inputName, sizes);
      }
      rows.push(row);
    }
    // pnnx
    if (existsSync(pnnxBin)) {
      const dir = join(work, 'pnnx', name);
      mkdirSync(dir, { recursive: true });
      const local = join(dir, basename(f.path));
      copyFileSync(f.path, local);
      const t = Array.from({ length: runs }, () => timed(pnnxBin, [basename(local), 'inputshape=[1,3,240,320]', 'fp16=0'], dir));
      const stem = basename(local, '.onnx').replace(/[^A-Za-z0-9_]/g, '_');
      const param = join(dir, `${stem}.ncnn.param`);
      const ok = t.every((x) => x.ok) && existsSync(param) && statSync(param).size > 0;
      const row: Row = { file: name, dynamic: f.dynamic, tool: 'pnnx', ms: ok ? median(t.map((x) => x.ms)) : null, converts: ok, loads: false, diff320: null, diff640: f.dynamic ? null : 'n/a' };
      if (!ok) row.note = t.find((x) => !x.ok)?.out.trim().split('\n').pop() ?? 'no .ncnn.param written';
      else {
        await checkInNcnn(row, f, param, inputName, 'in0', sizes);
      }
      rows.push(row);
    }
  }
  const fmt = (v: number | null | 'n/a') => (v === 'n/a' ? 'n/a' : v === null ? 'fails' : v === Infinity ? 'wrong shape' : v.toExponential(1));
  console.log(`| ONNX file | dyn | tool | ms (median of ${runs}) | pnnx/fdk | converts | ncnn loads | max diff 320x240 | max diff 640x480 |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const fdk = rows.find((x) => x.file === r.file && x.tool === 'fdk');
    const ratio = r.tool === 'pnnx' && r.ms && fdk?.ms ? (r.ms / fdk.ms).toFixed(1) + 'x' : '';
    console.log(`| ${r.file} | ${r.dynamic ? 'yes' : ''} | ${r.tool} | ${r.ms ? r.ms.toFixed(0) : '–'} | ${ratio} | ${r.converts ? 'yes' : 'no'} | ${r.loads ? 'yes' : 'no'} | ${fmt(r.diff320)} | ${fmt(r.diff640)} |${r.note ? ` ${r.note.slice(0, 100)}` : ''}`);
  }
  rmSync(work, { recursive: true, force: true });
  await corpusTimings();
}

/**
 * The real-model corpus (scripts/corpus/build.py -> .fdk/corpus, needs torch): conversion time
 * fdk vs pnnx per file, plus whether ncnn loads each result and its difference to onnxruntime.
 * Skipped with a note when the corpus has not been built. `--corpus-only` skips the table above.
 */
async function corpusTimings(): Promise<void> {
  if (!corpusEntries().some((e) => e.file)) {
    console.log(`\ncorpus: ${CORPUS_DIR} is empty; build it with scripts/corpus/build.py (torch, see docs/corpus.md)`);
    return;
  }
  const only = args.includes('--corpus') ? args[args.indexOf('--corpus') + 1].split(',') : undefined;
  // opset 13 by default: pnnx takes tens of seconds a file, the three opsets would take an hour
  const opsets = (args.includes('--corpus-opsets') ? args[args.indexOf('--corpus-opsets') + 1] : '13').split(',').map(Number);
  const rows = await runCorpus({ only, opsets, speed: false, log: (m) => process.stderr.isTTY && process.stderr.write(`corpus: ${m}\n`) });
  console.log(`\nReal-model corpus (${rows.length} files, whole-process conversion, one run each):\n`);
  console.log(corpusTable(rows));
}

main().catch((e) => {
  console.error(`bench:convert: ${(e as Error).message}`);
  process.exit(1);
});
