/** Terminal output of `fdk parity` and `fdk parity --per-layer`. */
import { fitTable, type Column } from '../cli/table.js';
import type { ParityReport } from './run-parity.js';
import type { PerLayerReport, LayerDiff } from './per-layer.js';
import { escapeName } from '../util/errors.js';

/** Names come from the model file (outputs, nodes, tensors, ncnn layers): escaped before printing. */
const n = escapeName;

const e = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : String(v));
const L: Column = { align: 'left' };
const R: Column = { align: 'right' };
/** Free text that wraps rather than loses its end (output names paired 'by shape', dims of two sides). */
const W: Column = { overflow: 'wrap' };
/** 'ort vs ncnn': short, and read first. */
const K: Column = { overflow: 'keep' };

export function parityText(r: ParityReport): string {
  const out: string[] = [];
  out.push(`model: ${n(r.model.arg === r.model.path ? r.model.path : `${r.model.arg} -> ${r.model.path}`)} (${r.model.origin}); ${r.preprocessing ? `images preprocessed as ${r.preprocessing}` : r.inputSource === 'synthetic' ? 'seeded synthetic inputs (no description)' : 'inputs from the given arrays'}`);
  out.push(`runtimes: ${r.runtimes.map((x) => `${x.name} ${x.version}`).join(', ')}; ${r.inputs.length} input(s): ${[...new Set(r.inputs.map((i) => i.dims.join('x')))].join(', ')}`);
  for (const x of r.runtimes) for (const note of x.notes) out.push(n(note));
  out.push(`tolerance: |a-b| <= ${r.tolerance.atol} + ${r.tolerance.rtol}*|a| per element`);
  const rows: string[][] = [];
  for (const p of r.pairs)
    for (const [name, d] of Object.entries(p.outputs))
      rows.push([`${p.a} vs ${p.b}`, d.pairedWith === name ? n(name) : `${n(name)} = ${n(d.pairedWith)} (by ${d.pairedBy})`, (d.dimsA.join('x') === d.dimsB.join('x') ? d.dimsA.join('x') : `${d.dimsA.join('x')} vs ${d.dimsB.join('x')}`) + (d.dimsVary ? ' (1st input)' : ''),
        e(d.maxAbs), e(d.maxRel), d.cosine.toFixed(8), String(d.outside), d.ok ? 'ok' : 'FAIL']);
  out.push(fitTable(['pair', 'output', 'dims', 'max abs', 'max rel', 'cosine', 'outside', 'ok'], rows, [K, W, W, R, R, R, R, L]));
  for (const p of r.pairs)
    if (p.unpaired) out.push(`${p.a} vs ${p.b}: not compared (no counterpart; pair with --map): ${[...p.unpaired.a.map((x) => `${p.a} ${n(x)}`), ...p.unpaired.b.map((x) => `${p.b} ${n(x)}`)].join(', ')}`);
  if (r.pairs.some((p) => p.detections)) {
    const drows: string[][] = [];
    for (const p of r.pairs) {
      const d = p.detections;
      if (!d) continue;
      drows.push([`${p.a} vs ${p.b}`, `${d.a} / ${d.b}`, String(d.matched), String(d.unmatchedA + d.unmatchedB), String(d.unmatchedSignificant), e(d.maxScoreDelta), e(d.maxBoxDelta),
        String(d.confidentMatched), e(d.confidentMaxScoreDelta), e(d.confidentMaxBoxDelta), d.ok ? 'ok' : 'FAIL']);
    }
    // the long headers wrap onto a second line
    const head = ['pair', 'detections', 'matched', 'unmatched', 'unmatched > 0.5', 'max score Δ', 'max box Δ px', 'score > 0.5: matched', 'score Δ', 'box Δ px', 'ok'];
    out.push(fitTable(head, drows, [K, R, R, R, R, R, R, R, R, R, L]));
  }
  if (r.detectionsNote) out.push(n(r.detectionsNote));
  out.push(r.ok ? 'parity: ok' : 'parity: FAILED (outside tolerance)');
  return out.join('\n');
}

function layerLine(l: LayerDiff): string {
  const attrs = Object.entries(l.attrs).map(([k, v]) => `${n(k)}=${JSON.stringify(v)}`).join(' ');
  const nc = l.ncnnLayer ? `; ncnn ${n(l.ncnnLayer.type)} '${n(l.ncnnLayer.name)}' ${n(l.ncnnLayer.params)}` : '';
  return `${n(l.op)} '${n(l.node)}' -> ${n(l.tensor)} [${l.onnxDims.join('x')}] ${attrs}${nc}: max abs ${e(l.maxAbs)} (max |ref| ${e(l.refMaxAbs)}), max rel ${e(l.maxRel)}, cosine ${l.cosine.toFixed(6)}`;
}

export function perLayerText(r: PerLayerReport, all = false): string {
  const out: string[] = [];
  out.push(`per-layer parity ort vs ncnn: ${n(r.model.path)} vs ${n(r.ncnn.param)}; input ${n(String(r.input))}`);
  if (r.ncnn.note) out.push(n(r.ncnn.note));
  out.push(`${r.compared} shared tensors compared in topological order (${r.skipped} skipped: layout differs; ${r.onnxOnly} ONNX tensors without an ncnn blob)`);
  out.push(`a layer diverges when max abs diff > ${r.tolerance.atol} + ${r.tolerance.rtol} * max|ort value|`);
  if (all) {
    const rows = r.layers.map((l, i) => [String(i), n(l.op), n(l.tensor), l.onnxDims.join('x'), l.skipped ? 'skipped' : e(l.maxAbs), e(l.refMaxAbs), Number.isFinite(l.cosine) ? l.cosine.toFixed(6) : '-', l.skipped ? '-' : l.ok ? 'ok' : 'DIVERGES']);
    out.push(fitTable(['#', 'op', 'tensor', 'dims', 'max abs', 'max |ref|', 'cosine', 'ok'], rows, [R, L, L, L, R, R, R, L]));
  }
  if (r.firstDiverging) {
    const f = r.firstDiverging;
    out.push(`first diverging layer: ${layerLine(f)}`);
    const ins = f.inputs.map((t) => r.layers.find((l) => l.tensor === t)).filter((l): l is LayerDiff => Boolean(l && !l.skipped));
    if (ins.length) out.push(`its inputs still match: ${ins.map((l) => `${n(l.tensor)} (max abs ${e(l.maxAbs)})`).join(', ')}`);
    else if (f.inputs.length) out.push(`its inputs (${f.inputs.map(n).join(', ')}) are graph inputs or weights`);
  } else {
    const worst = r.layers.filter((l) => !l.skipped).reduce((w, l) => (l.maxAbs > (w?.maxAbs ?? -1) ? l : w), undefined as LayerDiff | undefined);
    out.push(`no diverging layer${worst ? `; largest difference ${e(worst.maxAbs)} at ${n(worst.op)} '${n(worst.node)}' -> ${n(worst.tensor)}` : ''}`);
  }
  return out.join('\n');
}
