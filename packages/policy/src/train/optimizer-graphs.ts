import { Ops } from '../onnx/ops.js';
import { serializeModel } from '../onnx/serialize.js';
import type { Value } from '../onnx/graph.js';

/**
 * AdamW over one flat slice of parameters, gradients and moments, in float32 (13 element-wise
 * passes, no casts: a float64 version with casts took most of a 1-layer Qwen3-0.6B-shape step,
 * being memory-bound). Outputs are fetched into the input buffers: the update is in place.
 *   g' = g * grad_scale; m' = b1 m + (1 - b1) g'; v' = b2 v + (1 - b2) g'^2
 *   w' = w * decay - (lr / bc1) m' / (sqrt(v' / bc2) + eps)
 */
export function buildAdamWGraph(): Uint8Array {
  const o = new Ops('adamw', 'float32');
  const [w, g, m, v] = ['w', 'g', 'm', 'v'].map((n) => o.input(n, ['n'])) as [Value, Value, Value, Value];
  const s = (name: string): Value => o.input(name, []);
  const gs = o.mul(g, s('grad_scale'));
  const m1 = o.add(o.mul(m, s('beta1')), o.mul(gs, s('one_minus_beta1')));
  const v1 = o.add(o.mul(v, s('beta2')), o.mul(o.mul(gs, s('one_minus_beta2')), gs));
  const denom = o.add(o.sqrt(o.mul(v1, s('inv_bc2'))), s('eps'));
  o.output(o.sub(o.mul(w, s('decay')), o.div(o.mul(m1, s('lr_over_bc1')), denom)), 'w_out');
  o.output(m1, 'm_out');
  o.output(v1, 'v_out');
  return serializeModel(o.g);
}

/** Sum of squares of a float32 slice, accumulated in float64 (for the global gradient norm). */
export function buildSumSquaresGraph(): Uint8Array {
  const o = new Ops('sumsq', 'float64');
  const g = o.cast(o.input('g', ['n'], 'float32'), 'float64');
  o.output(o.reduceSum(o.mul(g, g), [0], false), 'sumsq');
  return serializeModel(o.g);
}
