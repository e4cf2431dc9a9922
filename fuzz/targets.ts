/**
 * One fuzz target per parser fdk exposes to files: seeds (from ../shared and from generators in
 * the repo), a structure-aware mutation, the in-process run (the same calls the CLI makes, without
 * the process start), and the CLI command used for the subprocess sample.
 *
 * A run "succeeds" when it returns, is a "clean error" when it throws an FdkError, and anything
 * else is a crash; run.ts adds hangs (no answer within the time bound) and native crashes.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { int, pick, INTERESTING, HOSTILE_NAMES, type Rand } from './rng.js';
import { mutateBytes, mutateText } from './mutate.js';
import { widerGroundTruth, writeMat, SMALL_GT, type GtEvent } from './gen-mat.js';
import { resolveDataDir } from '../src/util/data.js';
import { decodeOnnx, encodeOnnx } from '../src/onnx/io.js';
import { validateOnnx } from '../src/onnx/validate.js';
import { onnxLayerGraph, summarize } from '../src/analyze/index.js';
import { convertOnnxToNcnn } from '../src/convert/ncnn/convert.js';
import { verifyNcnnOutput } from '../src/convert/ncnn/verify-output.js';
import { parseParam, readBin } from '../src/convert/ncnn/format/index.js';
import { analyzeNcnn } from '../src/convert/ncnn/analyze.js';
import { parseCheckpoint } from '../src/convert/pytorch/checkpoint.js';
import { isZip, ZipArchive, writeStoredZip } from '../src/convert/pytorch/zip.js';
import { decodeMat } from '../src/accuracy/wider/mat.js';
import { loadGroundTruth } from '../src/accuracy/wider/ground-truth.js';
import { parsePredictionText } from '../src/accuracy/wider/predictions.js';
import { evaluatePredictions } from '../src/accuracy/wider/evaluate.js';
import { decodeImage } from '../src/accuracy/image.js';
import { checkResizedSize, seedResizeFactor } from '../src/accuracy/preprocess.js';
import { resizeSpecByFactor } from '../src/accuracy/cv-resize.js';
import { checkPixels } from '../src/util/limits.js';
import { namingFile, withFile } from '../src/util/errors.js';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import type { Model } from '../src/onnx/model.js';
import { zipCheckpoint, legacyCheckpoint } from '../test/pth-fixtures.js';

export interface Seed {
  name: string;
  bytes: Uint8Array;
}

export interface Target {
  name: string;
  /** File extension of an input (the CLI dispatches on it). */
  ext: string;
  seeds(): Promise<Seed[]>;
  /** A structure-aware mutation of a seed; undefined = fall back to bytes. */
  structural?(r: Rand, seed: Uint8Array): Uint8Array | undefined;
  /** In-process run on `file` (already written with the input bytes); `work` is a scratch folder. */
  run(bytes: Uint8Array, file: string, work: string): Promise<void> | void;
  /** CLI arguments for the subprocess sample (after `fdk`). */
  cli(file: string, work: string): string[];
}

const data = () => resolveDataDir() ?? join(process.cwd(), '..', 'shared');
const sharedFile = (...p: string[]): Seed[] => {
  const f = join(data(), ...p);
  return existsSync(f) ? [{ name: p[p.length - 1], bytes: readFileSync(f) }] : [];
};

// ---------------------------------------------------------------------------------------------
// ONNX

function tinyOnnx(variant: number): Uint8Array {
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('input', 'float32', [1, 4, 12, 12]);
  const w = b.constFloat('w', [8, 2, 3, 3], new Float32Array(144).map((_, i) => Math.sin(i)));
  let y = b.op('Conv', [x, w], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]), strides: A.ints([1, 1]), group: A.int(2) });
  y = b.op('Relu', [y]);
  if (variant === 0) {
    y = b.op('MaxPool', [y], { kernel_shape: A.ints([2, 2]), strides: A.ints([2, 2]) });
    const shape = b.constInt64('shape', [3], [1, 8, -1]);
    y = b.op('Reshape', [y, shape]);
    y = b.op('Softmax', [y], { axis: A.int(1) });
  } else {
    const w2 = b.constFloat('w2', [4, 8, 1, 1], new Float32Array(32).fill(0.1));
    const z = b.op('Conv', [y, w2], { kernel_shape: A.ints([1, 1]) });
    y = b.op('Concat', [z, x], { axis: A.int(1) });
    y = b.op('AveragePool', [y], { kernel_shape: A.ints([3, 3]), strides: A.ints([1, 1]), pads: A.ints([1, 1, 1, 1]) });
  }
  b.addOutput(y, 'out', 'float32');
  return encodeOnnx(b.build());
}

