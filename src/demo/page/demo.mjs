// The `fdk serve` demo: decode a photo with the browser, preprocess and postprocess it with fdk's
// own modules (the ones `fdk detect` uses, compiled into /dist/), run the network with ncnn-wasm or
// ort-wasm (engines.mjs), draw boxes and landmarks. The drawn detections are also written as JSON
// into #view[data-detections] (tests compare them with `fdk detect --json`).
import { preprocess } from '/dist/accuracy/preprocess.js';
import { postprocess } from '/dist/accuracy/postprocess.js';
import { environment, loadModel } from '/page/engines.mjs';

const $ = (id) => document.getElementById(id);
const status = (text, error = false) => {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
};

async function fetchJson(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${(await r.text()) || `HTTP ${r.status}`}`);
  return r.json();
}

/** Decoded photo as fdk's BgrImage (R, G, B bytes flagged rgb, as the Node decoder gives them). */
async function decode(file) {
  const bmp = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'none' });
  const c = new OffscreenCanvas(bmp.width, bmp.height);
  const g = c.getContext('2d', { colorSpace: 'srgb' });
  g.drawImage(bmp, 0, 0);
  const rgba = g.getImageData(0, 0, bmp.width, bmp.height).data;
  const rgb = new Uint8Array(bmp.width * bmp.height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return { image: { width: bmp.width, height: bmp.height, data: rgb, rgb: true }, bitmap: bmp };
}

function draw(bitmap, detections) {
  const view = $('view');
  view.width = bitmap.width;
  view.height = bitmap.height;
  const g = view.getContext('2d');
  g.drawImage(bitmap, 0, 0);
  const lw = Math.max(2, Math.round(Math.max(bitmap.width, bitmap.height) / 300));
  g.lineWidth = lw;
  g.font = `${6 * lw}px system-ui, sans-serif`;
  for (const d of detections) {
    const [x1, y1, x2, y2] = d.box;
    g.strokeStyle = '#00e000';
    g.strokeRect(x1, y1, x2 - x1, y2 - y1);
    g.fillStyle = '#00e000';
    g.fillText(d.score.toFixed(2), x1, Math.max(6 * lw, y1 - lw));
    const colors = ['#ff0000', '#ffff00', '#ff00ff', '#00ffff', '#0000ff'];
    (d.landmarks ?? []).forEach(([x, y], k) => {
      g.fillStyle = colors[k % colors.length];
      g.beginPath();
      g.arc(x, y, lw, 0, 2 * Math.PI);
      g.fill();
    });
  }
  view.dataset.detections = JSON.stringify(detections);
}

// one loaded model at a time; a new model, engine or size loads again
let current;
async function modelFor(id, engine) {
  const key = `${id}|${engine}`;
  if (current?.key === key) return current;
  await current?.model.release();
  current = undefined;
  const { entry, boxesDecoded } = await fetchJson(`/api/model/${id}/entry.json`);
  const base = `/api/model/${id}/`;
  const files = engine === 'ncnn-wasm' ? { param: base + 'model.param', bin: base + 'model.bin' } : { onnx: base + 'model.onnx' };
  const t0 = performance.now();
  const model = await loadModel(engine, files, 1);
  current = { key, entry, boxesDecoded, model, loadMs: performance.now() - t0 };
  return current;
}

async function detect() {
  const file = $('photo').files[0];
  if (!file) return status('pick a photo first', true);
  const id = $('model').value;
  const engine = $('engine').value;
  const longSide = Number($('long-side').value);
  const threshold = Number($('threshold').value);
  $('view').removeAttribute('data-detections');
  status(`loading ${id} on ${engine} ...`);
  try {
    const { entry, boxesDecoded, model, loadMs } = await modelFor(id, engine);
    const { image, bitmap } = await decode(file);
    const t0 = performance.now();
    const pre = preprocess(image, entry, { longSide });
    const t1 = performance.now();
    const { outputs, ms } = await model.run({ [model.inputNames[0] ?? entry.input.name]: { data: pre.tensor, dims: pre.dims } });
    const t2 = performance.now();
    const detections = postprocess(entry, outputs, pre, { boxesDecoded }).filter((d) => d.score >= threshold);
    const t3 = performance.now();
    draw(bitmap, detections);
    const isolation = environment().crossOriginIsolated ? 'cross-origin isolated' : 'not isolated';
    status(`${detections.length} face(s) — ${engine} ${model.info.build} (${model.info.variant}, ${isolation}): ` +
      `inference ${ms.toFixed(1)} ms, preprocess ${(t1 - t0).toFixed(1)} ms, postprocess ${(t3 - t2).toFixed(1)} ms, model load ${loadMs.toFixed(0)} ms`);
    $('view').dataset.inferenceMs = String(ms);
    $('faces').innerHTML = detections.map((d) => `<li>${d.score.toFixed(3)} — box ${d.box.map((v) => v.toFixed(0)).join(', ')}</li>`).join('');
  } catch (e) {
    status(`error: ${e.message ?? e}`, true);
  }
}

async function init() {
  try {
    const models = await fetchJson('/api/models.json');
    $('model').innerHTML = models.map((m) => `<option value="${m.id}">${m.id}</option>`).join('');
    $('run').addEventListener('click', detect);
    $('photo').addEventListener('change', detect);
    status('ready: pick a photo');
    window.fdkDemoReady = true;
  } catch (e) {
    status(`error: ${e.message ?? e}`, true);
  }
}
init();
