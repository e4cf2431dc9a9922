/**
 * Issue #15, item 15: OS errors on output paths. Writing into a folder that is not writable, under a
 * file, into a missing folder that cannot be made, or onto a full disk gives one line
 * `fdk: error: PATH: problem` naming the user's path (never the `.NAME.PID.TIME.tmp` temp name),
 * a non-zero exit, and nothing left behind. One place maps the codes: fsError in src/util/fs.ts.
 *
 * A folder that refuses new files: chmod 0555 when not root; as root (permissions do not apply)
 * /proc, which refuses every new entry (ENOENT) and on which Node's recursive mkdir used to spin
 * forever.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, expectOneLineError, ROOT, shared, TSX, type CliResult } from './helpers/index.js';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { fsError, makeDir, tempPathFor, userPathOf, writeFilesAtomic, writeOutputData, writeOutputs } from '../src/util/fs.js';
import { FdkError } from '../src/util/errors.js';

const root = mkdtempSync(join(tmpdir(), 'fdk-hostile-out-'));
const isRoot = process.getuid?.() === 0;
afterAll(() => {
  if (!isRoot) chmodSync(join(root, 'ro'), 0o755);
  rmSync(root, { recursive: true, force: true });
});

// A folder that refuses new entries: chmod 0555, or /proc as root.
mkdirSync(join(root, 'ro'));
if (!isRoot) chmodSync(join(root, 'ro'), 0o555);
const refusing = isRoot ? '/proc' : join(root, 'ro');
writeFileSync(join(root, 'file.txt'), 'not a folder\n');
mkdirSync(join(root, 'adir'));

const model = join(root, 'tiny.onnx');
{
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('input', 'float32', [1, 3, 8, 8]);
  const w = b.constFloat('w', [4, 3, 3, 3], new Float32Array(108).fill(0.1));
  b.addOutput(b.op('Relu', [b.op('Conv', [x, w], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]) })]), 'out', 'float32');
  saveOnnx(b.build(), model);
}

/** Every file under root (the test's own inputs excluded): a failed write must leave none. */
const leftovers = () => readdirSync(root, { recursive: true }).map(String).filter((f) => !['tiny.onnx', 'file.txt', 'ro', 'adir'].includes(f));

/** One line naming `path`, no temp name, non-zero exit, nothing written. */
function expectRefused(r: CliResult, path: string, problem: RegExp): void {
  expectOneLineError(r, path);
  expect(r.stderr).not.toMatch(/\.tmp\b/);
  expect(r.stderr.trim()).toMatch(problem);
  expect(leftovers()).toEqual([]);
}

const cli = (args: string[]) => runCli(args, { timeout: 120_000 }); // the /proc mkdir spun forever before the fix

describe('every output path: one line naming the path the user gave', () => {
  it('convert --to ncnn: under a file, in a folder that refuses new files, in a missing folder that cannot be made, an existing directory', () => {
    const under = join(root, 'file.txt', 'out');
    expectRefused(cli(['convert', model, '--to', 'ncnn', '-o', under]), `${under}.param`, /: a parent path is not a directory$/);
    const ro = join(refusing, 'fdk-out');
    expectRefused(cli(['convert', model, '--to', 'ncnn', '-o', ro]), `${ro}.param`, isRoot ? /: cannot be created: its folder does not exist or does not accept new files$/ : /: permission denied: the folder is not writable$/);
    const missing = join(refusing, 'no-such-folder', 'x');
    expectRefused(cli(['convert', model, '--to', 'ncnn', '-o', missing]), join(refusing, 'no-such-folder'), isRoot ? /cannot be created/ : /permission denied/);
  });

  it('convert --to onnx: the same cases, and -o onto a directory', () => {
    const under = join(root, 'file.txt', 'x.onnx');
    expectRefused(cli(['convert', model, '--to', 'onnx', '-o', under]), under, /: a parent path is not a directory$/);
    const ro = join(refusing, 'x.onnx');
    expectRefused(cli(['convert', model, '--to', 'onnx', '-o', ro]), ro, isRoot ? /cannot be created/ : /permission denied/);
    expectRefused(cli(['convert', model, '--to', 'onnx', '-o', join(root, 'adir')]), join(root, 'adir'), /is a directory/);
    expectRefused(cli(['convert', model, '--to', 'onnx', '--out', join(root, 'file.txt')]), join(root, 'file.txt'), /a parent path is not a directory$/);
  });

  it('detect --out and report --out: a file as the folder, a folder that refuses new files', () => {
    const img = shared('images', 'seed-sample.jpg');
    expectRefused(cli(['detect', img, '--model', 'slim', '--out', join(root, 'file.txt')]), join(root, 'file.txt'), /: exists and is not a folder$/);
    expectRefused(cli(['detect', img, '--model', 'slim', '--out', join(refusing, 'det')]), join(refusing, 'det'), isRoot ? /cannot be created/ : /permission denied/);
    expectRefused(cli(['report', '--models', 'slim', '--stages', 'analyze', '--out', join(root, 'file.txt', 'r')]), join(root, 'file.txt', 'r'), /a parent path is not a directory$/);
  });
});