const ATTRS = ['strides', 'pads', 'dilations', 'kernel_shape', 'group', 'axis'] as const;

/** Edits the decoded model where converters and analysis make assumptions, then re-encodes it. */
function mutateOnnxModel(r: Rand, m: Model): void {
  const g = m.graph;
  const node = () => g.nodes[int(r, g.nodes.length)];
  const edits = 1 + int(r, 3);
  for (let e = 0; e < edits && g.nodes.length; e++) {
    switch (int(r, 10)) {
      case 0: { // attribute value
        const n = node();
        const k = pick(r, ATTRS);
        const v = pick(r, INTERESTING);
        n.attrs[k] = k === 'group' || k === 'axis' ? A.int(v) : A.ints(Array.from({ length: k === 'pads' ? 4 : 2 }, () => (r() < 0.5 ? v : 1)));
        break;
      }
      case 1: { // initializer dims no longer match its data
        const ts = [...g.initializers.values()];
        if (!ts.length) break;
        const t = pick(r, ts);
        t.dims = t.dims.map((d) => (r() < 0.5 ? pick(r, INTERESTING) : d));
        break;
      }
      case 2: { const a = int(r, g.nodes.length), b = int(r, g.nodes.length); [g.nodes[a], g.nodes[b]] = [g.nodes[b], g.nodes[a]]; break; } // order
      case 3: { const a = node(), b = node(); if (b.outputs.length) a.outputs[0] = b.outputs[0]; break; } // duplicate producer
      case 4: { const a = node(), b = node(); if (a.inputs.length && b.outputs.length) a.inputs[0] = b.outputs[0]; break; } // maybe a cycle
      case 5: m.opsetImport = [{ domain: '', version: pick(r, [0, 1, 7, 13, 17, 99, -1, 2 ** 31]) }]; break;
      case 6: { const i = g.inputs[0]; if (i) { i.dtype = pick(r, ['undefined', 'string', 'int64', 'float16', 'bool'] as const); } break; }
      case 7: { const n = node(); n.name = pick(r, HOSTILE_NAMES); n.opType = r() < 0.3 ? pick(r, HOSTILE_NAMES) : n.opType; break; }
      case 8: g.nodes.splice(int(r, g.nodes.length), 1); break;
      case 9: { const i = g.inputs[0]; if (i?.shape) i.shape = i.shape.map((d) => (r() < 0.4 ? pick(r, [0, -1, 1, 2 ** 20, 2 ** 31, 'N']) : d)); break; }
    }
  }
}

const onnx: Target = {
  name: 'onnx',
  ext: 'onnx',
  async seeds() {
    return [
      { name: 'tiny-0.onnx', bytes: tinyOnnx(0) },
      { name: 'tiny-1.onnx', bytes: tinyOnnx(1) },
      ...sharedFile('models', 'ultra-light-1mb', 'onnx', 'version-slim-320_simplified.onnx'),
      ...sharedFile('models', 'ultra-light-1mb', 'onnx', 'version-RFB-320_without_postprocessing.onnx'),
    ];
  },
  structural(r, seed) {
    const m = decodeOnnx(seed, 'seed.onnx');
    mutateOnnxModel(r, m);
    return encodeOnnx(m);
  },
  run(bytes, file) {
    const model = decodeOnnx(bytes, file);
    validateOnnx(model);
    namingFile(file, () => summarize(onnxLayerGraph(model, {})));
    const out = namingFile(file, () => convertOnnxToNcnn(decodeOnnx(bytes, file), {}));
    verifyNcnnOutput(out, file);
  },
  cli: (file, work) => (file.length % 2 ? ['analyze', file, '--json'] : ['convert', file, '--to', 'ncnn', '-o', join(work, 'cli-out'), '--json']),
};

// ---------------------------------------------------------------------------------------------
// ncnn .param / .bin

