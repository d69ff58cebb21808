import { Ops } from '../onnx/ops.js';
import { serializeModel } from '../onnx/serialize.js';
import type { Value } from '../onnx/graph.js';

/** Elements per row of the sum-of-squares graph: each row's partial sum is one float32 output. */
export const SUMSQ_ROW = 1024;

/**
 * AdamW over one flat slice of parameters, gradients and moments, in float32: 14 element-wise
 * kernels, no casts, no copies (the moments are graph outputs as computed; an Identity per output
 * was a pass each). The step's scalars are folded on the host (in float64, rounded once to float32):
 *   c1 = (1 - b1) s, c2 = (1 - b2) s^2 (s the clipping scale), a = lr / bc1, k = 1 / sqrt(bc2)
 *   m' = b1 m + c1 g; v' = b2 v + c2 g^2
 *   w' = w * decay - a * (m' / (sqrt(v') k + eps))
 * Outputs are fetched into the input buffers: the update is in place (every kernel reads its inputs
 * before the one writing the aliased output runs, as the graph's order forces).
 */
export function buildAdamWGraph(): Uint8Array {
  const o = new Ops('adamw', 'float32');
  const [w, g, m, v] = ['w', 'g', 'm', 'v'].map((n) => o.input(n, ['n'])) as [Value, Value, Value, Value];
  const s = (name: string): Value => o.input(name, []);
  const m1 = o.add(o.mul(m, s('beta1')), o.mul(g, s('c1')));
  const v1 = o.add(o.mul(v, s('beta2')), o.mul(o.mul(g, g), s('c2')));
  const denom = o.add(o.mul(o.sqrt(v1), s('inv_sqrt_bc2')), s('eps'));
  const w1 = o.sub(o.mul(w, s('decay')), o.mul(o.div(m1, denom), s('lr_over_bc1')));
  o.g.exposeOutput(w1, 'w_out');
  o.g.exposeOutput(m1, 'm_out');
  o.g.exposeOutput(v1, 'v_out');
  return serializeModel(o.g);
}

/**
 * Sums of squares of the rows of a float32 [rows, cols] block (one pass, no cast), one float32
 * partial per row; the host adds the partials in float64, in order, for the global gradient norm.
 */
export function buildSumSquaresGraph(): Uint8Array {
  const o = new Ops('sumsq', 'float32');
  const g = o.input('g', ['rows', 'cols']);
  const [r] = o.g.addNode('ReduceSumSquare', [g], [{ type: 'float32', shape: ['rows'] }], { axes: [1], keepdims: 0 });
  o.output(r as Value, 'sumsq');
  return serializeModel(o.g);
}
