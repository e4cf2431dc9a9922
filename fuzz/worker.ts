/**
 * The fuzz loop for one target, in its own process (forked by run.ts): a native crash, a V8 abort
 * or a hang then costs this process, not the harness, and the input being run is still on disk
 * (`<work>/input.<ext>`) for run.ts to keep. Input i is generated from seedOf(seed, target, i)
 * alone, so a restart after a crash, or a replay, regenerates exactly the same bytes.
 *
 * Messages to the parent: {t:'beat', i} before input i, {t:'res', i, c, cli?} after it,
 * {t:'done', rss} at the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { basename, join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng, seedOf, int, type Rand } from './rng.js';
import { mutateBytes } from './mutate.js';
import { TARGETS, type Seed, type Target } from './targets.js';
import { FdkError, errorLine } from '../src/util/errors.js';

export type Outcome = 'success' | 'clean' | 'crash' | 'hang' | 'unnamed';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The bytes of input `i` of `target` (deterministic). */
export function generate(t: Target, seeds: Seed[], seed: number, i: number): { bytes: Uint8Array; how: string } {
  const r: Rand = rng(seedOf(seed, t.name, i));
  const s = seeds[int(r, seeds.length)];
  let bytes: Uint8Array | undefined;
  let how = `bytes(${s.name})`;
  if (t.structural && r() < 0.5) {
    try {
      bytes = t.structural(r, s.bytes);
      how = `structural(${s.name})`;
    } catch {
      bytes = undefined; // the seed could not be re-encoded with this edit: mutate bytes instead
    }
  }
  if (!bytes) bytes = mutateBytes(r, s.bytes);
  // Now and then, stack a byte mutation on a structural one.
  if (how.startsWith('structural') && r() < 0.2) bytes = mutateBytes(r, bytes);
  return { bytes, how };
}

/** Classifies an in-process exception: FdkError naming the file = clean, FdkError without it = unnamed, else crash. */
export function classifyError(e: unknown, file: string, work = dirname(file)): { c: Outcome; msg: string } {
  const msg = errorLine(e);
  if (!(e instanceof FdkError)) return { c: 'crash', msg: `${msg}${e instanceof Error && e.stack ? `\n${e.stack}` : ''}` };
  return { c: namesFile(msg, file, work) ? 'clean' : 'unnamed', msg };
}

/** The line names the input, or a file the target derived from it in the work folder (a ground-truth copy, a .bin beside). */
const namesFile = (line: string, file: string, work: string) => line.includes(basename(file)) || line.includes(work);

/** Classifies a CLI run: exit 0 = success; one `fdk: error:` line naming the file = clean. */
export function classifyCli(r: { status: number | null; signal: string | null; stderr: string; error?: Error }, file: string, work = dirname(file)): { c: Outcome; msg: string } {
  const err = r.stderr.trim();
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') return { c: 'hang', msg: 'CLI timed out' };
  if (r.signal) return { c: 'crash', msg: `killed by ${r.signal}: ${err.slice(0, 2000)}` };
  if (r.status === 0) return { c: 'success', msg: '' };
  const lines = err.split('\n').filter((l) => l && !l.startsWith('fdk: warning:'));
  if (lines.length !== 1 || !lines[0].startsWith('fdk: error: ') || r.status === null || r.status > 2) return { c: 'crash', msg: `exit ${r.status}: ${err.slice(0, 2000)}` };
  return { c: namesFile(lines[0], file, work) ? 'clean' : 'unnamed', msg: lines[0] };
}

/** Runs `fdk ARGS` from dist/ (npm run fuzz builds first) with a time bound; peak RSS via /usr/bin/time when present. */
export function runCli(args: string[], work: string, timeoutMs: number) {
  const fdk = join(ROOT, 'bin', 'fdk.js');
  const rssFile = join(work, 'cli-rss');
  const timed = existsSync('/usr/bin/time');
  const cmd = timed ? '/usr/bin/time' : process.execPath;
  const argv = timed ? ['-f', '%M', '-o', rssFile, process.execPath, fdk, ...args] : [fdk, ...args];
  const r = spawnSync(cmd, argv, { cwd: work, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, CI: 'true', FORCE_COLOR: '0' }, maxBuffer: 64 * 1024 * 1024 });
  let rssKiB = 0;
  if (timed && existsSync(rssFile)) rssKiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) || 0;
  // /usr/bin/time reports a signal-killed child as "Command terminated by signal N" and exits 128+N.
  const sig = timed && /terminated by signal (\d+)/.exec(readFileSync(rssFile, 'utf8'));
  return { status: sig ? null : r.status, signal: sig ? `signal ${sig[1]}` : r.signal, stderr: String(r.stderr ?? ''), error: r.error, rssKiB };
}

/** Keeps a failing input and what happened, for `npm run fuzz -- --replay`. */
export function saveFailure(outDir: string, t: Target, i: number, c: Outcome, bytes: Uint8Array, msg: string, where: string): void {
  const dir = join(outDir, t.name);
  mkdirSync(dir, { recursive: true });
  const stem = `${c}-${where}-${i}`;
  writeFileSync(join(dir, `${stem}.${t.ext}`), bytes);
  writeFileSync(join(dir, `${stem}.txt`), `${where} ${c} on input ${i} of target ${t.name}\n${msg}\n`);
}

async function main(): Promise<void> {
  process.on('disconnect', () => process.exit(0)); // the harness is gone: do not run on as an orphan
  process.on('SIGINT', () => {}); // Ctrl-C reaches the whole process group: the harness decides when workers stop (SIGTERM)
  const o = JSON.parse(process.argv[2]) as { target: string; seed: number; start: number; end: number; deadline: number; cliEvery: number; cliTimeoutMs: number; outDir: string; work: string };
  const t = TARGETS.find((x) => x.name === o.target)!;
  const seeds = await t.seeds();
  const send = (m: unknown) => process.send!(m);
  mkdirSync(o.work, { recursive: true });
  const file = join(o.work, `input.${t.ext}`);
  for (let i = o.start; i < o.end && Date.now() < o.deadline; i++) {
    const { bytes, how } = generate(t, seeds, o.seed, i);
    writeFileSync(file, bytes);
    send({ t: 'beat', i });
    const scratch = mkdtempSync(join(o.work, 'run-'));
    let res: { c: Outcome; msg: string } = { c: 'success', msg: '' };
    try {
      await t.run(bytes, file, scratch);
    } catch (e) {
      res = classifyError(e, file);
    }
    if (res.c === 'crash' || res.c === 'unnamed') saveFailure(o.outDir, t, i, res.c, bytes, `${how}\n${res.msg}`, 'inproc');
    let cli: { c: Outcome; rss: number } | undefined;
    if (o.cliEvery > 0 && i % o.cliEvery === 0) {
      const r = runCli(t.cli(file, scratch), scratch, o.cliTimeoutMs);
      const cr = classifyCli(r, file);
      if (cr.c !== 'success' && cr.c !== 'clean') saveFailure(o.outDir, t, i, cr.c, bytes, `${how}\nfdk ${t.cli(file, scratch).join(' ')}\n${cr.msg}`, 'cli');
      cli = { c: cr.c, rss: r.rssKiB };
    }
    rmSync(scratch, { recursive: true, force: true });
    send({ t: 'res', i, c: res.c, cli, rss: process.resourceUsage().maxRSS }); // peak so far: kept if the run is stopped early
  }
  send({ t: 'done', rss: process.resourceUsage().maxRSS });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`fuzz worker failed: ${(e as Error).stack ?? e}\n`);
      process.exit(70);
    },
  );
}

