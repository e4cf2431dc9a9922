/**
 * Report stage "export": the ONNX every later stage uses.
 * From the model's PyTorch checkpoint via fdk's exporter (src/convert/onnx-export.ts), or the file
 * given with `--model-file ID=PATH` (used e.g. to check that a perturbed model fails the gate).
 */
import { runtimeInputs } from '../onnx/model.js';
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import { loadOnnx } from '../onnx/io.js';
import { sha256File } from '../util/fs.js';
import { FdkError } from '../util/errors.js';
import type { ExportInfo } from './schema.js';
import type { ModelContext } from './context.js';

export function describeOnnx(path: string, source: ExportInfo['source']): ExportInfo {
  const model = loadOnnx(path);
  const g = model.graph;
  return {
    source,
    file: basename(path),
    bytes: statSync(path).size,
    sha256: sha256File(path),
    nodes: g.nodes.length,
    inputs: runtimeInputs(g).map((v) => v.name),
    outputs: g.outputs.map((v) => v.name),
  };
}

export async function exportStage(ctx: ModelContext): Promise<ExportInfo> {
  const override = ctx.opts.modelFiles[ctx.entry.id];
  if (override) {
    ctx.onnxPath = override;
    ctx.onnxDynamic = ctx.entry.input.resize.mode !== 'fixed' && hasSymbolicInput(override);
    return describeOnnx(override, 'override');
  }
  if (!ctx.entry.files.pth) throw new FdkError(`model '${ctx.entry.id}' has no checkpoint to export`);
  // Imported on demand: the exporter (checkpoint reader, builders) is only needed for this stage.
  const { exportedOnnxPath } = await import('../convert/onnx-export.js');
  // Seed models run at any long side: export with dynamic H/W. Ultra-Light models are fixed-size.
  const dynamic = ctx.entry.input.resize.mode !== 'fixed';
  const path = exportedOnnxPath(ctx.entry.id, { dynamic });
  ctx.onnxPath = path;
  ctx.onnxDynamic = dynamic;
  return describeOnnx(path, 'checkpoint');
}

function hasSymbolicInput(path: string): boolean {
  const g = loadOnnx(path).graph;
  return runtimeInputs(g).some((v) => (v.shape ?? []).some((d) => typeof d !== 'number' || d <= 0));
}
