/**
 * The format-independent view analysis works on: a list of layers in execution order, each
 * with its activation inputs/outputs (shapes and bytes), its parameter count and its MACs under
 * one counting convention. ONNX (`onnx.ts`) and ncnn (`src/convert/ncnn/analyze.ts`) both
 * produce a LayerGraph; `summarize()` turns it into the report every output format prints.
 */
export type Convention = 'thop' | 'onnx-tool';
export const CONVENTIONS: Convention[] = ['thop', 'onnx-tool'];

export interface ActivationRef {
  name: string;
  shape: number[];
  bytes: number;
}

export interface Layer {
  name: string;
  op: string;
  /** Activation inputs (weights and other constants excluded). */
  inputs: ActivationRef[];
  outputs: ActivationRef[];
  params: number;
  macs: number;
}

export interface LayerGraph {
  file: string;
  format: 'onnx' | 'ncnn';
  convention: Convention;
  /** Runtime inputs (live from the start). */
  inputs: ActivationRef[];
  /** Names of graph outputs (kept alive to the end). */
  outputs: string[];
  layers: Layer[];
  /** Bytes of stored weights (initializers and constants the layers use). */
  weightBytes: number;
  /** Nodes removed as constant (shape glue, Constant nodes) before counting. */
  constantNodes?: number;
  /** Input shapes the analysis used. */
  inputShapes: Record<string, number[]>;
}

export interface LayerRow {
  name: string;
  op: string;
  inputShapes: number[][];
  outputShapes: number[][];
  params: number;
  macs: number;
  /** Fraction of total MACs (0..1). */
  share: number;
}

export interface OpSummary {
  op: string;
  count: number;
  params: number;
  macs: number;
  share: number;
}

export interface AnalysisReport {
  file: string;
  format: 'onnx' | 'ncnn';
  convention: Convention;
  inputShapes: Record<string, number[]>;
  totals: {
    params: number;
    macs: number;
    /** FLOPs = 2 × MACs (one multiply + one add per MAC). */
    flops: number;
    weightBytes: number;
    peakActivationBytes: number;
    layers: number;
    constantNodes: number;
  };
  byOp: OpSummary[];
  layers: LayerRow[];
}
