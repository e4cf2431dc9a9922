/**
 * `npm run fuzz [-- OPTIONS]`: structure-aware and byte-level fuzzing of every parser fdk exposes
 * to files (ONNX, ncnn .param/.bin, .pth legacy and zip, WIDER .mat, WIDER prediction text,
 * images), in-process for speed and through the CLI (`node bin/fdk.js`) for a sample.
 *
 *   --seconds N      time budget for the whole run, split evenly between targets (default 120)
 *   --inputs N       inputs per target (default: unbounded, the time budget decides)
 *   --seed N         fixed seed (default 1): input i of a target is the same on every machine
 *   --targets a,b    subset of: onnx,param,bin,pth,mat,pred,image
 *   --cli-every N    run the CLI on every Nth input (default 100; 0 = never)
 *   --hang-ms N      an input running longer than this is a hang (default 10000)
 *   --out DIR        failing inputs (default test-artifacts/fuzz)
 *   --parallel       run all targets at once (each with the whole time budget) instead of one
 *                    after another: a long run stopped early still has counts for every parser
 *   --write-docs     write the result table into docs/robustness.md (between its fuzz markers)
 *   --replay PATH    re-run saved inputs (a file or a folder of them) and print their outcome
 *
 * Outcomes: success, clean (one `fdk: error:` line naming the file), unnamed (an FdkError that
 * does not name the file), crash (any other exception, a signal, a non-fdk message) and hang.
 * Exit status 1 when any input crashed, hung or gave an unnamed error.
 *
 * SIGINT / SIGTERM stop the run early: the workers are stopped (the inputs they were on are not
 * counted), and the table of what ran so far is printed, and written with --write-docs, as a
 * partial run with the real counts.
 */
import { fork } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS, type Target } from './targets.js';
import { classifyCli, classifyError, runCli, saveFailure, type Outcome } from './worker.js';
import { stampDoc } from '../scripts/doc-sections.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUTCOMES: Outcome[] = ['success', 'clean', 'unnamed', 'crash', 'hang'];

interface Options {
  seconds: number;
  inputs: number;
  seed: number;
  targets: string[];
  cliEvery: number;
  hangMs: number;
  cliTimeoutMs: number;
  out: string;
  writeDocs: boolean;
  parallel: boolean;
  replay?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 120, inputs: Number.MAX_SAFE_INTEGER, seed: 1, targets: TARGETS.map((t) => t.name), cliEvery: 100, hangMs: 10_000, cliTimeoutMs: 180_000, out: join(ROOT, 'test-artifacts', 'fuzz'), writeDocs: false, parallel: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    const n = () => {
      const x = Number(v());
      if (!Number.isFinite(x) || x < 0) throw new Error(`${a} needs a non-negative number`);
      return x;
    };
    if (a === '--seconds') o.seconds = n();
    else if (a === '--inputs') o.inputs = n();
    else if (a === '--seed') o.seed = n();
    else if (a === '--targets') o.targets = v().split(',');
    else if (a === '--cli-every') o.cliEvery = n();
    else if (a === '--hang-ms') o.hangMs = n();
    else if (a === '--out') o.out = resolve(v());
    else if (a === '--write-docs') o.writeDocs = true;
    else if (a === '--parallel') o.parallel = true;
    else if (a === '--replay') o.replay = resolve(v());
    else throw new Error(`unknown option ${a}`);
  }
  for (const t of o.targets) if (!TARGETS.some((x) => x.name === t)) throw new Error(`unknown target '${t}' (${TARGETS.map((x) => x.name).join(', ')})`);
  return o;
}

interface Stats {
  target: string;
  inputs: number;
  counts: Record<Outcome, number>;
  cliRuns: number;
  cliCounts: Record<Outcome, number>;
  peakRssKiB: number;
  cliPeakRssKiB: number;
  seconds: number;
}

const zero = (): Record<Outcome, number> => ({ success: 0, clean: 0, unnamed: 0, crash: 0, hang: 0 });

/** Set by SIGINT/SIGTERM: no new workers start, running ones are stopped, the partial table is written. */
let stopping: string | undefined;
const running = new Set<ReturnType<typeof fork>>();

/**
 * CPU seconds a process has used (user + system, from /proc), or undefined where /proc is absent.
 * The hang bound is CPU time, not wall time: on a shared machine at load 30 a worker can wait
 * longer than the bound for the CPU without hanging (the 40-minute run's one "hang" re-ran in 0.3 s).
 */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return undefined;
  }
}

