/**
 * fdk's own Python venv for the ncnn worker (`.fdk/ncnn-venv`): created by `fdk setup ncnn` or on
 * first use, then reused. Concurrent setups (parallel tests, two CLIs) are serialized by a lock
 * directory; a ready marker written last means a half-finished venv is never used.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workDir } from '../util/data.js';
import { FdkError } from '../util/errors.js';

/** Pinned so every machine benchmarks the same ncnn build. */
export const NCNN_REQUIREMENTS = ['ncnn==1.0.20261020', 'numpy>=1.24,<3'];

export function ncnnVenvDir(): string {
  return workDir('ncnn-venv');
}
const readyMarker = () => join(ncnnVenvDir(), 'fdk-ready.json');
export const venvPython = () => join(ncnnVenvDir(), 'bin', 'python');

export interface VenvInfo {
  python: string;
  created: boolean;
  requirements: string[];
}

/** The system Python used to create the venv: $FDK_PYTHON, else python3. */
function basePython(): string {
  return process.env.FDK_PYTHON || 'python3';
}

function isReady(): boolean {
  if (!existsSync(readyMarker()) || !existsSync(venvPython())) return false;
  try {
    const m = JSON.parse(readFileSync(readyMarker(), 'utf8')) as { requirements?: string[] };
    return JSON.stringify(m.requirements) === JSON.stringify(NCNN_REQUIREMENTS);
  } catch {
    return false;
  }
}

function lastLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.at(-1) ?? '';
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** mkdir is atomic: whoever creates the lock folder owns it; a dead owner's lock is taken over. */
async function withLock<T>(fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  const lock = workDir('ncnn-venv.lock');
  mkdirSync(workDir(), { recursive: true });
  const t0 = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new FdkError(`cannot create lock: ${(e as Error).message}`, { file: lock });
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        /* owner is between mkdir and writing its pid */
      }
      if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - t0 > timeoutMs)
        throw new FdkError(`timed out waiting for another fdk process setting up the ncnn venv (remove the lock if stale)`, { file: lock });
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Runs a command without blocking the event loop (pip can take a while; test workers must stay responsive). */
function run(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; error?: Error }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout = (stdout + c.toString()).slice(-64_000)));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-64_000)));
    child.on('error', (error) => done({ status: null, stdout, stderr, error }));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

async function createVenv(log: (s: string) => void): Promise<void> {
  const dir = ncnnVenvDir();
  const py = basePython();
  const v = await run(py, ['--version']);
  if (v.error)
    throw new FdkError(
      `${py} not found: the ncnn runtime runs in a Python worker; install Python 3.8+ (or set FDK_PYTHON) and run 'fdk setup ncnn'`,
    );
  rmSync(dir, { recursive: true, force: true });
  log(`creating ${dir} with ${py} (${(v.stdout || v.stderr).trim()})`);
  const mk = await run(py, ['-m', 'venv', dir]);
  if (mk.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new FdkError(
      `${py} -m venv failed (${lastLine(mk.stderr || mk.stdout) || 'no output'}); on Debian/Ubuntu install python3-venv`,
      { file: dir },
    );
  }
  const pipOk = await run(venvPython(), ['-m', 'pip', '--version']);
  if (pipOk.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new FdkError(`pip is missing in the new venv (${lastLine(pipOk.stderr) || 'no output'}); install python3-pip / python3-venv`, { file: dir });
  }
  log(`installing ${NCNN_REQUIREMENTS.join(' ')}`);
  const pip = await run(venvPython(), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', ...NCNN_REQUIREMENTS]);
  if (pip.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new FdkError(`pip install ${NCNN_REQUIREMENTS.join(' ')} failed: ${lastLine(pip.stderr || pip.stdout)}`, { file: dir });
  }
  const check = await run(venvPython(), ['-c', 'import ncnn, numpy; print(ncnn.__version__)']);
  if (check.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new FdkError(`ncnn was installed but does not import: ${lastLine(check.stderr)}`, { file: dir });
  }
  writeFileSync(readyMarker(), JSON.stringify({ requirements: NCNN_REQUIREMENTS, ncnn: check.stdout.trim(), created: new Date().toISOString() }));
  log(`ncnn ${check.stdout.trim()} ready`);
}

/** Returns the venv's python, creating the venv first if needed (under the lock). */
export async function ensureNcnnVenv(opts: { log?: (s: string) => void; force?: boolean } = {}): Promise<VenvInfo> {
  const log = opts.log ?? (() => {});
  if (!opts.force && isReady()) return { python: venvPython(), created: false, requirements: NCNN_REQUIREMENTS };
  return withLock(async () => {
    // another process may have finished the setup while we waited for the lock
    if (!opts.force && isReady()) return { python: venvPython(), created: false, requirements: NCNN_REQUIREMENTS };
    await createVenv(log);
    return { python: venvPython(), created: true, requirements: NCNN_REQUIREMENTS };
  });
}
