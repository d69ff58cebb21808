import { Ops } from '../onnx/ops.js';
import { serializeModel } from '../onnx/serialize.js';

/**
 * AdamW over one flat slice of parameters, gradients and moments, in float64 arithmetic stored as
 * float32 (the same operations in the same order as the reference update, so results are
 * bit-identical to it). Outputs are fetched into the input buffers: the update is in place.
 *   g' = g * grad_scale; m' = b1 m + (1 - b1) g'; v' = b2 v + (1 - b2) g'^2
 *   w' = w * decay - lr (m' / bc1) / (sqrt(v' / bc2) + eps)
 */
export function buildAdamWGraph(): Uint8Array {
  const o = new Ops('adamw', 'float64');
  const f = (name: string): ReturnType<Ops['input']> => o.cast(o.input(name, ['n'], 'float32'), 'float64');
  const s = (name: string): ReturnType<Ops['input']> => o.input(name, []);
  const [w, g, m, v] = [f('w'), f('g'), f('m'), f('v')];
  const gs = o.mul(g, s('grad_scale'));
  const m1 = o.add(o.mul(s('beta1'), m), o.mul(s('one_minus_beta1'), gs));
  const v1 = o.add(o.mul(s('beta2'), v), o.mul(o.mul(s('one_minus_beta2'), gs), gs));
  const step = o.div(o.mul(s('lr'), o.div(m1, s('bc1'))), o.add(o.sqrt(o.div(v1, s('bc2'))), s('eps')));
  o.output(o.cast(o.sub(o.mul(w, s('decay')), step), 'float32'), 'w_out');
  o.output(o.cast(m1, 'float32'), 'm_out');
  o.output(o.cast(v1, 'float32'), 'v_out');
  return serializeModel(o.g);
}

/** Sum of squares of a float32 slice, accumulated in float64 (for the global gradient norm). */
export function buildSumSquaresGraph(): Uint8Array {
  const o = new Ops('sumsq', 'float64');
  const g = o.cast(o.input('g', ['n'], 'float32'), 'float64');
  o.output(o.reduceSum(o.mul(g, g), [0], false), 'sumsq');
  return serializeModel(o.g);
}
