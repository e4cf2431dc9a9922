/**
 * What parity feeds the runtimes, decided in one place for the CLI and the library: the user's
 * arrays or images (`inputs`), real images for a described model, else seeded synthetic tensors.
 */
import { resolve } from 'node:path';
import type { ModelEntry } from '../models/manifest.js';
import { concreteInputShapes, type ModelSource } from '../runtime/model-source.js';
import { resolveDataDir } from '../util/data.js';
import { FdkError } from '../util/errors.js';
import { describeModel, fitDescriptionToModel } from './describe.js';
import { arrayCases, syntheticCases, type ParityCase } from './feeds.js';

export interface ParityCaseOptions {
  /** .npy/.npz arrays named after the inputs, or images (which need a description). */
  inputs?: string[];
  /** Shapes of dynamic inputs for synthetic tensors ('' = the first input). */
  inputShapes?: Record<string, number[]>;
  /** Seed of the synthetic tensors (default 1). */
  seed?: number;
  /** Description whose preprocessing to use for images: a manifest id (or a description file where src/models supports them); default: the model's own. */
  spec?: string;
  /** Folder of images for a described model (default <data>/images). */
  imagesDir?: string;
  maxImages?: number;
  /** Long sides for long-side (seed) models (default [320]). */
  longSides?: number[];
}

const IMAGE = /\.(jpe?g|png)$/i;

/** The inputs every runtime gets, and the description that made them (undefined: tensors compared as such). */
export async function parityCases(src: ModelSource, o: ParityCaseOptions = {}): Promise<{ cases: ParityCase[]; entry?: ModelEntry }> {
  const named = o.inputShapes ?? {};
  let entry = await describeModel(src, o.spec);
  if (entry) entry = fitDescriptionToModel(entry, named[''] ?? named[entry.input.name] ?? src.inputs[Object.keys(src.inputs)[0]]);
  const longSides = o.longSides ?? [320];
  const files = o.inputs ?? [];
  if (files.length) {
    const images = files.filter((f) => IMAGE.test(f));
    if (images.length === 0) return { cases: arrayCases(files, Object.keys(src.inputs)) };
    if (images.length !== files.length) throw new FdkError('--inputs: give either arrays (.npy/.npz) or images, not both');
    const { parityInputs } = await import('./images.js'); // sharp: loaded only for images
    if (!entry) throw new FdkError('--inputs: images need a description to be preprocessed; pass --spec ID (model ids: fdk models list)', { file: images[0] });
    return { cases: await parityInputs(entry, images.slice(0, o.maxImages), longSides), entry };
  }
  if (entry && Object.keys(named).length === 0) {
    const { listImages, parityInputs } = await import('./images.js');
    const dir = o.imagesDir ?? resolve(resolveDataDir()!, 'images');
    return { cases: await parityInputs(entry, listImages(dir, o.maxImages), longSides), entry };
  }
  if (o.imagesDir) throw new FdkError('--images: no description tells how to preprocess images for this model; pass --spec ID, or leave it out for synthetic inputs', { file: src.path });
  const [shapes] = concreteInputShapes(src, named);
  return { cases: syntheticCases(shapes, { seed: o.seed ?? 1 }) };
}
