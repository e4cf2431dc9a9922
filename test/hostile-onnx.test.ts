/**
 * Issue #15, items 2, 7, 8, 14, 17 (ONNX): malformed models are refused by the one validation step
 * before analyze and convert, with one line naming the file, and convert writes nothing. Models are
 * built here with the TS builder, each broken in exactly one way; the same model unbroken converts.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, symlinkSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, expectOneLineError } from './helpers/index.js';
import { GraphBuilder, A } from '../src/onnx/builder.js';
import { saveOnnx, loadOnnx } from '../src/onnx/io.js';
import { validateOnnx } from '../src/onnx/validate.js';
import { Tensor } from '../src/onnx/tensor.js';
import { convertOnnxToNcnn } from '../src/convert/ncnn/convert.js';
import { verifyNcnnOutput } from '../src/convert/ncnn/verify-output.js';
import { FdkError } from '../src/util/errors.js';
import type { Model } from '../src/onnx/model.js';
import { tmp } from './ncnn-helpers.js';

const dir = tmp('fdk-hostile-onnx-');

/** input [1,4,8,8] -> Conv(3x3, 8 filters, group 2) -> Relu -> out; `edit` breaks it. */
function model(name: string, edit?: (m: Model) => void): string {
  const b = new GraphBuilder({ opset: 13 });
  const x = b.addInput('input', 'float32', [1, 4, 8, 8]);
  const w = b.constFloat('w', [8, 2, 3, 3], new Float32Array(144).map((_, i) => Math.cos(i)));
  const y = b.op('Conv', [x, w], { kernel_shape: A.ints([3, 3]), pads: A.ints([1, 1, 1, 1]), group: A.int(2) }, 'conv');
  b.addOutput(b.op('Relu', [y], {}, 'relu'), 'out', 'float32');
  const m = b.build();
  edit?.(m);
  const p = join(dir, `${name}.onnx`);
  saveOnnx(m, p);
  return p;
}
const conv = (m: Model) => m.graph.nodes.find((n) => n.opType === 'Conv')!;

/** convert --to ncnn and analyze both refuse `p` with one line matching `why`; no output files. */
function refused(p: string, why: RegExp): void {
  const prefix = p.replace(/\.onnx$/, '');
  const c = runCli(['convert', p, '--to', 'ncnn', '-o', prefix]);
  expectOneLineError(c, new RegExp(`${p.split('/').pop()!.replace('.', '\\.')}: .*${why.source}`));
  expect(existsSync(`${prefix}.param`) || existsSync(`${prefix}.bin`)).toBe(false);
  expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  const a = runCli(['analyze', p, '--json']);
  expectOneLineError(a, why);
}

