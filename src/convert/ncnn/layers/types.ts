/**
 * The shape of one ncnn layer record: everything fdk needs to know about an ncnn layer type, in one
 * place, so the .bin reader, the analyzer (shapes, MACs, params) and the passes (fusion) agree.
 *
 * Records are written from ncnn's documentation (docs/developer-guide/operators.md) and each
 * layer's load_param / load_model / forward in ncnn's src/layer/*.cpp, and are checked against the
 * real ncnn (test/ncnn-layers.test.ts loads hand-written files into ncnn and compares).
 */
import type { NcnnLayer, ParamDict } from '../format/param.js';

/** ncnn Mat dims outer-first without batch: (c,h,w) = [c,h,w], (c,d,h,w) = [c,d,h,w], (h,w), (w). */
export type Dims = number[];

/** A param's default: a number, an array, or the name of another param whose value it takes (kernel_h = kernel_w). */
export type ParamDefault = number | number[] | string;

export interface ParamSpec {
  id: number;
  name: string;
  def: ParamDefault;
}

/** One buffer a layer loads from the .bin, in load order. */
export interface WeightSpec {
  name: string;
  count: number;
  /**
   * true = ModelBin type 0: a 4-byte storage tag first (fp32 / fp16 / int8 / quantization table);
   * false = type 1: raw fp32.
   */
  tagged: boolean;
}

export interface CostInput {
  p: Params;
  ins: Dims[];
  outs: Dims[];
  /** Number of weight values the layer loaded (all buffers). */
  weights: number;
  /** thop convention (module MACs only) vs onnx-tool (every op, per-element costs). */
  thop: boolean;
}

export interface LayerCost {
  macs: number;
  params: number;
}

export interface LayerRecord {
  type: string;
  /** Every param ncnn's load_param reads: id, name, default. */
  params: ParamSpec[];
  /** What load_model reads from the .bin, from the params; absent = nothing. */
  weights?: (p: Params) => WeightSpec[];
  /** Output dims from input dims; absent = each output has the dims of input 0. */
  shape?: (p: Params, ins: Dims[], outputCount: number) => Dims[];
  /** MACs and parameter count; absent = no MACs, and the weights as params for onnx-tool only. */
  cost?: (c: CostInput) => LayerCost;
  /** When this layer is an activation that a convolution / InnerProduct can take over: [activation_type, activation_params]. */
  activation?: (p: Params) => [number, number[]] | undefined;
  /** Set on layers that carry activation_type (9) / activation_params (10) and a bias (fusion targets). */
  fusionHost?: { biasParam: string };
}

/**
 * A layer's params with ncnn's defaults applied, read by name (`p.int('kernel_h')`).
 * Unknown names are programming errors and throw.
 */
export class Params {
  private readonly byName = new Map<string, ParamSpec>();
  constructor(readonly record: LayerRecord, readonly dict: ParamDict) {
    for (const s of record.params) this.byName.set(s.name, s);
  }
  private spec(name: string): ParamSpec {
    const s = this.byName.get(name);
    if (!s) throw new Error(`ncnn layer ${this.record.type} has no param '${name}'`);
    return s;
  }
  has(name: string): boolean {
    return this.dict.has(this.spec(name).id);
  }
  /** A scalar param (int or float). */
  num(name: string): number {
    const s = this.spec(name);
    const v = this.dict.get(s.id);
    if (v && (v.kind === 'int' || v.kind === 'float')) return v.value;
    if (typeof s.def === 'string') return this.num(s.def);
    return typeof s.def === 'number' ? s.def : 0;
  }
  /** A scalar param that only some records of a family have (`def` for the others). */
  numIfAny(name: string, def: number): number {
    return this.byName.has(name) ? this.num(name) : def;
  }
  /** An array param. */
  array(name: string): number[] {
    const s = this.spec(name);
    const v = this.dict.get(s.id);
    if (v && (v.kind === 'ints' || v.kind === 'floats')) return v.value;
    if (v && (v.kind === 'int' || v.kind === 'float')) return [v.value];
    return Array.isArray(s.def) ? s.def : [];
  }
}

/** Builds a record from a compact param list `[id, name, default]`. */
export function layer(type: string, params: [number, string, ParamDefault][], rest: Omit<LayerRecord, 'type' | 'params'> = {}): LayerRecord {
  return { type, params: params.map(([id, name, def]) => ({ id, name, def })), ...rest };
}

/** Element count of dims. */
export const vol = (d: Dims): number => d.reduce((a, b) => a * b, 1);

/** Tags a weight buffer list. */
export const tagged = (name: string, count: number): WeightSpec => ({ name, count, tagged: true });
export const raw = (name: string, count: number): WeightSpec => ({ name, count, tagged: false });

/** onnx-tool's per-element costs (src/analyze/conventions.ts uses the same numbers for ONNX ops). */
export const COST = { ADD: 1, MUL: 1, CMP: 1, DIV: 4, EXP: 32, LOG: 43, SQRT: 24, SINCOS: 39 } as const;

/** Cost of an elementwise layer: `perElement` onnx-tool units per output element, nothing for thop. */
export const perElement = (units: number) => (c: CostInput): LayerCost => ({ macs: c.thop ? 0 : units * (c.outs[0] ? vol(c.outs[0]) : 0), params: c.thop ? 0 : c.weights });

export type { NcnnLayer };
