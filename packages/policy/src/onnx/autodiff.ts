import type { GraphNode, Value } from './graph.js';
import type { Ops } from './ops.js';

/**
 * Reverse-mode automatic differentiation over the recorded ONNX graph: walks the nodes backwards
 * from a scalar loss and emits the gradient ops into the same graph, so one ONNX Runtime run gives
 * the forward pass, the loss and every requested gradient.
 */
export type GradRule = (o: Ops, node: GraphNode, gy: readonly (Value | undefined)[]) => (Value | undefined)[];

const isFloat = (v: Value | undefined): v is Value => v !== undefined && (v.type === 'float32' || v.type === 'float64');

/** Sums a broadcast gradient back to the shape of `target`. */
export function reduceTo(o: Ops, g: Value, target: Value): Value {
  const rg = g.shape.length;
  const rt = target.shape.length;
  const axes: number[] = [];
  for (let i = 0; i < rg; i++) {
    const ti = i - (rg - rt);
    if (ti < 0) axes.push(i);
    else if (target.shape[ti] === 1 && g.shape[i] !== 1) axes.push(i);
  }
  if (axes.length === 0) return g;
  const s = o.reduceSum(g, axes, true);
  return rg === rt ? s : o.reshapeLike(s, target);
}

function inp(node: GraphNode, i: number): Value {
  const v = node.inputs[i];
  if (v === undefined) throw new Error(`${node.op}: missing input ${i}`);
  return v;
}
function out(node: GraphNode, i = 0): Value {
  const v = node.outputs[i];
  if (v === undefined) throw new Error(`${node.op}: missing output ${i}`);
  return v;
}
function first(gy: readonly (Value | undefined)[]): Value {
  const g = gy[0];
  if (g === undefined) throw new Error('missing output gradient');
  return g;
}
function intsAttr(node: GraphNode, name: string): number[] {
  const a = node.attrs[name];
  if (!Array.isArray(a)) throw new Error(`${node.op}: attribute ${name} missing`);
  return [...(a as readonly number[])];
}
function intAttr(node: GraphNode, name: string, dflt: number): number {
  const a = node.attrs[name];
  return typeof a === 'number' ? a : dflt;
}
function swapLast2(o: Ops, x: Value): Value {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return o.transpose(x, perm);
}
/** Whether `v` is the output of a 2-D Transpose (perm [1, 0]) node. */
function isTransposed2d(o: Ops, v: Value): boolean {
  const n = o.g.nodes.find((x) => x.outputs[0]?.name === v.name);
  const perm = n?.attrs.perm;
  return n?.op === 'Transpose' && Array.isArray(perm) && perm.length === 2 && perm[0] === 1 && perm[1] === 0;
}
/** The constant integer values of an initializer (used for Split sizes and ReduceSum axes). */
function constInts(o: Ops, v: Value): number[] {
  const init = o.g.initializers.find((i) => i.value.name === v.name);
  if (init === undefined || !(init.tensor.data instanceof BigInt64Array)) throw new Error(`${v.name} is not a constant int64 tensor`);
  return [...init.tensor.data].map((x) => Number(x));
}