describe('validateOnnx: malformed models are refused before any pass', () => {
  it('the unbroken model converts and analyzes (so each refusal below is about its defect)', () => {
    const p = model('ok');
    expect(() => validateOnnx(loadOnnx(p))).not.toThrow();
    const r = runCli(['convert', p, '--to', 'ncnn', '-o', join(dir, 'ok'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).ncnnLayers).toBeGreaterThanOrEqual(2);
  });

  it('stride 0, dilation 0, group that does not divide the channels, kernel larger than the padded input', () => {
    refused(model('stride0', (m) => (conv(m).attrs.strides = A.ints([0, 1]))), /node 'conv' \(Conv\): strides \[0, 1\] must be integers >= 1/);
    refused(model('dilation0', (m) => (conv(m).attrs.dilations = A.ints([1, 0]))), /dilations \[1, 0\] must be integers >= 1/);
    refused(model('group3', (m) => (conv(m).attrs.group = A.int(3))), /group 3 does not divide/);
    refused(model('bigkernel', (m) => (conv(m).attrs.dilations = A.ints([6, 6]))), /kernel 3 \(dilated 13\) is larger than the padded input 10/);
  });

  it('opset 99 and data type 99', () => {
    refused(model('opset99', (m) => (m.opsetImport = [{ domain: '', version: 99 }])), /opset 99 is not supported/);
    refused(model('dtype99', (m) => (m.graph.inputs[0].dtype = 'undefined')), /graph input\/output 'input': unknown data type/);
  });

  it('initializer dims that do not match its data', () => {
    refused(model('dims', (m) => (m.graph.initializers.get('w')!.dims = [8, 2, 3, 4])), /initializer 'w': dims 8x2x3x4 need 768 bytes of float32, the data has 576/);
  });

  it('two producers of one tensor, and a cycle named by a node on it', () => {
    refused(model('dup', (m) => (m.graph.nodes[1].outputs = [...m.graph.nodes[0].outputs])), /tensor '.*' is produced twice/);
    refused(
      model('cycle', (m) => {
        const [c, r] = m.graph.nodes;
        c.inputs[0] = r.outputs[0]; // conv reads relu's output, relu reads conv's
        m.graph.inputs[0].name = 'unused';
      }),
      /the graph has a cycle through node '(conv|relu)'/,
    );
  });

  it('a constant Range of 2^40 elements: an error naming the node, not a V8 abort', () => {
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('input', 'float32', [1, 3, 8, 8]);
    const r = b.op('Range', [b.constFloat('s', [], [0]), b.constFloat('l', [], [2 ** 40]), b.constFloat('d', [], [1])], {}, 'huge_range');
    b.addOutput(b.op('Relu', [x]), 'out', 'float32');
    b.addOutput(r, 'r', 'float32');
    const p = join(dir, 'range.onnx');
    saveOnnx(b.build(), p);
    const c = runCli(['convert', p, '--to', 'ncnn', '-o', join(dir, 'range')]);
    expectOneLineError(c, /range\.onnx: node 'huge_range' \(Range\)/);
  });

  it('an unsorted graph (nodes in reverse order) converts to the same .param as the sorted one', () => {
    const sorted = convertOnnxToNcnn(loadOnnx(model('sorted')), {});
    const reversed = convertOnnxToNcnn(loadOnnx(model('reversed', (m) => m.graph.nodes.reverse())), {});
    expect(reversed.param).toBe(sorted.param);
  });

  it('verifyNcnnOutput refuses a .param/.bin the ncnn reader would not load', () => {
    const m = loadOnnx(model('verify'));
    const out = convertOnnxToNcnn(m, {});
    expect(() => verifyNcnnOutput(out, 'verify.onnx')).not.toThrow();
    const lines = out.param.split('\n');
    const dropped = { ...out, param: [lines[0], lines[1], ...lines.slice(3)].join('\n') }; // header still counts the removed layer
    expect(() => verifyNcnnOutput(dropped, 'verify.onnx')).toThrow(/verify\.onnx: conversion produced an ncnn model that would not load/);
    // a later key wins in a .param line: append stride_w = 0 to the convolution
    const zeroStride = { ...out, param: lines.map((l) => (/^Convolution/.test(l) ? `${l} 3=0` : l)).join('\n') };
    expect(() => verifyNcnnOutput(zeroStride, 'verify.onnx')).toThrow(/stride_w 0 must be >= 1/);
    const shortBin = { ...out, bin: [out.bin[0].subarray(0, 8)], summary: { ...out.summary, weightBytes: 8 } };
    expect(() => verifyNcnnOutput(shortBin, 'verify.onnx')).toThrow(FdkError);
  });
});

describe('ONNX external data must be a regular file in the model folder', () => {
  it('a symlink to /etc/passwd is refused, and nothing is written', () => {
    const sub = join(dir, 'ext');
    mkdirSync(sub, { recursive: true });
    const b = new GraphBuilder({ opset: 13 });
    const x = b.addInput('input', 'float32', [1, 4]);
    const w = b.addInitializer('w', Tensor.float32('w', [4], [1, 2, 3, 4]));
    b.addOutput(b.op('Add', [x, w]), 'out', 'float32');
    const m = b.build();
    const p = join(sub, 'ext.onnx');
    saveOnnx(m, p, { externalDataThreshold: 0 }); // w goes to ext.onnx.data
    expect(existsSync(`${p}.data`)).toBe(true);
    // Point the location at a symlink: a file of the same name beside the model, linked to /etc/passwd.
    const evil = join(dir, 'ext-evil');
    mkdirSync(evil, { recursive: true });
    saveOnnx(loadOnnx(p), join(evil, 'ext.onnx'), { externalDataThreshold: 0 });
    const data = join(evil, 'ext.onnx.data');
    rmSync(data);
    symlinkSync('/etc/passwd', data);
    const prefix = join(evil, 'out');
    const r = runCli(['convert', join(evil, 'ext.onnx'), '--to', 'ncnn', '-o', prefix]);
    expectOneLineError(r, /ext\.onnx: external data location 'ext\.onnx\.data' is a symbolic link/);
    expect(existsSync(`${prefix}.param`)).toBe(false);
    expectOneLineError(runCli(['analyze', join(evil, 'ext.onnx')]), /is a symbolic link/);
  });
});
