#!/usr/bin/env node
/**
 * fdk as a library: analyze an ONNX model, convert it to ncnn, and check that ncnn and
 * onnxruntime agree on it — the same engines as `fdk analyze`, `fdk convert --to ncnn` and
 * `fdk parity`, called from code.
 *
 *   npm install fdk-edge
 *   node analyze-and-convert.mjs MODEL.onnx [OUT_DIR] [--input name:1x3x240x320]
 *
 * Prints one JSON document: params/MACs, the .param/.bin written, and the parity verdict.
 */
import { analyze, convertToNcnn, parity, fdkVersion, FdkError } from 'fdk-edge';

const args = process.argv.slice(2);
const shapeAt = args.indexOf('--input');
const shapeArg = shapeAt >= 0 ? args.splice(shapeAt, 2)[1] : undefined;
const [model, outDir = 'fdk-out'] = args;
if (!model) {
  console.error('usage: node analyze-and-convert.mjs MODEL.onnx [OUT_DIR] [--input name:1x3xHxW]');
  process.exit(2);
}
// `name:1x3x240x320` -> { name: [1, 3, 240, 320] } ('' = the first input)
const inputShapes = {};
if (shapeArg) {
  const i = shapeArg.lastIndexOf(':');
  inputShapes[i >= 0 ? shapeArg.slice(0, i) : ''] = shapeArg.slice(i + 1).split('x').map(Number);
}

try {
  const report = await analyze(model, { inputShapes });
  const ncnn = await convertToNcnn(model, { outDir, inputShapes });
  // ort and ort-wasm need no Python; add 'ncnn' when fdk's ncnn venv is set up (fdk setup ncnn)
  const p = await parity(model, { runtimes: ['ort', 'ort-wasm'], inputShapes });
  console.log(JSON.stringify({
    fdk: fdkVersion(),
    model,
    params: report.totals.params,
    macs: report.totals.macs,
    ncnn: { param: ncnn.param, bin: ncnn.bin, outcome: ncnn.outcome, layers: ncnn.summary.ncnnLayers },
    parity: { ok: p.ok, inputs: p.inputSource, worstMaxAbs: Math.max(...p.pairs.flatMap((x) => Object.values(x.outputs).map((o) => o.maxAbs))) },
  }, null, 2));
} catch (e) {
  // FdkError: a problem with the input, one line naming the file
  console.error(e instanceof FdkError ? `error: ${e.message}` : e);
  process.exit(1);
}
