import { backprop } from './autodiff.js';
import ort from 'onnxruntime-node';
import { Ops } from './ops.js';
import type { Value } from './graph.js';
import { serializeModel } from './serialize.js';
import { createSession, f64, outF64 } from '../runtime/session.js';
import type { Feeds } from '../runtime/session.js';
import { seededNormal } from '@acereason/protocol';

export interface GradCheckInput {
  name: string;
  shape: number[];
  /** Values; random normal if omitted. */
  data?: Float64Array;
  /** Non-differentiable inputs (indices etc.) are fed as given and not checked. */
  fixed?: { type: 'int32' | 'int64'; data: Int32Array | BigInt64Array };
}

export interface GradCheckResult {
  maxAbsErr: number;
  maxRelErr: number;
  checked: number;
}

/** `n` seeded N(0, scale^2) values (protocol's seededNormal). */
export function randn(n: number, seed: number, scale = 1): Float64Array {
  const normal = seededNormal(seed, scale);
  return Float64Array.from({ length: n }, normal);
}

/**
 * Checks the autodiff gradient of `f` against central finite differences, in float64. The checked
 * scalar is sum(f(x) * R) with a fixed random R, so every output element matters.
 */
export async function gradCheck(
  f: (o: Ops, xs: Value[]) => Value,
  inputs: GradCheckInput[],
  opts: { eps?: number; seed?: number; maxPerInput?: number } = {},
): Promise<GradCheckResult> {
  const eps = opts.eps ?? 1e-5;
  const datas = inputs.map((i, k) => i.data ?? randn(i.shape.reduce((a, b) => a * b, 1), (opts.seed ?? 1) * 100 + k));
  const feeds = (override?: { k: number; data: Float64Array }): Feeds => {
    const out: Feeds = {};
    inputs.forEach((i, k) => {
      out[i.name] = i.fixed ? new ort.Tensor(i.fixed.type, i.fixed.data, i.shape) : f64(override?.k === k ? override.data : (datas[k] as Float64Array), i.shape);
    });
    return out;
  };
  const build = (withR: number[] | undefined): { bytes: Uint8Array } => {
    const o = new Ops('gradcheck', 'float64');
    const xs = inputs.map((i) => (i.fixed ? o.input(i.name, i.shape, i.fixed.type) : o.input(i.name, i.shape)));
    const y = f(o, xs);
    o.output(y, 'y');
    if (withR !== undefined) {
      const r = o.constTensor({ type: 'float64', dims: withR, data: randn(withR.reduce((a, b) => a * b, 1), 999) });
      const loss = o.reduceSum(o.mul(y, r), [...withR.keys()], false);
      o.output(loss, 'loss');
      const diff = xs.filter((_, i) => inputs[i]?.fixed === undefined);
      const grads = backprop(o, loss, diff);
      diff.forEach((x) => o.output(grads.get(x.name) as Value, `grad_${x.name}`));
    }
    return { bytes: serializeModel(o.g) };
  };
  const opt = { executionProvider: 'cpu' as const, threads: 1 };
  const probe = await createSession(build(undefined).bytes, opt);
  const yShape = [...((await probe.run(feeds())).y?.dims ?? [])];
  await probe.release();
  const session = await createSession(build(yShape).bytes, opt);
  try {
    const base = await session.run(feeds());
    let maxAbsErr = 0;
    let maxRelErr = 0;
    let checked = 0;
    for (let k = 0; k < inputs.length; k++) {
      const spec = inputs[k] as GradCheckInput;
      if (spec.fixed) continue;
      const g = outF64(base, `grad_${spec.name}`);
      const x0 = datas[k] as Float64Array;
      const stride = Math.max(1, Math.floor(x0.length / (opts.maxPerInput ?? 48)));
      for (let j = 0; j < x0.length; j += stride) {
        const xp = Float64Array.from(x0);
        xp[j] = (xp[j] ?? 0) + eps;
        const xm = Float64Array.from(x0);
        xm[j] = (xm[j] ?? 0) - eps;
        const lp = outF64(await session.run(feeds({ k, data: xp }), ['loss']), 'loss')[0] ?? NaN;
        const lm = outF64(await session.run(feeds({ k, data: xm }), ['loss']), 'loss')[0] ?? NaN;
        const fd = (lp - lm) / (2 * eps);
        const an = g[j] ?? NaN;
        const abs = Math.abs(fd - an);
        maxAbsErr = Math.max(maxAbsErr, Number.isNaN(abs) ? Infinity : abs);
        maxRelErr = Math.max(maxRelErr, Number.isNaN(abs) ? Infinity : abs / Math.max(1e-3, Math.abs(fd) + Math.abs(an)));
        checked++;
      }
    }
    return { maxAbsErr, maxRelErr, checked };
  } finally {
    await session.release();
  }
}
