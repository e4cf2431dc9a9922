/**
 * The ncnn worker's shared-memory transport (src/runtime/ncnn-shm.ts): replies through the region
 * are bit-identical to the stdio path, on the official Ultra-Light ncnn model with the PyTorch
 * reference input and on a model built here with large tensors and many blobs; and no file is
 * left in /dev/shm, whether fdk exits, is killed, or the worker crashes.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ncnnRuntime, type NcnnModel } from '../src/runtime/ncnn.js';
import { convertOnnxForNcnn } from '../src/runtime/ncnn-convert.js';
import { ortRuntime } from '../src/runtime/ort.js';
import { shmDir } from '../src/runtime/ncnn-shm.js';
import { A, GraphBuilder } from '../src/onnx/builder.js';
import { saveOnnx } from '../src/onnx/io.js';
import { readNpyFloat32 } from '../src/util/npy.js';
import type { TensorMap } from '../src/runtime/types.js';
import { ROOT, TSX, shared, maxAbsDiff } from './helpers/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'fdk-transport-'));
const loaded: NcnnModel[] = [];
afterAll(async () => {
  for (const m of loaded) await m.release();
  rmSync(tmp, { recursive: true, force: true });
});

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/** Files this process (or a child of the given pid) has in the shared-memory directory. */
const shmFiles = (pid: number) => readdirSync(shmDir()).filter((f) => f.startsWith(`fdk-ncnn-${pid}-`));
/** Running (a zombie waiting for its new parent to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return false;
  }
}

async function bothTransports(model: string): Promise<[NcnnModel, NcnnModel]> {
  const shm = await ncnnRuntime.load(model, { ncnn: { transport: 'shm', optimize: false } });
  const stdio = await ncnnRuntime.load(model, { ncnn: { transport: 'stdio', optimize: false } });
  loaded.push(shm, stdio);
  expect([shm.transport, stdio.transport]).toEqual(['shm', 'stdio']);
  return [shm, stdio];
}

function expectSameBlobs(a: Record<string, { tensor: { data: Float32Array; dims: number[] }; ncnnDims: number[] }>, b: typeof a): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    expect(a[k].tensor.dims, k).toEqual(b[k].tensor.dims);
    expect(a[k].ncnnDims, k).toEqual(b[k].ncnnDims);
    expect(bytesOf(a[k].tensor.data).equals(bytesOf(b[k].tensor.data)), `blob ${k} differs between transports`).toBe(true);
  }
}

describe('ncnn shared-memory transport', () => {
  it('official Ultra-Light slim-320 on the PyTorch reference input: shm = stdio bit for bit, both match the reference', async () => {
    const [shm, stdio] = await bothTransports(shared('models/ultra-light-1mb/ncnn/slim-320.param'));
    const ref = 'reference/pytorch/version-slim-320-sample';
    const x = readNpyFloat32(shared(ref, 'input_tensor_1x3x240x320.npy'));
    const feeds: TensorMap = { input: { data: x.data, dims: x.shape } };
    const [a, b] = [(await shm.run(feeds)).outputs, (await stdio.run(feeds)).outputs];
    for (const k of ['scores', 'boxes']) expect(bytesOf(a[k].data).equals(bytesOf(b[k].data)), k).toBe(true);
    expect(maxAbsDiff(a.scores.data, readNpyFloat32(shared(ref, 'scores_softmax.npy')).data)).toBeLessThan(1e-4);
    expect(maxAbsDiff(a.boxes.data, readNpyFloat32(shared(ref, 'locations_raw.npy')).data)).toBeLessThan(1e-4); // raw offsets in this conversion
    // every blob of the graph in one request
    const [ea, eb] = [await shm.extract(feeds, shm.blobs), await stdio.extract(feeds, stdio.blobs)];
    expect(Object.keys(ea.blobs).length).toBe(shm.blobs.length);
    expectSameBlobs(ea.blobs, eb.blobs);
  });

  it('large tensors and many blobs (a model built here, 2 MB per blob): shm = stdio bit for bit, output matches ort', async () => {
    let seed = 3;
    const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * s);
    const C = 8, H = 256, W = 256, BLOCKS = 12;
    const g = new GraphBuilder({ opset: 13 });
    let x = g.addInput('input', 'float32', [1, C, H, W]);
    for (let i = 0; i < BLOCKS; i++) {
      const conv = g.op('Conv', [x, g.constFloat(`w${i}`, [C, C, 3, 3], rand(C * C * 9, 0.3)), g.constFloat(`b${i}`, [C], rand(C, 0.1))], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]) });
      x = g.op('Add', [x, g.op('Relu', [conv])]);
    }
    g.addOutput(x, 'output', 'float32');
    const onnx = join(tmp, 'stack.onnx');
    saveOnnx(g.build(), onnx);
    const { param } = await convertOnnxForNcnn(onnx, {}, { optimize: false });
    const [shm, stdio] = await bothTransports(param);
    const feeds: TensorMap = { input: { data: rand(C * H * W, 2), dims: [1, C, H, W] } };
    const [ea, eb] = [await shm.extract(feeds, shm.blobs), await stdio.extract(feeds, stdio.blobs)];
    expect(shm.blobs.length).toBeGreaterThan(3 * BLOCKS);
    expectSameBlobs(ea.blobs, eb.blobs);
    const ort = await ortRuntime.load(onnx);
    const o = (await ort.run(feeds)).outputs.output;
    await ort.release();
    expect(ea.blobs.output.tensor.dims).toEqual(o.dims);
    expect(maxAbsDiff(o.data, ea.blobs.output.tensor.data)).toBeLessThan(1e-4);
    // in parts from one kept extractor (per-layer parity compares a part while the next is computed)
    const parts: Record<string, (typeof ea.blobs)[string]> = {};
    const sizes: number[] = [];
    await shm.extractEach(feeds, shm.blobs, (b) => {
      sizes.push(Object.keys(b).length);
      Object.assign(parts, b);
    }, { chunk: 7 });
    expect(sizes.length).toBe(Math.ceil(shm.blobs.length / 7));
    expectSameBlobs(parts, eb.blobs);
    // transient parts (reused buffers, as per-layer parity reads them), checked while they are valid,
    // with an await in between as per-layer parity has one
    let seen = 0;
    await shm.extractEach(feeds, shm.blobs, async (b) => {
      await new Promise((r) => setTimeout(r, 5));
      for (const [k, v] of Object.entries(b)) {
        expect(bytesOf(v.tensor.data).equals(bytesOf(eb.blobs[k].tensor.data)), `transient ${k}`).toBe(true);
        seen++;
      }
    }, { chunk: 5, transient: true });
    expect(seen).toBe(shm.blobs.length);
    // a smaller request after the large one (the region was given back) still reads right
    const r = await shm.run(feeds);
    expect(bytesOf(r.outputs.output.data).equals(bytesOf(ea.blobs.output.tensor.data))).toBe(true);
  });

  it('an output that ncnn computes in place on the input (Relu-only model) comes back right, request after request', async () => {
    const g = new GraphBuilder({ opset: 13 });
    g.addOutput(g.op('Relu', [g.addInput('input', 'float32', [1, 4, 'h', 'w'])]), 'output', 'float32');
    const onnx = join(tmp, 'relu.onnx');
    saveOnnx(g.build(), onnx);
    const [shm, stdio] = await bothTransports(onnx);
    // the worker refills one input Mat per request (worker.py _mats): ncnn's in-place Relu must not
    // leak one request's result into the next, whatever the values or the shape
    for (const [k, h, w] of [[1, 64, 64], [-1, 64, 64], [3, 17, 5], [-2, 64, 64]]) {
      const x = Float32Array.from({ length: 4 * h * w }, (_, i) => Math.sin(i * k + 0.25)); // no -0: ncnn keeps its sign
      const want = x.map((v) => Math.max(v, 0));
      for (const m of [shm, stdio]) {
        const out = (await m.run({ input: { data: x, dims: [1, 4, h, w] } })).outputs.output;
        expect(out.dims).toEqual([1, 4, h, w]);
        expect(bytesOf(out.data).equals(bytesOf(want)), `${m.transport} ${k} ${h}x${w}`).toBe(true);
      }
    }
  });

  it('runMany: several inputs of different shapes in one request = one run each, bit for bit, on both transports', async () => {
    const g = new GraphBuilder({ opset: 13 });
    const x = g.addInput('input', 'float32', [1, 4, 'h', 'w']);
    const conv = g.op('Conv', [x, g.constFloat('w', [4, 4, 3, 3], Float32Array.from({ length: 144 }, (_, i) => Math.cos(i))), g.constFloat('b', [4], new Float32Array([0.1, -0.2, 0.3, 0]))], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]) });
    g.addOutput(g.op('Relu', [conv]), 'output', 'float32');
    g.addOutput(g.op('Relu', [x]), 'relu_in', 'float32');
    const onnx = join(tmp, 'many.onnx');
    saveOnnx(g.build(), onnx);
    const [shm, stdio] = await bothTransports(onnx);
    const items: TensorMap[] = [[64, 64], [64, 64], [17, 5], [3, 200], [3, 200]].map(([h, w], k) => ({
      input: { data: Float32Array.from({ length: 4 * h * w }, (_, i) => Math.sin(i * (k + 1) + 0.25)), dims: [1, 4, h, w] },
    }));
    // the input blob itself among the outputs, then refilled for the next item of the same shape
    const names = ['output', 'relu_in', 'input'];
    for (const m of [shm, stdio]) {
      const many = await m.runMany(items, names);
      expect(many.length).toBe(items.length);
      for (const [i, feeds] of items.entries()) {
        const one = (await m.run(feeds, names)).outputs;
        for (const n of names) {
          expect(many[i].outputs[n].dims, `${m.transport} item ${i} ${n}`).toEqual(one[n].dims);
          expect(bytesOf(many[i].outputs[n].data).equals(bytesOf(one[n].data)), `${m.transport} item ${i} ${n}`).toBe(true);
        }
        expect(bytesOf(many[i].outputs.input.data).equals(bytesOf(feeds.input.data))).toBe(true);
        expect(many[i].ms).toBeGreaterThan(0);
      }
    }
    await expect(shm.runMany([items[0], { other: items[1].input }])).rejects.toThrow(/no input 'other'/);
  });

  it('the region has no name in /dev/shm while in use; a worker crash closes it and is one clear error', async () => {
    const m = await ncnnRuntime.load(shared('models/ultra-light-1mb/ncnn/slim-320.param'));
    loaded.push(m);
    expect(m.transport).toBe('shm');
    // the worker's fd 3 is the region: a tmpfs file already unlinked
    const region = readlinkSync(`/proc/${m.pid}/fd/3`);
    expect(region).toMatch(new RegExp(`^${shmDir()}/fdk-ncnn-${process.pid}-[0-9a-f]+ \\(deleted\\)$`));
    expect(shmFiles(process.pid)).toEqual([]);
    const feeds: TensorMap = { input: { data: new Float32Array(3 * 240 * 320).fill(0.5), dims: [1, 3, 240, 320] } };
    const pending = m.run(feeds);
    process.kill(m.pid!, 'SIGKILL');
    await expect(pending).rejects.toThrow(/ncnn worker \(pid \d+\) killed by SIGKILL/);
    // fdk's own descriptor of the region is closed with the worker
    const mine = readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
    expect(mine).not.toContain(region);
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`fdk ${signal}ed in the middle of runs: its worker exits and nothing is left in /dev/shm`, async () => {
      const script = join(tmp, `loop-${signal}.mts`);
      writeFileSync(script, [
        `import { ncnnRuntime } from ${JSON.stringify(resolve(ROOT, 'src/runtime/ncnn.ts'))};`,
        `const m = await ncnnRuntime.load(${JSON.stringify(shared('models/ultra-light-1mb/ncnn/slim-320.param'))});`,
        `const feeds = { input: { data: new Float32Array(3 * 240 * 320).fill(0.25), dims: [1, 3, 240, 320] } };`,
        `await m.run(feeds);`,
        `console.log('worker', m.pid);`,
        `for (;;) await m.run(feeds);`,
      ].join('\n'));
      const child = spawn(process.execPath, ['--import', TSX, script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      const worker = await new Promise<number>((res, rej) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const mm = /worker (\d+)/.exec(out);
          if (mm) res(Number(mm[1]));
        });
        child.on('exit', (code) => rej(new Error(`child exited early (${code})`)));
      });
      expect(readlinkSync(`/proc/${worker}/fd/3`)).toContain(`fdk-ncnn-${child.pid}-`);
      const exited = new Promise((res) => child.once('exit', res));
      child.kill(signal);
      await exited;
      // the worker sees its stdin close (or is killed by fdk's exit hook) and goes away
      for (let i = 0; i < 100 && alive(worker); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive(worker), 'worker still running').toBe(false);
      expect(shmFiles(child.pid!)).toEqual([]);
    });
  }
});
