/**
 * A small ONNX graph builder on top of the IR in model.ts: add inputs, initializers and nodes
 * with unique names, then `build()` a Model with the requested opset and a matching IR version.
 * Used by the PyTorch -> ONNX exporters (src/convert/builders).
 */
import type { Attr, Dim, Graph, Model, Node, ValueInfo } from './model.js';
import { Tensor, type DType } from './tensor.js';

/** Attribute constructors (explicit: a JS number cannot tell int from float). */
export const A = {
  int: (value: number): Attr => ({ type: 'int', value }),
  ints: (value: number[]): Attr => ({ type: 'ints', value }),
  float: (value: number): Attr => ({ type: 'float', value }),
  floats: (value: number[]): Attr => ({ type: 'floats', value }),
  string: (value: string): Attr => ({ type: 'string', value }),
  tensor: (value: Tensor): Attr => ({ type: 'tensor', value }),
};

/** Lowest IR version that carries each opset (onnx/helper.py VERSION_TABLE). */
export function irVersionForOpset(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 9) return 4;
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

export interface NodeOptions {
  /** Node name (made unique); default `<OpType>_<n>`. */
  name?: string;
  /** Output tensor names, or a count of outputs to name automatically (default 1). */
  outputs?: string[] | number;
  attrs?: Record<string, Attr>;
  domain?: string;
}

export class GraphBuilder {
  readonly opset: number;
  readonly nodes: Node[] = [];
  readonly initializers = new Map<string, Tensor>();
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private used = new Set<string>();
  private nodeNames = new Set<string>();
  private counter = 0;
  private readonly graphName: string;

  constructor(opts: { opset: number; name?: string }) {
    this.opset = opts.opset;
    this.graphName = opts.name ?? 'graph';
  }

  /** A tensor name not used yet, derived from `base`. */
  fresh(base: string): string {
    let n = base;
    for (let i = 1; this.used.has(n); i++) n = `${base}_${i}`;
    this.used.add(n);
    return n;
  }

  private freshNode(base: string): string {
    let n = base;
    for (let i = 1; this.nodeNames.has(n); i++) n = `${base}_${i}`;
    this.nodeNames.add(n);
    return n;
  }

  addInput(name: string, dtype: DType, shape: Dim[]): string {
    if (this.used.has(name)) throw new Error(`graph builder: name '${name}' already used`);
    this.used.add(name);
    this.inputs.push({ name, dtype, shape });
    return name;
  }

  /** Declares `tensor` (an existing value) as a graph output, renaming it through Identity if needed. */
  addOutput(tensor: string, name: string, dtype: DType, shape?: Dim[]): void {
    if (tensor !== name) {
      // the producing node's output is renamed so the output keeps its public name
      const producer = this.nodes.find((n) => n.outputs.includes(tensor));
      if (producer && !this.used.has(name)) {
        this.used.add(name);
        producer.outputs = producer.outputs.map((o) => (o === tensor ? name : o));
        for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === tensor ? name : i));
      } else this.node('Identity', [tensor], { outputs: [this.fresh(name)] });
    }
    this.outputs.push({ name, dtype, shape });
  }

  addInitializer(name: string, tensor: Tensor): string {
    const n = this.fresh(name);
    tensor.name = n;
    this.initializers.set(n, tensor);
    return n;
  }
  constFloat(name: string, dims: number[], values: ArrayLike<number>): string {
    return this.addInitializer(name, Tensor.float32(name, dims, values));
  }
  constInt64(name: string, dims: number[], values: ArrayLike<number | bigint>): string {
    return this.addInitializer(name, Tensor.int64(name, dims, values));
  }

  /** Adds a node; returns its output tensor names. */
  node(opType: string, inputs: string[], opts: NodeOptions = {}): string[] {
    const name = this.freshNode(opts.name ?? `${opType}_${this.counter++}`);
    const outs = Array.isArray(opts.outputs)
      ? opts.outputs.map((o) => (this.used.has(o) ? this.fresh(o) : (this.used.add(o), o)))
      : Array.from({ length: opts.outputs ?? 1 }, (_, i) => this.fresh(i === 0 ? `${name}_out` : `${name}_out${i}`));
    this.nodes.push({ name, opType, domain: opts.domain ?? '', inputs, outputs: outs, attrs: opts.attrs ?? {} });
    return outs;
  }

  /** Adds a single-output node and returns that output. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, name?: string): string {
    return this.node(opType, inputs, { attrs, name })[0];
  }

  build(opts: { producerName?: string; producerVersion?: string; docString?: string } = {}): Model {
    const graph: Graph = {
      name: this.graphName,
      nodes: this.nodes,
      inputs: this.inputs,
      outputs: this.outputs,
      initializers: this.initializers,
      valueInfo: new Map(),
    };
    const model: Model = {
      irVersion: irVersionForOpset(this.opset),
      opsetImport: [{ domain: '', version: this.opset }],
      producerName: opts.producerName ?? 'fdk',
      producerVersion: opts.producerVersion ?? '',
      graph,
    };
    if (opts.docString) model.extra = { docString: opts.docString };
    return model;
  }
}
