/**
 * `npm run bench:wasm`: the two WebAssembly engines, ncnn-wasm (ncnn built by
 * scripts/build-ncnn-wasm.sh) and ort-wasm (onnxruntime-web), on every manifest model in one run,
 * in Node, at each model's bench input (320x240, and 640x480 for the 640 / dynamic models), plus
 * ncnn-wasm with its packed (pack4 SIMD) layouts off, to show what they are worth, and at 1 thread
 * ncnn-wasm's single-thread `simd` build (the default is the pthreads build, also at 1 thread).
 *
 * They are timed interleaved in one process (run A, B, C, A, B, C, ...), so a load change on
 * the shared machine hits them all alike; the ratio column is what to read. onnxruntime-web fixes
 * its thread count per process, so each thread count of WASM_THREADS runs in its own child process.
 * Prints Markdown and writes it into docs/wasm.md between `<!-- bench:wasm:start -->` and
 * `<!-- bench:wasm:end -->`.
 *
 * Then the lanes table: native ncnn, ncnn-wasm and ort-wasm in Node and in headless Chromium, at
 * each thread count, side by side (the engine of `fdk bench --browser chromium`, one process or
 * page per case, so not interleaved), written between `<!-- bench:wasm-lanes:start -->` and
 * `<!-- bench:wasm-lanes:end -->`.
 * env: WASM_RUNS (default 20), WASM_THREADS (default 1,2), WASM_MODELS (ids, default all),
 * WASM_LANES_MODELS (ids for the lanes table, default slim,ulfd-rfb-320), WASM_BROWSER (default
 * chromium; `none` skips the lanes table), WASM_NO_DOC=1 (print only).
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadManifest } from '../src/models/manifest.js';
import { resolveModelSource } from '../src/runtime/model-source.js';
import { getRuntime } from '../src/runtime/index.js';
import { syntheticInputs } from '../src/bench/case.js';
import { latencyStats } from '../src/bench/stats.js';
import { hostInfo } from '../src/bench/host.js';
import type { LoadedModel, LoadOptions, RuntimeName } from '../src/runtime/types.js';
import { writeDocSection } from '../scripts/doc-sections.js';
import { withBrowserLanes } from '../src/runtime/index.js';
import { runBench } from '../src/bench/run-bench.js';
import { sideBySide } from '../src/bench/side-by-side.js';

const runs = Number(process.env.WASM_RUNS ?? 20);
const threadList = (process.env.WASM_THREADS ?? '1,2').split(',').map(Number);
const lanesModels = (process.env.WASM_LANES_MODELS ?? 'slim,ulfd-rfb-320').split(',');
const browser = process.env.WASM_BROWSER ?? 'chromium';
const only = process.env.WASM_MODELS?.split(',');
const HEADER = [
  '| model | input | threads | ort-wasm ms | ncnn-wasm ms | ncnn-wasm / ort-wasm | ncnn-wasm, packing off ms | ncnn-wasm, simd build ms | simd build / ort-wasm |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|',
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
    // the single-thread build, which ncnn-wasm used at 1 thread before the pthreads build became the default
    ...(threads === 1 ? [['simd build', 'ncnn-wasm', { ncnn: { wasmBuild: 'simd' } }] as [string, RuntimeName, LoadOptions]] : []),
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
      const single = threads === 1 ? med('simd build') : undefined;
      const ratio = (a: number | string | undefined) => (typeof ort === 'number' && typeof a === 'number' ? (a / ort).toFixed(2) : '-');
      lines.push(`| ${entry.id} | ${dims[3]}x${dims[2]} | ${threads} | ${f(ort)} | ${f(ncnn)} | ${ratio(ncnn)} | ${f(unpacked)} | ${f(single)} | ${ratio(single)} |`);
      process.stderr.write(`${entry.id} ${dims.join('x')} t${threads}: ort-wasm ${f(ort)} ncnn-wasm ${f(ncnn)} (packing off ${f(unpacked)})\n`);
    }
  }
  return lines;
}

/** Native ncnn and both WebAssembly engines in Node and in the browser, runtimes as columns. */
async function lanesTable(): Promise<string> {
  const load0 = loadavg()[0];
  const runtimes = await withBrowserLanes(['ncnn', 'ncnn-wasm', 'ort-wasm'], browser);
  const cells = [];
  const notes = new Set<string>();
  for (const id of lanesModels) {
    const src = await resolveModelSource(id);
    const dynamic = Object.values(src.inputs)[0]?.some((d) => typeof d !== 'number');
    const rep = await runBench(src, { runtimes, threads: threadList, shapes: shapesFor(id, Boolean(dynamic)), warmup: 3, runs, caseTimeoutMs: 10 * 60_000 });
    for (const c of rep.cases) {
      const [, , h, w] = c.input.split(',')[0].split('x').map(Number);
      cells.push({ runtime: c.runtime, threads: c.threads, input: `${id}\t${w}x${h}`, medianMs: c.error ? undefined : c.latency.median });
      for (const n of c.notes) if (n.startsWith('browser lane')) notes.add(n.replace(/ in HeadlessChrome\/\S+/, ' in headless Chromium'));
      process.stderr.write(`${id} ${c.runtime} t${c.threads} ${c.input}: ${c.error ?? c.latency.median.toFixed(2)}\n`);
    }
  }
  const { head, rows } = sideBySide(cells);
  return [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:wasm\` (the engine of \`fdk bench --browser ${browser}\`); ` +
      `median ms of ${runs} runs after 3 warm-up runs, one process (Node) or page (${browser}) per cell, so cells are not interleaved; load average at start ${load0.toFixed(2)}. ` +
      `Browser builds that ran: ${[...notes].map((n) => n.replace(/^browser lane: /, '')).join('; ') || 'none'}.`,
    '',
    `| model | input | ${head.slice(1).join(' | ')} |`,
    `|---|---|${head.slice(1).map(() => '---:').join('|')}|`,
    ...rows.map(([input, ...rest]) => `| ${input.split('\t').join(' | ')} | ${rest.join(' | ')} |`),
  ].join('\n');
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
      `median of ${runs} runs after 3 warm-up runs, the engines interleaved in one process, timed inside each engine, synthetic input; ` +
      `load average at start ${load0.toFixed(2)} (a shared machine: read the ratio, not the absolute ms).`,
    '',
    ...HEADER,
    ...rows,
  ].join('\n');
  console.log(text);
  if (!process.env.WASM_NO_DOC) process.stderr.write(`wrote the table into ${writeDocSection('bench:wasm', text)}\n`);
  if (browser !== 'none') {
    const lanes = await lanesTable();
    console.log('\n' + lanes);
    if (!process.env.WASM_NO_DOC) process.stderr.write(`wrote the lanes table into ${writeDocSection('bench:wasm-lanes', lanes)}\n`);
  }
}
