import { Graph } from './graph.js';
import type { ConstTensor, Dim, ElemType, Value } from './graph.js';

export type FloatType = 'float32' | 'float64';

/** Right-aligned broadcast of two shapes; equal symbols match, 1 broadcasts. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === 1) out.push(db);
    else if (db === 1 || da === db) out.push(da);
    // Two different symbols must agree at run time (ONNX checks); keep the first.
    else if (typeof da === 'string' || typeof db === 'string') out.push(typeof da === 'string' ? db : da);
    else throw new Error(`cannot broadcast [${a.join(',')}] with [${b.join(',')}]`);
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/**
 * Typed helpers over a `Graph`: each emits one ONNX node and infers the output shape. `ft` is the
 * floating type of the graph (float64 is used by the gradient checks).
 */
export class Ops {
  readonly g: Graph;
  constructor(name: string, readonly ft: FloatType = 'float32') {
    this.g = new Graph(name);
  }

  private one(op: string, inputs: (Value | undefined)[], type: ElemType, shape: readonly Dim[], attrs: Record<string, import('./graph.js').AttrValue> = {}, domain = ''): Value {
    const [v] = this.g.addNode(op, inputs, [{ type, shape }], attrs, domain);
    if (v === undefined) throw new Error('unreachable');
    return v;
  }

  input(name: string, shape: readonly Dim[], type: ElemType = this.ft): Value {
    return this.g.addInput(name, type, shape);
  }

  output(v: Value, name: string): Value {
    return this.g.markOutput(v, name);
  }

  constTensor(t: ConstTensor, name?: string): Value {
    return this.g.addInitializer(name ?? this.g.fresh('const'), t);
  }

  /** A float scalar (or 1-D) constant in the graph's float type. */
  scalar(x: number): Value {
    const data = this.ft === 'float64' ? new Float64Array([x]) : new Float32Array([x]);
    return this.constTensor({ type: this.ft, dims: [], data });
  }

  ints(xs: readonly number[]): Value {
    return this.constTensor({ type: 'int64', dims: [xs.length], data: BigInt64Array.from(xs.map((x) => BigInt(x))) });
  }

  private binary(op: string, a: Value, b: Value, type: ElemType = a.type): Value {
    return this.one(op, [a, b], type, broadcastShapes(a.shape, b.shape));
  }
  add(a: Value, b: Value): Value { return this.binary('Add', a, b); }
  sub(a: Value, b: Value): Value { return this.binary('Sub', a, b); }
  mul(a: Value, b: Value): Value { return this.binary('Mul', a, b); }
  div(a: Value, b: Value): Value { return this.binary('Div', a, b); }
  min(a: Value, b: Value): Value { return this.binary('Min', a, b); }
  pow(a: Value, b: Value): Value { return this.binary('Pow', a, b); }
  max(a: Value, b: Value): Value { return this.binary('Max', a, b); }
  lessOrEqual(a: Value, b: Value): Value { return this.binary('LessOrEqual', a, b, 'bool'); }
  greaterOrEqual(a: Value, b: Value): Value { return this.binary('GreaterOrEqual', a, b, 'bool'); }
  and(a: Value, b: Value): Value { return this.binary('And', a, b, 'bool'); }

  private unary(op: string, x: Value, attrs: Record<string, import('./graph.js').AttrValue> = {}): Value {
    return this.one(op, [x], x.type, x.shape, attrs);
  }
  neg(x: Value): Value { return this.unary('Neg', x); }
  sqrt(x: Value): Value { return this.unary('Sqrt', x); }
  exp(x: Value): Value { return this.unary('Exp', x); }
  log(x: Value): Value { return this.unary('Log', x); }
  sigmoid(x: Value): Value { return this.unary('Sigmoid', x); }
  identity(x: Value): Value { return this.unary('Identity', x); }
  softmax(x: Value, axis = -1): Value { return this.unary('Softmax', x, { axis }); }
  logSoftmax(x: Value, axis = -1): Value { return this.unary('LogSoftmax', x, { axis }); }

  cast(x: Value, to: ElemType): Value {
    const code: Record<ElemType, number> = { float32: 1, float64: 11, int32: 6, int64: 7, bool: 9 };
    return this.one('Cast', [x], to, x.shape, { to: code[to] });
  }

  where(c: Value, a: Value, b: Value): Value {
    return this.one('Where', [c, a, b], a.type, broadcastShapes(c.shape, broadcastShapes(a.shape, b.shape)));
  }

  clip(x: Value, lo: Value, hi: Value): Value {
    return this.one('Clip', [x, lo, hi], x.type, x.shape);
  }

  matmul(a: Value, b: Value): Value {
    const ra = a.shape.length;
    const rb = b.shape.length;
    if (ra < 2 || rb < 2) throw new Error('matmul needs rank >= 2');
    const batch = broadcastShapes(a.shape.slice(0, ra - 2), b.shape.slice(0, rb - 2));
    return this.one('MatMul', [a, b], a.type, [...batch, a.shape[ra - 2] ?? 1, b.shape[rb - 1] ?? 1]);
  }

  transpose(x: Value, perm: readonly number[]): Value {
    return this.one('Transpose', [x], x.type, perm.map((p) => x.shape[p] ?? 1), { perm });
  }

