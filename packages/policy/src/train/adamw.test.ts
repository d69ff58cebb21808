import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NamedTensor } from '../model/params.js';
import { randn } from '../onnx/gradcheck.js';
import { AdamW, decays } from './adamw.js';
import { DEFAULT_OPTIMIZER } from './optimizer-config.js';

const cfg = { ...DEFAULT_OPTIMIZER, weightDecay: 0.1 };

/** The textbook update in doubles, stored as float32 (the kernel computes in float32, so it matches to float32 rounding). */
function reference(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, step: number, lr: number, scale: number, decay: boolean): void {
  const bc1 = 1 - Math.pow(cfg.beta1, step);
  const bc2 = 1 - Math.pow(cfg.beta2, step);
  const d = decay ? 1 - lr * cfg.weightDecay : 1;
  for (let i = 0; i < w.length; i++) {
    const gi = (g[i] as number) * scale;
    const mi = cfg.beta1 * (m[i] as number) + (1 - cfg.beta1) * gi;
    const vi = cfg.beta2 * (v[i] as number) + (1 - cfg.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = (w[i] as number) * d - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + cfg.eps);
  }
}

test('AdamW in ONNX Runtime over flat slices matches the float64 reference to float32 rounding, with clipping scale and decay masks', async () => {
  // One tensor larger than a kernel slice and a sum-of-squares run, not a multiple of their row: every slicing path runs.
  const shapes: [string, number][] = [['a.weight', (1 << 22) + 37], ['a.norm.weight', 300], ['a.bias', 17]];
  const params: NamedTensor[] = shapes.map(([name, n], k) => ({ name, dtype: 'F32', shape: [n], data: Float32Array.from(randn(n, k + 1, 0.1)) }));
  const ref = params.map((p) => ({ w: Float32Array.from(p.data), m: new Float32Array(p.data.length), v: new Float32Array(p.data.length) }));
  const adam = new AdamW({ executionProvider: 'cpu', threads: 1 });
  try {
    for (let step = 1; step <= 3; step++) {
      const grads = new Map(params.map((p, k) => [p.name, Float32Array.from(randn(p.data.length, 10 * step + k, 0.01))]));
      let sq = 0;
      for (const g of grads.values()) for (const x of g) sq += x * x;
      const norm = await adam.globalNorm(grads);
      // float32 row sums added in float64 (see globalNorm).
      assert.ok(Math.abs(norm - Math.sqrt(sq)) <= 1e-6 * Math.sqrt(sq), `norm ${norm} vs ${Math.sqrt(sq)}`);
      const scale = 0.5 / (norm + 1e-6);
      await adam.update(params, grads, 1e-3, scale, cfg);
      params.forEach((p, k) => reference(ref[k]!.w, grads.get(p.name)!, ref[k]!.m, ref[k]!.v, step, 1e-3, scale, decays(p.name)));
    }
    params.forEach((p, k) => {
      let worst = 0;
      for (let i = 0; i < p.data.length; i++) worst = Math.max(worst, Math.abs((p.data[i] as number) - (ref[k]!.w[i] as number)) / Math.max(1e-3, Math.abs(ref[k]!.w[i] as number)));
      assert.ok(worst < 1e-6, `${p.name}: relative difference ${worst}`);
    });
  } finally {
    await adam.release();
  }
});

test('AdamW is bit-identical for 1 and 2 threads and run to run; lr 0 moves no weight and writes no NaN', async () => {
  const n = (1 << 18) + 5;
  const run = async (threads: number, lrs: number[]): Promise<{ w: Float32Array; m: Float32Array; v: Float32Array; norms: number[] }> => {
    const p: NamedTensor = { name: 'b.weight', dtype: 'F32', shape: [n], data: Float32Array.from(randn(n, 3, 0.1)) };
    const adam = new AdamW({ executionProvider: 'cpu', threads });
    const norms: number[] = [];
    try {
      for (const [k, lr] of lrs.entries()) {
        const grads = new Map([[p.name, Float32Array.from(randn(n, 20 + k, 0.01))]]);
        const norm = await adam.globalNorm(grads);
        norms.push(norm);
        await adam.update([p], grads, lr, 1 / (norm + 1e-6), cfg);
      }
      const [m, v] = adam.stateTensors().tensors;
      return { w: p.data, m: m!.data, v: v!.data, norms };
    } finally {
      await adam.release();
    }
  };
  const a = await run(1, [1e-3, 1e-3]);
  const b = await run(2, [1e-3, 1e-3]);
  assert.deepEqual(b.norms, a.norms);
  for (const k of ['w', 'm', 'v'] as const) assert.ok(Buffer.from(a[k].buffer, a[k].byteOffset, a[k].byteLength).equals(Buffer.from(b[k].buffer, b[k].byteOffset, b[k].byteLength)), `${k} differs between 1 and 2 threads`);
  const w0 = Float32Array.from(randn(n, 3, 0.1));
  const z = await run(2, [0]);
  assert.ok(Buffer.from(z.w.buffer, z.w.byteOffset, z.w.byteLength).equals(Buffer.from(w0.buffer)), 'lr 0 changed a weight');
  assert.ok(z.m.every(Number.isFinite) && z.v.every(Number.isFinite) && z.v.some((x) => x > 0), 'lr 0 still updates the moments');
});
