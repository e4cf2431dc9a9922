/**
 * fdk as an npm package: `npm pack` ships what the bin and the library need, the tarball unpacks
 * into a folder outside the checkout as an install would lay it out (offline: its dependencies are
 * linked from the checkout's node_modules, so no registry is needed), and there `npx fdk --version`, the example script
 * using the typed API, a TypeScript consumer of the declarations and a cache-writing command work,
 * with caches in $FDK_CACHE rather than inside the installed package.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { A, GraphBuilder } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { ROOT, SHARED } from './helpers/index.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'fdk-package-'));
const app = join(work, 'app');
const cache = join(work, 'cache');

function sh(cmd: string, args: string[], opts: SpawnSyncOptions & { noData?: boolean } = {}) {
  const env = { ...process.env, CI: 'true', ONNXRUNTIME_NODE_INSTALL: 'skip', FDK_CACHE: cache, FDK_DATA: SHARED, npm_config_update_notifier: 'false' };
  delete (env as Record<string, string | undefined>).FDK_WORK;
  if (opts.noData) delete (env as Record<string, string | undefined>).FDK_DATA; // and no ../shared beside the app or the package
  const r = spawnSync(cmd, args, { cwd: app, encoding: 'utf8', env, maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}\n${r.stdout}`.slice(0, 4000));
  return String(r.stdout);
}

/** A small fixed-size model: Conv(3->4, 3x3) -> Relu. */
function tinyModel(path: string): void {
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('input', 'float32', [1, 3, 16, 16]);
  const w = b.constFloat('w', [4, 3, 3, 3], Float32Array.from({ length: 108 }, (_, i) => Math.sin(i)));
  b.addOutput(b.op('Relu', [b.op('Conv', [x, w], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]) })]), 'out', 'float32');
  saveOnnx(b.build(), path);
}

let files: string[] = [];
beforeAll(() => {
  mkdirSync(app, { recursive: true });
  // npm test builds first; a bare `vitest run` of this file builds if dist is missing
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) sh('npm', ['run', 'build'], { cwd: ROOT });
  const out = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT });
  const info = JSON.parse(out)[0] as { filename: string; files: { path: string }[] };
  files = info.files.map((f) => f.path);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  // Installed as npm lays out a package, without a registry: the tarball unpacked to
  // node_modules/fdk-edge, its bin linked in node_modules/.bin, and each runtime dependency linked
  // from the checkout's node_modules. (npm itself is not run on this folder: `npm install` prunes
  // "extraneous" linked packages by deleting what they point to, i.e. the shared node_modules.)
  const nm = join(app, 'node_modules');
  mkdirSync(join(nm, '.bin'), { recursive: true });
  sh('tar', ['-xzf', join(work, info.filename), '-C', nm]);
  renameSync(join(nm, 'package'), join(nm, 'fdk-edge'));
  symlinkSync('../fdk-edge/bin/fdk.js', join(nm, '.bin', 'fdk'));
  chmodSync(join(nm, 'fdk-edge', 'bin', 'fdk.js'), 0o755);
  for (const dep of readdirSync(join(ROOT, 'node_modules'))) {
    if (dep.startsWith('.') || existsSync(join(nm, dep))) continue;
    symlinkSync(join(ROOT, 'node_modules', dep), join(nm, dep));
  }
}, 300_000);