const NCNN = ['models', 'ultra-light-1mb', 'ncnn'];
const seedParam = () => readFileSync(join(data(), ...NCNN, 'slim-320.param'), 'utf8');
const seedBin = () => readFileSync(join(data(), ...NCNN, 'slim-320.bin'));

const param: Target = {
  name: 'param',
  ext: 'param',
  async seeds() {
    return [...sharedFile(...NCNN, 'slim-320.param'), ...sharedFile(...NCNN, 'RFB-320.param'), ...sharedFile('models', 'retinaface-1mb', 'ncnn', 'slim-face.param')];
  },
  structural: (r, seed) => Buffer.from(mutateText(r, Buffer.from(seed).toString('utf8'))),
  run(bytes, file) {
    analyzeNcnn(file, { inputShapes: { '': [1, 3, 240, 320] } });
    const p = parseParam(Buffer.from(bytes).toString('utf8'), file);
    readBin(seedBin(), p.layers, `${file}.bin`);
  },
  cli: (file) => ['analyze', file, '--json', '--input', '1x3x240x320'],
};

const bin: Target = {
  name: 'bin',
  ext: 'bin',
  async seeds() {
    return sharedFile(...NCNN, 'slim-320.bin');
  },
  run(bytes, file) {
    const { layers } = parseParam(seedParam(), 'slim-320.param');
    readBin(bytes, layers, file);
  },
  cli: (file, work) => {
    const p = join(work, 'with-bin.param');
    writeFileSync(p, seedParam());
    writeFileSync(join(work, 'with-bin.bin'), readFileSync(file));
    return ['bench', p, '--runtimes', 'ncnn', '--runs', '1', '--warmup', '0', '--json'];
  },
};

// ---------------------------------------------------------------------------------------------
// PyTorch checkpoints

const tinyTensors = (): [string, { dtype: 'float32'; shape: number[]; storage: Float32Array }][] => [
  ['conv.weight', { dtype: 'float32', shape: [4, 3, 3, 3], storage: new Float32Array(108).map((_, i) => i / 100) }],
  ['conv.bias', { dtype: 'float32', shape: [4], storage: new Float32Array([1, 2, 3, 4]) }],
];

const pth: Target = {
  name: 'pth',
  ext: 'pth',
  async seeds() {
    return [
      { name: 'tiny-zip.pth', bytes: zipCheckpoint(tinyTensors()) },
      { name: 'tiny-legacy.pth', bytes: legacyCheckpoint(tinyTensors()) },
      ...sharedFile('models', 'retinaface-1mb', 'slim_Final.pth'),
    ];
  },
  structural(r, seed) {
    if (!isZip(seed)) return undefined;
    // Mutate the pickle inside the archive (or one storage entry) and re-pack: structure kept, contents hostile.
    const zip = new ZipArchive(seed);
    const names = zip.names();
    const target = r() < 0.7 ? names.find((n) => n.endsWith('data.pkl')) ?? pick(r, names) : pick(r, names);
    return writeStoredZip(names.map((n) => ({ name: n, data: n === target ? mutateBytes(r, zip.read(n)) : zip.read(n) })));
  },
  run(bytes, file) {
    parseCheckpoint(bytes, file);
  },
  cli: (file, work) => ['convert', file, '--arch', 'slim', '--to', 'onnx', '-o', join(work, 'cli-out.onnx'), '--json'],
};

// ---------------------------------------------------------------------------------------------
// WIDER ground truth (.mat) and predictions

function writeGtDir(dir: string, events: GtEvent[]): void {
  mkdirSync(dir, { recursive: true });
  for (const [k, v] of Object.entries(widerGroundTruth(events))) writeFileSync(join(dir, k), v);
}

function randomGt(r: Rand): GtEvent[] {
  return Array.from({ length: 1 + int(r, 3) }, (_, e) => ({
    event: r() < 0.3 ? pick(r, HOSTILE_NAMES) : `${e}--Event`,
    images: Array.from({ length: int(r, 3) }, (_, i) => ({
      name: r() < 0.2 ? pick(r, HOSTILE_NAMES) : `${e}_img_${i}`,
      boxes: Array.from({ length: int(r, 3) }, () => [0, 1, 2, 3].map(() => (r() < 0.2 ? pick(r, INTERESTING) : int(r, 100)))),
    })),
  }));
}