describe('fsError: the one mapping from OS errors to messages', () => {
  const errno = (code: string, path: string) => Object.assign(new Error(`${code}: raw message, open '${path}'`), { code, path });

  it('a temp name is reported as the output it stands for; codes become words', () => {
    const out = join(root, 'm.param');
    const tmp = tempPathFor(out);
    expect(tmp).toMatch(/\/\.m\.param\.\d+\.\d+\.tmp$/);
    expect(userPathOf(tmp)).toBe(out);
    expect(userPathOf(tempPathFor(tmp))).toBe(out); // a temp of a temp (saveOnnx inside writeOutputs)
    expect(fsError(errno('ENOSPC', tmp), tmp, 'write').message).toBe(`${out}: no space left on device`);
    expect(fsError(errno('EISDIR', tmp), tmp, 'write').message).toBe(`${out}: is a directory; outputs go to a regular file or a new name`);
    expect(fsError(errno('EROFS', tmp), tmp, 'write').message).toBe(`${out}: read-only file system`);
    expect(fsError(errno('ENOENT', 'in.onnx'), 'in.onnx').message).toBe('in.onnx: no such file');
    expect(fsError(new FdkError('no space left on device', { file: tmp }), tmp).message).toBe(`${out}: no space left on device`);
  });

  it('a disk that fills while writing (ENOSPC): the output path is named and no temp file stays', async () => {
    const out = join(root, 'full', 'm.bin');
    const e = await writeOutputs([out], ([tmp]) => {
      writeFileSync(tmp, 'partial');
      throw errno('ENOSPC', tmp);
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FdkError);
    expect((e as Error).message).toBe(`${out}: no space left on device`);
    expect(readdirSync(join(root, 'full'))).toEqual([]);
    rmSync(join(root, 'full'), { recursive: true });
  });

  it('outputs made in memory: identical bytes are left untouched, other bytes need force, a write error names the output', async () => {
    const dir = join(root, 'data-out');
    const [a, b] = [join(dir, 'm.param'), join(dir, 'm.bin')];
    const big = new Uint8Array((5 << 20) + 3).map((_, i) => (i * 31) & 255); // over one 4 MB compare block
    const made = (last: number) => () => ({ result: 1, data: ['7767517\n', [big.subarray(0, 1000), big.subarray(1000, big.length - 1), Uint8Array.of(last)]] });
    const first = await writeOutputData([a, b], made(big[big.length - 1]));
    expect(first.outcome).toBe('written');
    expect(Buffer.compare(readFileSync(b), Buffer.from(big))).toBe(0);
    const ino = statSync(b).ino;
    expect((await writeOutputData([a, b], made(big[big.length - 1]))).outcome).toBe('unchanged');
    expect(statSync(b).ino).toBe(ino); // not rewritten
    // the last byte of the second block differs: refused without force, nothing changed, no temp left
    const e = await writeOutputData([a, b], made(big[big.length - 1] ^ 1)).catch((x: unknown) => x);
    expect((e as Error).message).toBe(`${b}: exists and holds a different model; pass --force to replace it, or choose another name`);
    expect(readdirSync(dir).sort()).toEqual(['m.bin', 'm.param']);
    expect((await writeOutputData([a, b], made(big[big.length - 1] ^ 1), { force: true })).outcome).toBe('replaced');
    expect(readFileSync(b)[big.length - 1]).toBe(big[big.length - 1] ^ 1);
    // a file that starts with the same bytes but is longer is not the same
    expect((await writeOutputData([a, b], () => ({ result: 1, data: ['7767517\n', big.subarray(0, 10)] }), { force: true })).outcome).toBe('replaced');
    expect(readFileSync(b).length).toBe(10);
    rmSync(dir, { recursive: true });
  });

  it('writeFilesAtomic and makeDir name the path the caller gave', () => {
    const under = join(root, 'file.txt', 'a', 'b.txt');
    expect(() => writeFilesAtomic([{ path: under, data: 'x' }])).toThrow(`${join(root, 'file.txt', 'a')}: a parent path is not a directory`);
    expect(() => makeDir(join(root, 'file.txt'))).toThrow(`${join(root, 'file.txt')}: exists and is not a folder`);
    const p = join(root, 'made', 'deep', 'x');
    makeDir(p);
    expect(readdirSync(join(root, 'made', 'deep'))).toEqual(['x']);
    rmSync(join(root, 'made'), { recursive: true });
  });
});

describe("onnxruntime-node's telemetry SDK file", () => {
  // onnxruntime-node 1.30 creates an empty /tmp/mat-debug-<pid>.log with the process's first session
  // (src/runtime/ort-debug-log.ts); a command must not leave it behind, neither with a session on
  // the main thread (bench) nor only in the accuracy pool's worker threads (accuracy --jobs 2).
  const leftBehind = (args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/entry.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return existsSync(`/tmp/mat-debug-${r.pid}.log`);
  };
  it.runIf(process.platform === 'linux')('bench --runtimes ort and accuracy --jobs 2 leave no /tmp/mat-debug-<pid>.log', () => {
    expect(leftBehind(['bench', model, '--runtimes', 'ort', '--runs', '1', '--warmup', '0', '--json'])).toBe(false);
    writeFileSync(join(root, 'two.txt'), readFileSync(shared('wider/val-mini/list.txt'), 'utf8').split('\n').slice(0, 2).join('\n') + '\n');
    expect(leftBehind(['accuracy', '--model', 'slim', '--subset', join(root, 'two.txt'), '--jobs', '2', '--out', join(root, 'acc'), '--json'])).toBe(false);
  }, 120_000);
});

describe('writeFilesAtomic from several worker threads at once', () => {
  // The accuracy pool's threads share one pid and each converts the model into the same
  // .fdk/ncnn-cache folder; with a time-stamped temp name two threads wrote one temp file within a
  // millisecond and the slower rename failed ("cannot be created"), failing a CI report run.
  it('four threads writing the same two files 300 times each: every write succeeds, the files are whole', async () => {
    const { Worker } = await import('node:worker_threads');
    const dir = join(root, 'threads');
    const fsHref = new URL('../src/util/fs.ts', import.meta.url).href;
    const body = `
      const { workerData, parentPort } = require('node:worker_threads');
      import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(fsHref)}); }).then(({ writeFilesAtomic }) => {
        const shared = new Int32Array(workerData.flag);
        Atomics.add(shared, 0, 1);
        while (Atomics.load(shared, 0) < workerData.n) {} // start together
        let failed = 0, first = '';
        for (let i = 0; i < 300; i++) {
          try {
            writeFilesAtomic([{ path: workerData.dir + '/m.param', data: 'param '.repeat(100) }, { path: workerData.dir + '/m.bin', data: new Uint8Array(4096).fill(7) }], { fsync: false });
          } catch (e) { failed++; first ||= e.message; }
        }
        parentPort.postMessage({ failed, first });
      });`;
    const n = 4;
    const flag = new SharedArrayBuffer(4);
    const results = await Promise.all(
      Array.from({ length: n }, () => new Promise<{ failed: number; first: string }>((done, fail) => {
        const w = new Worker(body, { eval: true, workerData: { dir, flag, n } });
        w.once('message', (m) => { done(m); void w.terminate(); });
        w.once('error', fail);
      })),
    );
    expect(results.map((r) => r.first).filter(Boolean)).toEqual([]);
    expect(readFileSync(join(dir, 'm.param'), 'utf8')).toBe('param '.repeat(100));
    expect(readFileSync(join(dir, 'm.bin'))).toEqual(Buffer.alloc(4096, 7));
    expect(readdirSync(dir).sort()).toEqual(['m.bin', 'm.param']); // no temp file left behind
  }, 60_000);
});
