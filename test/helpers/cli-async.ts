/**
 * `runCli` without blocking: spawnSync freezes the vitest worker's event loop, and a long CLI run
 * (bench, parity on a loaded 2-core machine) then makes vitest's RPC time out ("Timeout calling
 * onTaskUpdate") although every test passed. Same contract as runCli in ./index.ts.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT, TSX, type CliResult } from './index.js';

export function runCliAsync(args: string[], opts: SpawnOptions = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', TSX, resolve(ROOT, 'src/cli/entry.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...opts,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** A bash script as a user would paste it, run in `cwd` without blocking; stdout and stderr together. */
export function runBashAsync(script: string, cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    const child = spawn('bash', ['-c', script], { cwd, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => out.push(c));
    child.on('close', (code) => done({ code: code ?? -1, out: Buffer.concat(out).toString('utf8') }));
  });
}