describe('npm package', () => {
  it('is named fdk-edge, exports types, and ships dist, the worker, the manifest and the bin (no sources, tests or maps)', () => {
    expect(pkg.name).toBe('fdk-edge');
    expect(pkg.bin).toEqual({ fdk: 'bin/fdk.js' });
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(pkg.scripts.prepack).toMatch(/npm run build/);
    for (const f of ['bin/fdk.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/runtime/ncnn-worker/worker.py', 'dist/onnx/onnx.proto', 'models/manifest.json', 'examples/analyze-and-convert.mjs', 'package.json'])
      expect(files, f).toContain(f);
    expect(files.filter((f) => /^(src|test|bench|scripts)\//.test(f) || f.endsWith('.map'))).toEqual([]);
  });

  it('installed outside the checkout: npx fdk --version', () => {
    expect(sh('npx', ['--no-install', 'fdk', '--version']).trim()).toBe(pkg.version);
  });

  it('the example script analyzes, converts and checks parity through the API', () => {
    const model = join(app, 'tiny.onnx');
    tinyModel(model);
    copyFileSync(join(app, 'node_modules', 'fdk-edge', 'examples', 'analyze-and-convert.mjs'), join(app, 'example.mjs'));
    const j = JSON.parse(sh(process.execPath, ['example.mjs', model, 'out']));
    // Conv 4x3x3x3 (no bias) on 16x16 output: params and MACs in closed form
    expect(j).toMatchObject({ fdk: pkg.version, params: 108, macs: 4 * 16 * 16 * 27, ncnn: { param: join(app, 'out', 'tiny.param'), outcome: 'written' }, parity: { ok: true, inputs: 'synthetic' } });
    expect(readFileSync(join(app, 'out', 'tiny.param'), 'utf8')).toMatch(/^7767517/);
    // the same model again: identical bytes, left alone
    expect(JSON.parse(sh(process.execPath, ['example.mjs', model, 'out'])).ncnn.outcome).toBe('unchanged');
  });

  it('a TypeScript consumer type-checks against the shipped declarations', () => {
    writeFileSync(join(app, 'use.ts'), [
      "import { analyze, convertToNcnn, parity, type AnalysisReport, type ParityReport } from 'fdk-edge';",
      'const r: Promise<AnalysisReport> = analyze("m.onnx", { convention: "thop" });',
      'const p: Promise<ParityReport> = parity("m.onnx", { runtimes: ["ort", "ort-wasm"], seed: 3 });',
      'void convertToNcnn("m.onnx", { fp16: true }).then((c) => c.param.length);',
      'void r; void p;',
      '// @ts-expect-error: unknown runtime name',
      'void parity("m.onnx", { runtimes: ["coreml"] });',
    ].join('\n'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] }, files: ['use.ts'] }));
    sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  });

  it('with no data folder at all, a user model still goes through the CLI: analyze, convert to ncnn, bench on ort', () => {
    const model = join(app, 'mine.onnx');
    tinyModel(model);
    expect(existsSync(join(work, 'shared')) || existsSync(join(app, 'node_modules', 'shared'))).toBe(false);
    expect(JSON.parse(sh('npx', ['--no-install', 'fdk', 'analyze', model, '--json'], { noData: true })).totals).toMatchObject({ params: 108 });
    // convert looked for the manifest model owning the file and failed with "no data folder"
    const c = JSON.parse(sh('npx', ['--no-install', 'fdk', 'convert', model, '--to', 'ncnn', '-o', join(app, 'mine-ncnn', 'mine'), '--json'], { noData: true }));
    expect(c.param).toBe(join(app, 'mine-ncnn', 'mine.param'));
    expect(readFileSync(join(app, 'mine-ncnn', 'mine.param'), 'utf8')).toMatch(/^7767517\n/);
    expect(JSON.parse(sh('npx', ['--no-install', 'fdk', 'bench', model, '--runtimes', 'ort', '--runs', '1', '--warmup', '0', '--json'], { noData: true })).cases).toHaveLength(1);
  });

  it('caches go to $FDK_CACHE, never into the installed package', () => {
    const j = JSON.parse(sh('npx', ['--no-install', 'fdk', 'bench', 'slim', '--runtimes', 'ort', '--runs', '1', '--warmup', '0', '--json']));
    expect(j.schemaVersion).toBe(1);
    expect(j.model.path).toBe(join(cache, 'exports', 'slim-dyn-op13.onnx')); // fdk's export of the checkpoint, cached
    expect(existsSync(join(app, 'node_modules', 'fdk-edge', '.fdk'))).toBe(false);
  });
});

/** A command run without blocking the test worker (npm install can take a minute on a cold cache). */
function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const env = { ...process.env, CI: 'true', ONNXRUNTIME_NODE_INSTALL: 'skip', FDK_CACHE: cache, FDK_DATA: SHARED, npm_config_update_notifier: 'false' };
  delete (env as Record<string, string | undefined>).FDK_WORK;
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('close', (code) => done({ code: code ?? -1, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') }));
  });
}

describe('npm install of the packed tarball', () => {
  it('npm itself installs it into a fresh folder (the npm cache, else the registry), and there the bin and the library run', async () => {
    const fresh = join(work, 'fresh');
    mkdirSync(fresh, { recursive: true });
    writeFileSync(join(fresh, 'package.json'), JSON.stringify({ name: 'fresh', version: '1.0.0', private: true, type: 'module' }));
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    const inst = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tgz)], fresh);
    expect(inst.code, inst.err.slice(-2000)).toBe(0);
    const v = await run('npx', ['--no-install', 'fdk', '--version'], fresh);
    expect(v.out.trim()).toBe(pkg.version);
    const model = join(fresh, 'tiny.onnx');
    tinyModel(model);
    const a = await run('npx', ['--no-install', 'fdk', 'analyze', model, '--json', '--no-layers'], fresh);
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out).totals).toMatchObject({ params: 108, macs: 4 * 16 * 16 * 27 });
    const lib = await run(process.execPath, ['-e', "import('fdk-edge').then(async (f) => console.log(JSON.stringify((await f.analyze(process.argv[1])).totals)))", model], fresh);
    expect(lib.code, lib.err).toBe(0);
    expect(JSON.parse(lib.out)).toMatchObject({ params: 108 });
  }, 600_000);
});
