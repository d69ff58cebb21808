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
  // One tensor larger than a kernel slice (4M elements), so slicing is exercised too.
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
      assert.ok(Math.abs(norm - Math.sqrt(sq)) <= 1e-12 * Math.sqrt(sq), `norm ${norm} vs ${Math.sqrt(sq)}`);
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
