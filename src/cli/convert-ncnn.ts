/**
 * `fdk convert MODEL.onnx --to ncnn [-o PREFIX | --out DIR] [--fp16] [--input name:shape] [--no-optimize] [--force] [--json]`:
 * ONNX -> ncnn .param/.bin with fdk's own converter (src/convert/ncnn). Default prefix
 * `./fdk-out/<name>[-fp16][-noopt]`. The model's description (embedded, sidecar, manifest or
 * --spec) is written beside them as PREFIX.fdk.json, so every command that takes the .param knows
 * how to run it. All files are written atomically, only when the whole conversion succeeded;
 * identical files are left alone, a different model needs --force; a --input size the model's
 * constants do not fit is refused first (or its prior tables regenerated from the description).
 */
import { basename, extname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { convertCheckedModel, convertVerified, type FileConvertOptions } from '../convert/ncnn/index.js';
import { validateOnnx } from '../onnx/validate.js';
import { checkInputSizeFits, regeneratePriorConstants } from '../convert/size-check.js';
import { descriptionForModelFile, fixedInputShape, sidecarPath } from '../models/description.js';
import { loadOnnx } from '../onnx/io.js';
import { outputDir, taggedName, writeOutputData } from '../util/fs.js';
import type { ConvertSummary } from '../convert/ncnn/convert.js';
import { FdkError, escapeName } from '../util/errors.js';
import type { ConvertCliOptions, ConvertStep } from './convert.js';
import { outcomeNote, parseInputShapes, printJson } from './output.js';
import { printFitted } from './table.js';
import { thousands } from '../util/thousands.js';

/** `step` marks the progress of a terminal's bar, `done` removes the bar before the summary. */
export async function convertToNcnnCommand(input: string, opts: ConvertCliOptions, step: ConvertStep = () => {}, done: () => void = () => {}): Promise<void> {
  if (extname(input).toLowerCase() !== '.onnx') throw new FdkError('--to ncnn converts ONNX models (.onnx); convert a checkpoint with --to onnx first', { file: input });
  if (!existsSync(input)) throw new FdkError('no such file', { file: input });
  if (opts.arch) throw new FdkError('--arch applies to --to onnx only', { file: input });
  const stem = taggedName(basename(input).replace(/\.onnx$/i, ''), [opts.fp16 && 'fp16', opts.optimize === false && 'noopt']);
  const prefix = (opts.output ?? join(outputDir(opts.out), stem)).replace(/\.(param|bin)$/i, '');
  const o: FileConvertOptions = { fp16: !!opts.fp16, optimize: opts.optimize !== false, inputShapes: opts.input?.length ? parseInputShapes(opts.input) : undefined };
  const t0 = performance.now();
  step('reading');
  const model = loadOnnx(input);
  step('validating');
  validateOnnx(model, { inputShapes: o.inputShapes }); // before the size check reads the graph (onnx/validate.ts)
  step('reading the model description');
  const described = await descriptionForModelFile(input, { spec: opts.spec, loaded: model });
  const description = described && structuredClone(described.description);
  // a .param cannot be inspected for a decoding tail later: record whether the boxes come out decoded
  if (description?.decode.family === 'prior' && description.decode.boxesDecoded === undefined && description.decode.variant === 'ultra-light') {
    const { boxesDecodedFor } = await import('../accuracy/pipeline.js');
    description.decode.boxesDecoded = boxesDecodedFor(description, input);
  }
  let regenerated: string[] = [];
  if (o.inputShapes) {
    const madeFor = description && fixedInputShape(description);
    const requested = Object.values(o.inputShapes)[0];
    try {
      checkInputSizeFits(model, o.inputShapes, input, { madeFor });
    } catch (e) {
      // the description knows how the baked constants were made: make them again for this size
      if (!madeFor || !requested || requested.length !== 4) throw e;
      regenerated = regeneratePriorConstants(model, description, [madeFor[2], madeFor[3]], [requested[2], requested[3]]);
      if (!regenerated.length) throw e;
      checkInputSizeFits(model, o.inputShapes, input, { madeFor });
      [description.input.resize.height, description.input.resize.width] = [requested[2], requested[3]];
    }
  }
  const paramPath = resolve(`${prefix}.param`);
  const binPath = resolve(`${prefix}.bin`);
  const descPath = description ? sidecarPath(paramPath) : undefined;
  const paths = descPath ? [paramPath, binPath, descPath] : [paramPath, binPath];
  step('converting and writing');
  const { result: c, outcome } = await writeOutputData(paths, () => {
    // validated above, before the size check; validated again only if regeneration changed constants
    const c = regenerated.length ? convertCheckedModel(model, input, o) : convertVerified(model, input, o);
    const data = [c.param, c.bin, ...(descPath ? [`${JSON.stringify(description, null, 1)}\n`] : [])];
    return { result: c, data };
  }, { force: opts.force });
  const ms = performance.now() - t0;
  done();
  if (opts.json) return printJson({ input, param: paramPath, bin: binPath, description: descPath ?? null, regeneratedPriors: regenerated, outcome, ms: Math.round(ms), ...c.summary });
  printSummary(input, paramPath, binPath, c.summary, ms, outcome);
  if (regenerated.length) printFitted(`  prior tables regenerated for ${Object.values(o.inputShapes!)[0].join('x')} from the description: ${regenerated.join(', ')}`);
  printFitted(descPath ? `  description (${described!.source}): ${descPath}` : '  no model description (none embedded, no sidecar, not a manifest file; --spec FILE adds one)');
}

function printSummary(input: string, param: string, bin: string, s: ConvertSummary, ms: number, outcome: string): void {
  const p = s.passes;
  const lines = [
    `converted ${input} -> ${param} + ${bin} (${Math.round(ms)} ms)${outcomeNote(outcome)}`,
    `  ONNX nodes ${s.onnxNodes} -> ncnn layers ${s.ncnnLayers} (${s.blobs} blobs)${s.optimize ? '' : ', --no-optimize'}`,
    `  constant folding: ${p.constantFolding.removed} nodes removed${p.constantFolding.note ? ` (${p.constantFolding.note})` : ''}`,
    `  shape glue evaluated: ${p.shapeGlue.removed} nodes removed; identity/dropout removed: ${p.identities.removed}`,
    `  BatchNorm folded: ${p.batchNorm.fused}; activations fused: ${p.activation.fused}; dead layers removed: ${p.deadLayers.removed}; Split inserted: ${p.split.inserted}`,
    `  layers: ${Object.entries(s.layerTypes).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  inputs: ${s.inputs.map(escapeName).join(', ')}; outputs: ${s.outputs.map(escapeName).join(', ')}`, // names from the file
    `  weights: ${thousands(s.weightBytes)} bytes (${s.fp16 ? 'fp16' : 'fp32'})`,
  ];
  printFitted(lines.join('\n'));
}