  /** Reshape to `dims` (ONNX semantics: 0 copies the input dim, -1 infers); `shape` is the symbolic result. */
  reshape(x: Value, dims: readonly number[], shape: readonly Dim[]): Value {
    return this.one('Reshape', [x, this.ints(dims)], x.type, shape);
  }

  reshapeLike(x: Value, like: Value): Value {
    return this.one('Reshape', [x, this.shapeOf(like)], x.type, like.shape);
  }

  shapeOf(x: Value): Value {
    return this.one('Shape', [x], 'int64', [x.shape.length]);
  }

  reduceSum(x: Value, axes: readonly number[], keepdims: boolean): Value {
    const r = x.shape.length;
    const ax = new Set(axes.map((a) => normAxis(a, r)));
    const shape = keepdims ? x.shape.map((d, i) => (ax.has(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.has(i));
    return this.one('ReduceSum', [x, this.ints([...ax])], x.type, shape, { keepdims: keepdims ? 1 : 0 });
  }

  /** ReduceMean with the axes attribute (opset 17). */
  reduceMean(x: Value, axes: readonly number[], keepdims: boolean): Value {
    const r = x.shape.length;
    const ax = [...new Set(axes.map((a) => normAxis(a, r)))];
    const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
    return this.one('ReduceMean', [x], x.type, shape, { axes: ax, keepdims: keepdims ? 1 : 0 });
  }

  /** ReduceMax with the axes attribute (opset 17); no gradient rule (used where the max is a stabiliser only). */
  reduceMax(x: Value, axes: readonly number[], keepdims: boolean): Value {
    const r = x.shape.length;
    const ax = [...new Set(axes.map((a) => normAxis(a, r)))];
    const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
    return this.one('ReduceMax', [x], x.type, shape, { axes: ax, keepdims: keepdims ? 1 : 0 });
  }

  expandLike(x: Value, like: Value): Value {
    return this.one('Expand', [x, this.shapeOf(like)], x.type, like.shape);
  }

  unsqueeze(x: Value, axes: readonly number[]): Value {
    const r = x.shape.length + axes.length;
    const ax = new Set(axes.map((a) => normAxis(a, r)));
    const shape: Dim[] = [];
    let k = 0;
    for (let i = 0; i < r; i++) shape.push(ax.has(i) ? 1 : (x.shape[k++] ?? 1));
    return this.one('Unsqueeze', [x, this.ints([...ax])], x.type, shape);
  }

  /** Zeros with the shape of `like` (float type of the graph). */
  zerosLike(like: Value): Value {
    const data = this.ft === 'float64' ? new Float64Array([0]) : new Float32Array([0]);
    return this.one('ConstantOfShape', [this.shapeOf(like)], this.ft, like.shape, { value: { tensor: { type: this.ft, dims: [1], data } } });
  }

  concat(xs: readonly Value[], axis: number): Value {
    const first = xs[0];
    if (first === undefined) throw new Error('concat of nothing');
    const a = normAxis(axis, first.shape.length);
    const sizes = xs.map((x) => x.shape[a]);
    const total: Dim = sizes.every((s): s is number => typeof s === 'number') ? sizes.reduce((p, c) => p + c, 0) : this.g.fresh('cat');
    return this.one('Concat', [...xs], first.type, first.shape.map((d, i) => (i === a ? total : d)), { axis: a });
  }

  split(x: Value, axis: number, sizes: readonly number[]): Value[] {
    const a = normAxis(axis, x.shape.length);
    return this.g.addNode(
      'Split',
      [x, this.ints(sizes)],
      sizes.map((s) => ({ type: x.type, shape: x.shape.map((d, i) => (i === a ? s : d)) })),
      { axis: a },
    );
  }

  /** Split with run-time sizes (an int64 [n] input); no gradient (generation graphs only). */
  splitDynamic(x: Value, axis: number, sizes: Value, n: number): Value[] {
    const a = normAxis(axis, x.shape.length);
    return this.g.addNode('Split', [x, sizes], [...Array(n).keys()].map((i) => ({ type: x.type, shape: x.shape.map((d, k) => (k === a ? `${this.g.fresh('part')}_${i}` : d)) })), { axis: a });
  }

  gather(data: Value, idx: Value, axis = 0): Value {
    const a = normAxis(axis, data.shape.length);
    return this.one('Gather', [data, idx], data.type, [...data.shape.slice(0, a), ...idx.shape, ...data.shape.slice(a + 1)], { axis: a });
  }

  gatherElements(data: Value, idx: Value, axis: number): Value {
    return this.one('GatherElements', [data, idx], data.type, idx.shape, { axis: normAxis(axis, data.shape.length) });
  }

  scatterNDAdd(data: Value, idx: Value, updates: Value): Value {
    return this.one('ScatterND', [data, idx, updates], data.type, data.shape, { reduction: 'add' });
  }

  scatterElementsAdd(data: Value, idx: Value, updates: Value, axis: number): Value {
    return this.one('ScatterElements', [data, idx, updates], data.type, data.shape, { axis: normAxis(axis, data.shape.length), reduction: 'add' });
  }

  /** Generic escape hatch for ops without a helper (e.g. com.microsoft fused ops). */
  raw(op: string, inputs: (Value | undefined)[], outs: ({ type: ElemType; shape: readonly Dim[] } | null)[], attrs: Record<string, import('./graph.js').AttrValue> = {}, domain = ''): Value[] {
    return this.g.addNode(op, inputs, outs, attrs, domain);
  }
}