export const gradRules: Record<string, GradRule> = {
  Identity: (_o, _n, gy) => [first(gy)],
  Add: (o, n, gy) => [reduceTo(o, first(gy), inp(n, 0)), reduceTo(o, first(gy), inp(n, 1))],
  Sub: (o, n, gy) => [reduceTo(o, first(gy), inp(n, 0)), reduceTo(o, o.neg(first(gy)), inp(n, 1))],
  Mul: (o, n, gy) => {
    const g = first(gy);
    const [a, b] = [inp(n, 0), inp(n, 1)];
    return [reduceTo(o, o.mul(g, b), a), reduceTo(o, o.mul(g, a), b)];
  },
  Div: (o, n, gy) => {
    const g = first(gy);
    const [a, b] = [inp(n, 0), inp(n, 1)];
    const ga = o.div(g, b);
    return [reduceTo(o, ga, a), reduceTo(o, o.neg(o.mul(ga, out(n))), b)];
  },
  Neg: (o, _n, gy) => [o.neg(first(gy))],
  Sqrt: (o, n, gy) => [o.div(o.mul(first(gy), o.scalar(0.5)), out(n))],
  Pow: (o, n, gy) => {
    // d/dx x^e = e * x^(e-1); the exponent is treated as a constant.
    const [x, e] = [inp(n, 0), inp(n, 1)];
    return [reduceTo(o, o.mul(o.mul(first(gy), e), o.pow(x, o.sub(e, o.scalar(1)))), x), undefined];
  },
  ReduceMean: (o, n, gy) => {
    const x = inp(n, 0);
    const axes = intsAttr(n, 'axes');
    let count = 1;
    for (const a of axes) {
      const d = x.shape[a < 0 ? a + x.shape.length : a];
      if (typeof d !== 'number') throw new Error('ReduceMean gradient needs static reduced dims');
      count *= d;
    }
    let g = first(gy);
    if (intAttr(n, 'keepdims', 1) === 0) g = o.unsqueeze(g, axes);
    return [o.expandLike(o.mul(g, o.scalar(1 / count)), x)];
  },
  Exp: (o, n, gy) => [o.mul(first(gy), out(n))],
  Sigmoid: (o, n, gy) => {
    const y = out(n);
    return [o.mul(first(gy), o.mul(y, o.sub(o.scalar(1), y)))];
  },
  Softmax: (o, n, gy) => {
    const g = first(gy);
    const y = out(n);
    const axis = intAttr(n, 'axis', -1);
    return [o.mul(y, o.sub(g, o.reduceSum(o.mul(g, y), [axis], true)))];
  },
  LogSoftmax: (o, n, gy) => {
    const g = first(gy);
    const axis = intAttr(n, 'axis', -1);
    return [o.sub(g, o.mul(o.exp(out(n)), o.reduceSum(g, [axis], true)))];
  },
  MatMul: (o, n, gy) => {
    const g = first(gy);
    const [a, b] = [inp(n, 0), inp(n, 1)];
    const ga = reduceTo(o, o.matmul(g, swapLast2(o, b)), a);
    if (b.shape.length !== 2) return [ga, reduceTo(o, o.matmul(swapLast2(o, a), g), b)];
    const k = a.shape[a.shape.length - 1] ?? 1;
    const m = g.shape[g.shape.length - 1] ?? 1;
    const a2 = a.shape.length > 2 ? o.reshape(a, [-1, Number(k)], ['rows', k]) : a;
    const g2 = g.shape.length > 2 ? o.reshape(g, [-1, Number(m)], ['rows', m]) : g;
    // y = x W^T (b = Transpose(W)): the gradient is formed as g^T x in W's own layout, and the
    // Transpose rule's transpose of its transpose cancels in ONNX Runtime's optimizer, so no
    // transposed copy of a weight-sized gradient is materialised (the LM head's is [V, D]).
    const gb = isTransposed2d(o, b) ? o.transpose(o.matmul(o.transpose(g2, [1, 0]), a2), [1, 0]) : o.matmul(o.transpose(a2, [1, 0]), g2);
    return [ga, gb];
  },
  Transpose: (o, n, gy) => {
    const perm = intsAttr(n, 'perm');
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [o.transpose(first(gy), inv)];
  },
  Reshape: (o, n, gy) => [o.reshapeLike(first(gy), inp(n, 0)), undefined],
  Unsqueeze: (o, n, gy) => [o.reshapeLike(first(gy), inp(n, 0)), undefined],
  Expand: (o, n, gy) => [reduceTo(o, first(gy), inp(n, 0)), undefined],
  ReduceSum: (o, n, gy) => {
    const x = inp(n, 0);
    let g = first(gy);
    if (intAttr(n, 'keepdims', 1) === 0) g = o.unsqueeze(g, constInts(o, inp(n, 1)));
    return [o.expandLike(g, x), undefined];
  },
  Concat: (o, n, gy) => {
    const axis = intAttr(n, 'axis', 0);
    const sizes = n.inputs.map((v) => {
      const d = v?.shape[axis];
      if (typeof d !== 'number') throw new Error('Concat gradient needs static sizes on the concat axis');
      return d;
    });
    return o.split(first(gy), axis, sizes);
  },
  Split: (o, n, gy) => {
    const axis = intAttr(n, 'axis', 0);
    const parts = n.outputs.map((v, i) => gy[i] ?? o.zerosLike(v));
    return [o.concat(parts, axis), undefined];
  },
  Gather: (o, n, gy) => {
    const data = inp(n, 0);
    if (intAttr(n, 'axis', 0) !== 0 || data.shape.length !== 2) throw new Error('Gather gradient supports 2-D data on axis 0');
    const idx = o.unsqueeze(o.cast(inp(n, 1), 'int64'), [-1]);
    return [o.scatterNDAdd(o.zerosLike(data), idx, first(gy)), undefined];
  },
  GatherElements: (o, n, gy) => {
    const data = inp(n, 0);
    return [o.scatterElementsAdd(o.zerosLike(data), inp(n, 1), first(gy), intAttr(n, 'axis', 0)), undefined];
  },
  Clip: (o, n, gy) => {
    const [x, lo, hi] = [inp(n, 0), inp(n, 1), inp(n, 2)];
    const inside = o.cast(o.and(o.greaterOrEqual(x, lo), o.lessOrEqual(x, hi)), o.ft);
    return [o.mul(first(gy), inside), undefined, undefined];
  },
  Min: (o, n, gy) => {
    const [a, b] = [inp(n, 0), inp(n, 1)];
    const m = o.cast(o.lessOrEqual(a, b), o.ft);
    const g = first(gy);
    return [reduceTo(o, o.mul(g, m), a), reduceTo(o, o.mul(g, o.sub(o.scalar(1), m)), b)];
  },
  Max: (o, n, gy) => {
    const [a, b] = [inp(n, 0), inp(n, 1)];
    const m = o.cast(o.greaterOrEqual(a, b), o.ft);
    const g = first(gy);
    return [reduceTo(o, o.mul(g, m), a), reduceTo(o, o.mul(g, o.sub(o.scalar(1), m)), b)];
  },
  Where: (o, n, gy) => {
    const [c, a, b] = [inp(n, 0), inp(n, 1), inp(n, 2)];
    const g = first(gy);
    const z = o.scalar(0);
    return [undefined, reduceTo(o, o.where(c, g, z), a), reduceTo(o, o.where(c, z, g), b)];
  },
};