const mat: Target = {
  name: 'mat',
  ext: 'mat',
  async seeds() {
    return [{ name: 'small-gt.mat', bytes: widerGroundTruth(SMALL_GT)['wider_face_val.mat'] }, ...sharedFile('wider', 'ground_truth', 'wider_easy_val.mat')];
  },
  structural: (r) => (r() < 0.5 ? widerGroundTruth(randomGt(r))['wider_face_val.mat'] : writeMat({ event_list: [pick(r, HOSTILE_NAMES)], file_list: [[pick(r, HOSTILE_NAMES)]], face_bbx_list: [[[[1, 2, 3, 4]]]] })),
  run(bytes, file, work) {
    decodeMat(bytes, file);
    // The whole ground truth from this face file plus small difficulty files (they rarely match: clean errors).
    const dir = join(work, 'gt');
    writeGtDir(dir, SMALL_GT);
    writeFileSync(join(dir, 'wider_face_val.mat'), bytes);
    loadGroundTruth(dir);
  },
  cli: (file, work) => {
    const dir = join(work, 'cli-gt');
    writeGtDir(dir, SMALL_GT);
    writeFileSync(join(dir, 'wider_face_val.mat'), readFileSync(file));
    const pred = join(work, 'cli-pred', '0--Parade');
    mkdirSync(pred, { recursive: true });
    writeFileSync(join(pred, '0_Parade_1.txt'), '0_Parade_1\n1\n10 10 40 50 0.9\n');
    return ['eval', join(work, 'cli-pred'), '--gt', dir, '--json'];
  },
};

const PRED_SEED = '0_Parade_1\n3\n10 10 40 50 0.99\n100 20 30 30 0.8\n7 8 9 10 0.1\n';
let smallGt: ReturnType<typeof loadGroundTruth> | undefined;

const pred: Target = {
  name: 'pred',
  ext: 'txt',
  async seeds() {
    const known = join(data(), 'wider', 'known-preds', 'seed-rfb-320', '0--Parade');
    const files = existsSync(known) ? [readFileSync(join(known, '0_Parade_marchingband_1_465.txt'))].filter((b) => b.length) : [];
    return [{ name: 'pred.txt', bytes: Buffer.from(PRED_SEED) }, ...files.map((b) => ({ name: 'known.txt', bytes: b }))];
  },
  structural: (r, seed) => Buffer.from(mutateText(r, Buffer.from(seed).toString('latin1')), 'latin1'),
  run(bytes, file, work) {
    const boxes = parsePredictionText(Buffer.from(bytes).toString('latin1'), file);
    if (!smallGt) {
      writeGtDir(join(work, 'pred-gt'), SMALL_GT);
      smallGt = loadGroundTruth(join(work, 'pred-gt'));
    }
    evaluatePredictions({ gt: smallGt, preds: new Map([['0--Parade/0_Parade_1', boxes]]) });
  },
  cli: (file, work) => {
    const gt = join(work, 'cli-pred-gt');
    writeGtDir(gt, SMALL_GT);
    const dir = join(work, 'cli-preds', '0--Parade');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '0_Parade_1.txt'), readFileSync(file));
    return ['eval', join(work, 'cli-preds'), '--gt', gt, '--json'];
  },
};

// ---------------------------------------------------------------------------------------------
// images

const image: Target = {
  name: 'image',
  ext: 'jpg',
  async seeds() {
    const sharp = (await import('sharp')).default;
    const make = (w: number, h: number, fmt: 'jpeg' | 'png') =>
      sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 120, b: 40 } } })[fmt]().toBuffer();
    return [
      { name: 'small.jpg', bytes: await make(32, 24, 'jpeg') },
      { name: 'small.png', bytes: await make(24, 32, 'png') },
      { name: 'thin.png', bytes: await make(1, 300, 'png') },
    ];
  },
  async run(bytes, file) {
    const img = await decodeImage(bytes, file);
    checkPixels(img.width, img.height, file);
    const r = seedResizeFactor(img.width, img.height, 320);
    const s = resizeSpecByFactor(img.width, img.height, r);
    try {
      checkResizedSize(s.width, s.height, img);
    } catch (e) {
      withFile(file)(e); // as Detector.detectFile does
    }
  },
  cli: (file) => ['detect', file, '--model', 'slim', '--no-annotate', '--json'],
};

export const TARGETS: Target[] = [onnx, param, bin, pth, mat, pred, image];
