/**
 * The registry of ncnn layer types: one record per type (params with defaults, .bin layout, output
 * dims, cost, fusion role). The .bin reader, the analyzer and the passes look types up here.
 *
 * Adding a layer type = adding its record to the family file it belongs to (conv, dense, norm,
 * elementwise, shape); this list picks it up.
 */
import { FdkError } from '../../../util/errors.js';
import type { ParamDict } from '../format/param.js';
import { CONV_LAYERS } from './conv.js';
import { DENSE_LAYERS } from './dense.js';
import { NORM_LAYERS } from './norm.js';
import { ELEMENTWISE_LAYERS } from './elementwise.js';
import { SHAPE_LAYERS } from './shape.js';
import { Params, type LayerRecord } from './types.js';

export const LAYERS: ReadonlyMap<string, LayerRecord> = new Map(
  [...CONV_LAYERS, ...DENSE_LAYERS, ...NORM_LAYERS, ...ELEMENTWISE_LAYERS, ...SHAPE_LAYERS].map((r) => [r.type, r]),
);

export function layerRecord(type: string): LayerRecord | undefined {
  return LAYERS.get(type);
}

/** The record of a layer read from a file; an unknown type is what ncnn itself refuses to load. */
export function requireRecord(type: string, layerName: string, file?: string): LayerRecord {
  const r = LAYERS.get(type);
  if (!r) throw new FdkError(`layer '${layerName}' has type ${type}, which fdk does not know (ncnn loads only registered layer types)`, { file });
  return r;
}

export function paramsOf(record: LayerRecord, dict: ParamDict): Params {
  return new Params(record, dict);
}

export { binaryOpDims } from './elementwise.js';
export { declaredDims, permuteAxes } from './shape.js';
export { FUSED_ACTIVATION_COST } from './conv.js';
export type { LayerRecord, WeightSpec, Dims, CostInput, LayerCost } from './types.js';
export { Params } from './types.js';
