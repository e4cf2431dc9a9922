// The two WebAssembly engines inside a page: used by the bench/parity lane (lane.mjs) and the demo
// page (demo.mjs). Served by src/browser/server.ts: /dist/ is fdk's compiled JS, /ort/ is
// onnxruntime-web's dist folder, /ncnn-wasm/<variant>/ is a build of scripts/build-ncnn-wasm.sh.
import { NcnnWasmNet } from '/dist/runtime/ncnn-wasm/net.js';

// The smallest module using a v128 instruction (wasm-feature-detect's SIMD probe).
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

export function environment() {
  return {
    crossOriginIsolated: self.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    simd: WebAssembly.validate(SIMD_PROBE),
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
  };
}

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function loadScript(url) {
  return new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = url;
    s.onload = () => ok();
    s.onerror = () => fail(new Error(`${url}: the script does not load`));
    document.head.appendChild(s);
  });
}

/** ncnn-wasm: one module per page (both variants define the same global factory). */
let ncnnModule;
async function ncnnWasm(variant) {
  if (ncnnModule) return ncnnModule;
  const base = `/ncnn-wasm/${variant}/`;
  await loadScript(base + 'ncnn-wasm.js');
  const errors = [];
  const module = await self.createNcnnWasm({
    locateFile: (f) => base + f,
    mainScriptUrlOrBlob: base + 'ncnn-wasm.js',
    print: () => {},
    printErr: (s) => errors.push(s),
  });
  const meta = await (await fetch(base + 'build.json')).json();
  ncnnModule = { module, variant, version: meta.ncnn, takeErrors: () => errors.splice(0).join('; ') };
  return ncnnModule;
}

let ort;
async function ortWasm(threads) {
  if (!ort) {
    ort = await import('/ort/ort.wasm.min.mjs');
    ort.env.wasm.wasmPaths = '/ort/';
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
  }
  return ort;
}

/**
 * Loads a model on an engine. model: { param, bin } URLs for ncnn-wasm, { onnx } for ort-wasm.
 * Returns { inputNames, outputNames, run(feeds, outputNames) -> { outputs, ms }, info, release }.
 * feeds and outputs: name -> { data: Float32Array, dims }.
 */
export async function loadModel(runtime, model, threads) {
  if (runtime === 'ncnn-wasm') {
    const variant = threads > 1 ? 'simd-threads' : 'simd';
    const [{ module, version, takeErrors }, param, bin] = await Promise.all([ncnnWasm(variant), fetchBytes(model.param), fetchBytes(model.bin)]);
    takeErrors();
    const net = new NcnnWasmNet(module, new TextDecoder().decode(param), bin, { threads }, takeErrors);
    return {
      inputNames: net.inputNames,
      outputNames: net.outputNames,
      info: { variant, build: `ncnn ${version} ${NcnnWasmNet.buildFlavor(module)}` },
      run: async (feeds, names) => net.run(feeds, names),
      release: async () => net.release(),
    };
  }
  if (runtime === 'ort-wasm') {
    const o = await ortWasm(threads);
    const session = await o.InferenceSession.create(await fetchBytes(model.onnx), { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    return {
      inputNames: [...session.inputNames],
      outputNames: [...session.outputNames],
      info: { variant: o.env.wasm.numThreads > 1 ? 'simd-threads' : 'simd', build: `onnxruntime-web ${o.env.versions.web}`, threads: o.env.wasm.numThreads },
      run: async (feeds, names) => {
        const t = {};
        for (const [k, v] of Object.entries(feeds)) t[k] = new o.Tensor('float32', v.data, v.dims);
        const t0 = performance.now();
        const r = names ? await session.run(t, names) : await session.run(t);
        const ms = performance.now() - t0;
        const outputs = {};
        for (const [k, v] of Object.entries(r)) outputs[k] = { data: v.data, dims: [...v.dims] };
        return { outputs, ms };
      },
      release: () => session.release(),
    };
  }
  throw new Error(`runtime '${runtime}' does not run in the browser (browser runtimes: ncnn-wasm, ort-wasm)`);
}

export { fetchBytes };
