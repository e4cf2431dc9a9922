/**
 * `npm run docs:tables`: the deterministic tables of the docs, computed from the manifest and the
 * data folder. Today: the manifest models with their published params/MACs beside fdk's own count
 * (the checkpoint exported by fdk, analyzed with the thop convention at the published counting
 * input). Writes them into their marked section (scripts/doc-sections.ts); docs:check recomputes
 * them and fails on any difference.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/util/data.js';
import { loadManifest, modelFile, type ModelEntry } from '../src/models/manifest.js';
import { exportOnnx } from '../src/convert/onnx-export.js';
import { onnxLayerGraph } from '../src/analyze/onnx.js';
import { summarize } from '../src/analyze/summarize.js';
import { runtimeInputs } from '../src/onnx/model.js';
import { DOC_SECTIONS, readSection, stampDoc } from './doc-sections.js';

/** The counting input of the published table (the report's analyze stage uses the same rule). */
function countingInput(e: ModelEntry): number[] {
  const r = e.input.resize;
  if (r.mode === 'fixed') return [1, 3, r.height!, r.width!];
  return e.published?.countInput ?? [1, 3, 240, 320];
}

const int = (n: number) => n.toLocaleString('en-US');

/** The Markdown of the models section (without the stamp). */
export function modelsTable(): string {
  const rows = ['| model | arch | counted at | params (published) | params (fdk) | MACs (published) | MACs (fdk) | equal |', '|---|---|---|---:|---:|---:|---:|---|'];
  for (const e of loadManifest()) {
    if (!e.files.pth) continue;
    const model = exportOnnx({ weights: modelFile(e, 'pth'), arch: e.arch + (e.input.resize.mode === 'fixed' ? `-${e.input.resize.width}` : '') });
    const input = countingInput(e);
    const a = summarize(onnxLayerGraph(model, { convention: 'thop', inputShapes: { [runtimeInputs(model.graph)[0].name]: input } }));
    const p = e.published;
    const equal = p ? (p.params === a.totals.params && p.macs === a.totals.macs ? 'yes' : 'NO') : '–';
    rows.push(`| ${e.id} | ${e.arch} | ${input.join('x')} | ${p ? int(p.params) : '–'} | ${int(a.totals.params)} | ${p ? int(p.macs) : '–'} | ${int(a.totals.macs)} | ${equal} |`);
  }
  return ['', 'Manifest models: the published parameter and MAC counts beside fdk\'s own (`fdk convert --to onnx` of the checkpoint, `fdk analyze` with the thop convention).', '', ...rows, ''].join('\n');
}

/** The section's text as the script would write it now, or undefined if this script does not make it. */
export function recompute(id: string): string | undefined {
  return id === 'models' ? modelsTable() : undefined;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const s = DOC_SECTIONS.find((x) => x.id === 'models')!;
  const path = join(PROJECT_ROOT, s.doc);
  const text = readFileSync(path, 'utf8');
  const found = readSection(text, s);
  if (found.problem) throw new Error(`${s.doc}: ${found.problem}`);
  const a = text.indexOf(s.begin) + s.begin.length;
  writeFileSync(path, text.slice(0, a) + modelsTable() + text.slice(a + found.inner.length));
  stampDoc(s.doc);
  console.log(`wrote the models table into ${s.doc}`);
}
