/**
 * `npm run bench:wasm`: the two WebAssembly engines, ncnn-wasm (ncnn built by
 * scripts/build-ncnn-wasm.sh) and ort-wasm (onnxruntime-web), on every manifest model in one run,
 * in Node, at each model's bench input (320x240, and 640x480 for the 640 / dynamic models), plus
 * ncnn-wasm with its packed (pack4 SIMD) layouts off, to show what they are worth.
 *
 * The three are timed interleaved in one process (run A, B, C, A, B, C, ...), so a load change on
 * the shared machine hits all three alike; the ratio column is what to read. onnxruntime-web fixes
 * its thread count per process, so each thread count of WASM_THREADS runs in its own child process.
 * Prints Markdown and writes it into docs/wasm.md between `<!-- bench:wasm:start -->` and
 * `<!-- bench:wasm:end -->`.
 * env: WASM_RUNS (default 20), WASM_THREADS (default 1; e.g. 1,2), WASM_MODELS (ids, default all),
 * WASM_NO_DOC=1 (print only).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadManifest } from '../src/models/manifest.js';
import { resolveModelSource } from '../src/runtime/model-source.js';
import { getRuntime } from '../src/runtime/index.js';
import { syntheticInputs } from '../src/bench/case.js';
import { latencyStats } from '../src/bench/stats.js';
import { hostInfo } from '../src/bench/host.js';
import { PROJECT_ROOT } from '../src/util/data.js';
import { writeFileAtomic } from '../src/util/fs.js';
import type { LoadedModel, LoadOptions, RuntimeName } from '../src/runtime/types.js';
import { stampDoc } from '../scripts/doc-sections.js';

const runs = Number(process.env.WASM_RUNS ?? 20);
const threadList = (process.env.WASM_THREADS ?? '1').split(',').map(Number);
const only = process.env.WASM_MODELS?.split(',');
const DOC = join(PROJECT_ROOT, 'docs', 'wasm.md');
const START = '<!-- bench:wasm:start -->';
const END = '<!-- bench:wasm:end -->';
const HEADER = [
  '| model | input | threads | ort-wasm ms | ncnn-wasm ms | ncnn-wasm / ort-wasm | ncnn-wasm, packing off ms |',
  '|---|---|---:|---:|---:|---:|---:|',
];

const shapesFor = (id: string, dynamic: boolean): number[][] =>
  id.endsWith('-640') ? [[1, 3, 480, 640]] : dynamic ? [[1, 3, 240, 320], [1, 3, 480, 640]] : [[1, 3, 240, 320]];

const f = (v: number | string | undefined) => (typeof v === 'number' ? v.toFixed(2) : v ?? '-');

/** Table rows for one thread count, measured in this process. */
async function rowsFor(threads: number): Promise<string[]> {
  const lines: string[] = [];
  const cases: [string, RuntimeName, LoadOptions][] = [
    ['ort-wasm', 'ort-wasm', {}],
    ['ncnn-wasm', 'ncnn-wasm', {}],
    ['unpacked', 'ncnn-wasm', { ncnn: { packing: false } }],
  ];
  for (const entry of loadManifest().filter((e) => !only || only.includes(e.id))) {
    let src;
    try {
      src = await resolveModelSource(entry.id);
    } catch (e) {
      lines.push(`| ${entry.id} | - | ${threads} | error: ${(e as Error).message.slice(0, 80)} | | | |`);
      continue;
    }
    const input = Object.keys(src.inputs)[0];
    const dynamic = Object.values(src.inputs)[0]?.some((d) => typeof d !== 'number');
    for (const dims of shapesFor(entry.id, Boolean(dynamic))) {
      const models: Record<string, LoadedModel | string> = {};
      for (const [label, rt, o] of cases)
        try {
          models[label] = await (await getRuntime(rt)).load(src.path, { threads, inputShapes: { [input]: dims }, ...o });
        } catch (e) {
          models[label] = `error: ${(e as Error).message.split('\n')[0].slice(0, 60)}`;
        }
      const feeds = syntheticInputs({ [input]: dims });
      const ms: Record<string, number[]> = {};
      for (let i = 0; i < runs + 3; i++)
        for (const [label, m] of Object.entries(models)) {
          if (typeof m === 'string') continue;
          const r = await m.run(feeds);
          if (i >= 3) (ms[label] ??= []).push(r.ms); // 3 warm-up rounds
        }
      const med = (label: string) => (typeof models[label] === 'string' ? (models[label] as string) : latencyStats(ms[label]).median);
      for (const m of Object.values(models)) if (typeof m !== 'string') await m.release();
      const [ort, ncnn, unpacked] = [med('ort-wasm'), med('ncnn-wasm'), med('unpacked')];
      const ratio = typeof ort === 'number' && typeof ncnn === 'number' ? (ncnn / ort).toFixed(2) : '-';
      lines.push(`| ${entry.id} | ${dims[3]}x${dims[2]} | ${threads} | ${f(ort)} | ${f(ncnn)} | ${ratio} | ${f(unpacked)} |`);
      process.stderr.write(`${entry.id} ${dims.join('x')} t${threads}: ort-wasm ${f(ort)} ncnn-wasm ${f(ncnn)} (packing off ${f(unpacked)})\n`);
    }
  }
  return lines;
}

if (process.env.WASM_CHILD) {
  // one thread count, rows on stdout for the parent
  console.log((await rowsFor(Number(process.env.WASM_CHILD))).join('\n'));
} else {
  const host = hostInfo();
  const started = new Date().toISOString();
  const load0 = loadavg()[0];
  const rows: string[] = [];
  for (const t of threadList) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, WASM_CHILD: String(t) },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    });
    rows.push(...String(out).trim().split('\n').filter(Boolean));
  }
  const text = [
    `Measured ${started.slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:wasm\` on ${host.cpu} (${host.cores} cores), Node ${host.node}; ` +
      `median of ${runs} runs after 3 warm-up runs, the three engines interleaved in one process, timed inside each engine, synthetic input; ` +
      `load average at start ${load0.toFixed(2)} (a shared machine: read the ratio, not the absolute ms).`,
    '',
    ...HEADER,
    ...rows,
  ].join('\n');
  console.log(text);
  if (!process.env.WASM_NO_DOC) {
    const doc = readFileSync(DOC, 'utf8');
    const a = doc.indexOf(START);
    const b = doc.indexOf(END);
    if (a < 0 || b < a) throw new Error(`${DOC}: markers ${START} / ${END} not found`);
    writeFileAtomic(DOC, doc.slice(0, a + START.length) + '\n' + text + '\n' + doc.slice(b));
    stampDoc(DOC); // content hash, checked by npm run docs:check
    process.stderr.write(`wrote the table into ${DOC}\n`);
  }
}
