// The browser lane inside Chromium. src/browser/runtime.ts opens /page/lane.html once per loaded
// model (the engines fix their thread count when they start) and drives window.fdkLane:
//   load(runtime, model, threads) -> { env, info, inputNames, outputNames, loadMs }
//   run(inputs, outputNames)      -> { ms, outputs }
// Inputs come as raw float32 files from the same server; outputs go back as base64 float32, so
// the CLI compares them exactly like Node outputs.
import { environment, fetchBytes, loadModel } from './engines.mjs';

function toBase64(f32) {
  const bytes = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

let model;

async function load(runtime, files, threads) {
  const t0 = performance.now();
  model = await loadModel(runtime, files, threads);
  const loadMs = performance.now() - t0;
  return { env: environment(), info: model.info, inputNames: model.inputNames, outputNames: model.outputNames, loadMs };
}

// inputs: [{ name, dims, url }]
async function run(inputs, outputNames) {
  const feeds = {};
  for (const inp of inputs) feeds[inp.name] = { data: new Float32Array((await fetchBytes(inp.url)).buffer), dims: inp.dims };
  const r = await model.run(feeds, outputNames);
  const outputs = {};
  for (const [k, v] of Object.entries(r.outputs)) outputs[k] = { dims: v.dims, base64: toBase64(v.data) };
  return { ms: r.ms, outputs };
}

async function release() {
  await model?.release();
  model = undefined;
}

window.fdkLane = { load, run, release, environment };
document.getElementById('status').textContent = 'ready';
