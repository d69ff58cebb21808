/**
 * A small typed graph IR that is serialised to an ONNX ModelProto. Values carry an element type and
 * a (partly symbolic) shape, which the reverse-mode autodiff uses to undo broadcasting.
 */
export type ElemType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool';
/** A dimension: a known size or a symbolic name (batch, time, ...). */
export type Dim = number | string;

export interface Value {
  readonly name: string;
  readonly type: ElemType;
  readonly shape: readonly Dim[];
}

export type AttrValue = number | string | readonly number[] | { floatValue: number } | { tensor: ConstTensor };

export interface ConstTensor {
  type: ElemType;
  dims: readonly number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

export interface GraphNode {
  readonly op: string;
  readonly domain: string;
  readonly inputs: readonly (Value | undefined)[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export interface Initializer {
  readonly value: Value;
  readonly tensor: ConstTensor;
}

/** Records nodes in topological order (every node is appended after its inputs exist). */
export class Graph {
  readonly nodes: GraphNode[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers: Initializer[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  addInput(name: string, type: ElemType, shape: readonly Dim[]): Value {
    const v: Value = { name, type, shape };
    this.inputs.push(v);
    return v;
  }

  addInitializer(name: string, tensor: ConstTensor): Value {
    const v: Value = { name, type: tensor.type, shape: [...tensor.dims] };
    this.initializers.push({ value: v, tensor });
    return v;
  }

  addNode(
    op: string,
    inputs: readonly (Value | undefined)[],
    outs: readonly ({ type: ElemType; shape: readonly Dim[] } | null)[],
    attrs: Record<string, AttrValue> = {},
    domain = '',
  ): Value[] {
    // A null output is an omitted optional one (an empty name in the NodeProto).
    const outputs = outs.map((o) => (o === null ? { name: '', type: 'float32' as const, shape: [] } : { name: this.fresh(op), type: o.type, shape: o.shape }));
    this.nodes.push({ op, domain, inputs, outputs, attrs });
    return outputs;
  }

  /**
   * Makes the node output `v` itself a graph output called `name`, with no Identity copy in between
   * (markOutput's Identity is a pass over the data when `v` has other consumers). Every use of `v`
   * is renamed; graph inputs and initializers cannot be renamed this way.
   */
  exposeOutput(v: Value, name: string): Value {
    const renamed: Value = { name, type: v.type, shape: v.shape };
    const swap = (x: Value | undefined): Value | undefined => (x !== undefined && x.name === v.name ? renamed : x);
    let produced = false;
    for (let k = 0; k < this.nodes.length; k++) {
      const n = this.nodes[k] as GraphNode;
      if (n.outputs.some((o) => o.name === v.name)) produced = true;
      this.nodes[k] = { ...n, inputs: n.inputs.map(swap), outputs: n.outputs.map((o) => swap(o) as Value) };
    }
    if (!produced) throw new Error(`exposeOutput: ${v.name} is not a node output`);
    this.outputs.push(renamed);
    return renamed;
  }

  markOutput(v: Value, name: string): Value {
    const out = this.addNode('Identity', [v], [{ type: v.type, shape: v.shape }])[0];
    if (out === undefined) throw new Error('unreachable');
    // Rename the identity output to the public name.
    const node = this.nodes[this.nodes.length - 1];
    if (node === undefined) throw new Error('unreachable');
    const renamed: Value = { name, type: v.type, shape: v.shape };
    this.nodes[this.nodes.length - 1] = { ...node, outputs: [renamed] };
    this.outputs.push(renamed);
    return renamed;
  }
}