/**
 * Appends to the graph the gradient of scalar `loss` with respect to each value in `wrt`.
 * Values that do not influence the loss get an explicit zero gradient.
 */
export function backprop(o: Ops, loss: Value, wrt: readonly Value[]): Map<string, Value> {
  // Forward pass: which values depend on a `wrt` value (only those need gradients).
  const needs = new Set(wrt.map((v) => v.name));
  const nodes = [...o.g.nodes];
  for (const n of nodes) {
    if (n.inputs.some((v) => v !== undefined && needs.has(v.name))) for (const v of n.outputs) if (isFloat(v)) needs.add(v.name);
  }
  const grads = new Map<string, Value[]>();
  const total = (name: string): Value | undefined => {
    const parts = grads.get(name);
    if (parts === undefined || parts.length === 0) return undefined;
    let acc = parts[0] as Value;
    for (let i = 1; i < parts.length; i++) acc = o.add(acc, parts[i] as Value);
    grads.set(name, [acc]);
    return acc;
  };
  grads.set(loss.name, [o.constTensor({ type: o.ft, dims: [], data: o.ft === 'float64' ? new Float64Array([1]) : new Float32Array([1]) })]);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k] as GraphNode;
    if (!n.outputs.some((v) => needs.has(v.name))) continue;
    const gy = n.outputs.map((v) => total(v.name));
    if (gy.every((g) => g === undefined)) continue;
    const rule = gradRules[n.op];
    if (rule === undefined) throw new Error(`no gradient rule for ${n.op}`);
    const gx = rule(o, n, gy);
    n.inputs.forEach((v, i) => {
      const g = gx[i];
      if (v === undefined || g === undefined || !needs.has(v.name)) return;
      const list = grads.get(v.name) ?? [];
      list.push(g);
      grads.set(v.name, list);
    });
  }
  const result = new Map<string, Value>();
  for (const w of wrt) result.set(w.name, total(w.name) ?? o.zerosLike(w));
  return result;
}