/** Runs one target in worker processes until its budget is used, restarting after a crash or hang. */
async function fuzzTarget(t: Target, o: Options, budgetMs: number): Promise<Stats> {
  const s: Stats = { target: t.name, inputs: 0, counts: zero(), cliRuns: 0, cliCounts: zero(), peakRssKiB: 0, cliPeakRssKiB: 0, seconds: 0 };
  const t0 = Date.now();
  const deadline = t0 + budgetMs;
  const work = mkdtempSync(join(tmpdir(), `fdk-fuzz-${t.name}-`));
  let next = 0;
  try {
    while (next < o.inputs && Date.now() < deadline && !stopping) {
      const start = next;
      const end = await new Promise<number>((done) => {
        const child = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [JSON.stringify({ target: t.name, seed: o.seed, start, end: o.inputs, deadline, cliEvery: o.cliEvery, cliTimeoutMs: o.cliTimeoutMs, outDir: o.out, work })], {
          execArgv: ['--import', 'tsx', '--max-old-space-size=3072'],
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        });
        running.add(child);
        let current = start;
        let finished = false;
        let hung = false;
        let stderr = '';
        child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
        // A beat starts the clock; CLI samples get their own (longer) bound inside the worker. The
        // bound is on CPU time where /proc tells it (see cpuSeconds), with 10x the bound in wall time as a backstop.
        let timer: NodeJS.Timeout | undefined;
        const arm = (ms: number) => {
          clearTimeout(timer);
          const cpu0 = cpuSeconds(child.pid);
          const wall0 = Date.now();
          const check = () => {
            const cpu = cpuSeconds(child.pid);
            const starved = cpu !== undefined && cpu0 !== undefined && (cpu - cpu0) * 1000 < ms && Date.now() - wall0 < 10 * ms;
            if (starved) {
              timer = setTimeout(check, Math.max(1000, ms - (cpu - cpu0!) * 1000));
              return;
            }
            hung = true;
            child.kill('SIGKILL');
          };
          timer = setTimeout(check, ms);
        };
        child.on('message', (m: { t: string; i: number; c: Outcome; cli?: { c: Outcome; rss: number }; rss?: number }) => {
          if (m.rss) s.peakRssKiB = Math.max(s.peakRssKiB, m.rss);
          if (m.t === 'beat') {
            current = m.i;
            arm(o.hangMs + (o.cliEvery > 0 && m.i % o.cliEvery === 0 ? o.cliTimeoutMs : 0));
          } else if (m.t === 'res') {
            s.inputs++;
            s.counts[m.c]++;
            if (m.cli) {
              s.cliRuns++;
              s.cliCounts[m.cli.c]++;
              s.cliPeakRssKiB = Math.max(s.cliPeakRssKiB, m.cli.rss);
            }
            current = m.i + 1;
          } else if (m.t === 'done') {
            finished = true;
            s.peakRssKiB = Math.max(s.peakRssKiB, m.rss ?? 0);
          }
        });
        child.on('exit', (code, signal) => {
          clearTimeout(timer);
          running.delete(child);
          if (finished) return done(o.inputs); // the worker ran out of time or inputs
          if (stopping && !hung) return done(o.inputs); // stopped by the user: the input it was on is not counted
          // Died or was killed on input `current`: keep it, count it, and go on after it.
          const input = join(work, `input.${t.ext}`);
          const kind: Outcome = hung ? 'hang' : 'crash';
          const bytes = existsSync(input) ? readFileSync(input) : new Uint8Array(0);
          saveFailure(o.out, t, current, kind, bytes, hung ? `no answer within ${o.hangMs} ms` : `worker exited with ${signal ?? `code ${code}`}\n${stderr}`, 'process');
          s.inputs++;
          s.counts[kind]++;
          done(current + 1);
        });
      });
      next = end;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  s.seconds = (Date.now() - t0) / 1000;
  return s;
}

const mib = (kib: number) => (kib ? `${Math.round(kib / 1024)} MiB` : '-');

function table(stats: Stats[]): string {
  const head = '| parser | inputs (in-process) | success | clean error | unnamed | crash | hang | CLI runs (clean / success / bad) | peak RSS in-process | peak RSS CLI | seconds |';
  const rows = stats.map((s) => {
    const bad = s.cliCounts.crash + s.cliCounts.hang + s.cliCounts.unnamed;
    return `| ${s.target} | ${s.inputs} | ${s.counts.success} | ${s.counts.clean} | ${s.counts.unnamed} | ${s.counts.crash} | ${s.counts.hang} | ${s.cliRuns} (${s.cliCounts.clean} / ${s.cliCounts.success} / ${bad}) | ${mib(s.peakRssKiB)} | ${mib(s.cliPeakRssKiB)} | ${s.seconds.toFixed(0)} |`;
  });
  return [head, '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|', ...rows].join('\n');
}

const MARK_START = '<!-- fuzz-results:start (written by npm run fuzz -- --write-docs) -->';
const MARK_END = '<!-- fuzz-results:end -->';

/**
 * Writes the table between the markers of docs/robustness.md. Rows of targets this run did not
 * cover are kept from the table already there, so one target can be re-run alone (after a fix)
 * without losing the others; each run adds its own "Run ..." line naming its targets.
 */
function writeDocs(stats: Stats[], o: Options, argv: string[]): void {
  const doc = join(ROOT, 'docs', 'robustness.md');
  const text = readFileSync(doc, 'utf8');
  const a = text.indexOf(MARK_START);
  const b = text.indexOf(MARK_END);
  if (a < 0 || b < a) throw new Error(`${doc}: fuzz markers not found`);
  const old = text.slice(a + MARK_START.length, b).split('\n');
  const ran = new Set(stats.map((s) => s.target));
  const keptRows = old.filter((l) => /^\| [a-z]+ \| \d/.test(l) && !ran.has(l.split('|')[1].trim()));
  const keptRuns = keptRows.length ? old.filter((l) => l.startsWith('Run ')) : [];
  const fresh = table(stats).split('\n');
  const order = TARGETS.map((t) => t.name);
  const rows = [...keptRows, ...fresh.slice(2)].sort((x, y) => order.indexOf(x.split('|')[1].trim()) - order.indexOf(y.split('|')[1].trim()));
  const body = [
    MARK_START,
    '',
    ...keptRuns,
    `Run \`npm run fuzz -- ${argv.join(' ')}\` (seed ${o.seed}) on ${new Date().toISOString().slice(0, 16)}Z, node ${process.version}: ${[...ran].join(', ')}${stopping ? ` (partial: stopped by ${stopping}; the counts are what ran)` : ''}`,
    '',
    fresh[0],
    fresh[1],
    ...rows,
    '',
    MARK_END,
  ].join('\n');
  writeFileSync(doc, text.slice(0, a) + body + text.slice(b + MARK_END.length));
  stampDoc(doc); // content hash, checked by npm run docs:check
  console.log(`wrote the table into ${doc}`);
}

/** Re-runs saved inputs: the target is the folder name (test-artifacts/fuzz/<target>/...). */
async function replay(path: string, o: Options): Promise<number> {
  const files = statSync(path).isDirectory() ? readdirSync(path, { recursive: true }).map(String).map((f) => join(path, f)).filter((f) => statSync(f).isFile() && !f.endsWith('.txt')) : [path];
  let bad = 0;
  for (const f of files) {
    const t = TARGETS.find((x) => x.name === basename(dirname(f)));
    if (!t) {
      console.log(`${f}: skipped (parent folder is not a target name)`);
      continue;
    }
    const work = mkdtempSync(join(tmpdir(), 'fdk-replay-'));
    const input = join(work, `input.${t.ext}`);
    copyFileSync(f, input);
    let res: { c: Outcome; msg: string } = { c: 'success', msg: '' };
    try {
      await t.run(readFileSync(input), input, work);
    } catch (e) {
      res = classifyError(e, input);
    }
    const cr = classifyCli(runCli(t.cli(input, work), work, o.cliTimeoutMs), input);
    if (!['success', 'clean'].includes(res.c) || !['success', 'clean'].includes(cr.c)) bad++;
    console.log(`${f}: in-process ${res.c}${res.msg ? ` (${res.msg.split('\n')[0]})` : ''}; CLI ${cr.c}${cr.msg ? ` (${cr.msg.split('\n')[0]})` : ''}`);
    rmSync(work, { recursive: true, force: true });
  }
  return bad ? 1 : 0;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const o = parseArgs(argv);
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run fuzz does)');
  if (o.replay) return replay(o.replay, o);
  mkdirSync(o.out, { recursive: true });
  const targets = TARGETS.filter((t) => o.targets.includes(t.name));
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = sig;
    console.log(`fuzz: ${sig}: stopping the workers; the table of what ran so far follows`);
    for (const c of running) c.kill('SIGTERM');
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const stats: Stats[] = [];
  console.log(`fuzz: ${targets.map((t) => t.name).join(', ')} ${o.parallel ? 'at once' : 'one after another'}, ${o.seconds} s, seed ${o.seed}`);
  const report = (s: Stats) =>
    console.log(`${s.target}: ${s.inputs} inputs in ${s.seconds.toFixed(0)} s, ${OUTCOMES.map((c) => `${c} ${s.counts[c]}`).join(', ')}; CLI ${s.cliRuns} runs, ${OUTCOMES.map((c) => `${c} ${s.cliCounts[c]}`).join(', ')}`);
  if (o.parallel) {
    stats.push(...(await Promise.all(targets.map((t) => fuzzTarget(t, o, o.seconds * 1000).then((s) => (report(s), s))))));
  } else {
    for (const [k, t] of targets.entries()) {
      if (stopping) break;
      // Split what is left of the budget over the targets still to run.
      const used = stats.reduce((a, s) => a + s.seconds, 0);
      const budgetMs = Math.max(1000, ((o.seconds - used) * 1000) / (targets.length - k));
      const s = await fuzzTarget(t, o, budgetMs);
      stats.push(s);
      report(s);
    }
  }
  console.log(`\n${table(stats)}\n`);
  if (stopping) console.log(`partial run: stopped by ${stopping}`);
  if (o.writeDocs) writeDocs(stats, o, argv.filter((a) => a !== '--write-docs'));
  const bad = stats.reduce((a, s) => a + s.counts.crash + s.counts.hang + s.counts.unnamed + s.cliCounts.crash + s.cliCounts.hang + s.cliCounts.unnamed, 0);
  if (bad) console.log(`${bad} failing input(s) saved under ${o.out} (replay: npm run fuzz -- --replay ${o.out})`);
  return bad ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`fuzz: ${(e as Error).message}`);
    process.exit(2);
  },
);
