import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockAttention } from './flash.js';
import type { AttentionTensors, PackedRow } from './flash.js';
import { randn } from '../onnx/gradcheck.js';

const KV = 2;
const g = 2;
const hd = 4;
const rt = { executionProvider: 'cpu' as const, threads: 1 };

/** Two sequences packed in one row of 13 tokens: [0, 8) and [8, 13). */
function row(): PackedRow {
  const segStart = Int32Array.from({ length: 13 }, (_, t) => (t < 8 ? 0 : 8));
  return { T: 13, segStart };
}

function tensors(T: number, seed: number): AttentionTensors {
  return { q: randn(KV * g * T * hd, seed), k: randn(KV * T * hd, seed + 1), v: randn(KV * T * hd, seed + 2) };
}

/** Plain softmax attention over each token's visible keys, in float64. */
function naive(x: AttentionTensors, r: PackedRow): { o: Float64Array; lse: Float64Array } {
  const T = r.T;
  const o = new Float64Array(KV * g * T * hd);
  const lse = new Float64Array(KV * g * T);
  for (let kv = 0; kv < KV; kv++) {
    for (let gi = 0; gi < g; gi++) {
      const p = kv * g + gi;
      for (let t = 0; t < T; t++) {
        const lo = r.segStart[t] ?? 0;
        const s: number[] = [];
        for (let u = lo; u <= t; u++) {
          let d = 0;
          for (let e = 0; e < hd; e++) d += (x.q[(p * T + t) * hd + e] as number) * (x.k[(kv * T + u) * hd + e] as number);
          s.push(d);
        }
        const m = Math.max(...s);
        const z = s.reduce((acc, v) => acc + Math.exp(v - m), 0);
        lse[p * T + t] = m + Math.log(z);
        s.forEach((v, i) => {
          for (let e = 0; e < hd; e++) o[(p * T + t) * hd + e] = (o[(p * T + t) * hd + e] as number) + (Math.exp(v - m) / z) * (x.v[(kv * T + lo + i) * hd + e] as number);
        });
      }
    }
  }
  return { o, lse };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
};

test('blockwise attention forward equals softmax attention for packed sequences, for any block sizes', async () => {
  const r = row();
  const x = tensors(r.T, 3);
  const ref = naive(x, r);
  for (const blocks of [{ query: 4, key: 5 }, { query: 13, key: 13 }, { query: 1, key: 3 }, { query: 6, key: 2 }]) {
    const att = await BlockAttention.create({ kvHeads: KV, group: g, headDim: hd }, 'float64', rt, blocks);
    try {
      const out = await att.forward(x, r);
      assert.ok(maxDiff(out.o, ref.o) < 1e-12, `o differs for blocks ${JSON.stringify(blocks)}: ${maxDiff(out.o, ref.o)}`);
      assert.ok(maxDiff(out.lse, ref.lse) < 1e-12, `lse differs for blocks ${JSON.stringify(blocks)}`);
    } finally {
      await att.release();
    }
  }
});

test('blockwise attention backward matches central finite differences of the blockwise forward', async () => {
  const r = row();
  const x = tensors(r.T, 7);
  const R = randn(KV * g * r.T * hd, 11);
  const att = await BlockAttention.create({ kvHeads: KV, group: g, headDim: hd }, 'float64', rt, { query: 4, key: 3 });
  try {
    const f = async (y: AttentionTensors): Promise<number> => {
      const { o } = await att.forward(y, r);
      let s = 0;
      for (let i = 0; i < o.length; i++) s += (o[i] as number) * (R[i] as number);
      return s;
    };
    const fw = await att.forward(x, r);
    const grads = await att.backward(x, fw.o, fw.lse, R, r);
    const eps = 1e-5;
    let worst = 0;
    let checked = 0;
    for (const key of ['q', 'k', 'v'] as const) {
      const base = x[key];
      const stride = Math.max(1, Math.floor(base.length / 40));
      for (let j = 0; j < base.length; j += stride) {
        const plus = Float64Array.from(base);
        plus[j] = (plus[j] as number) + eps;
        const minus = Float64Array.from(base);
        minus[j] = (minus[j] as number) - eps;
        const fd = ((await f({ ...x, [key]: plus })) - (await f({ ...x, [key]: minus }))) / (2 * eps);
        const an = grads[key][j] as number;
        const rel = Math.abs(fd - an) / Math.max(1e-3, Math.abs(fd) + Math.abs(an));
        worst = Math.max(worst, rel);
        checked++;
      }
    }
    assert.ok(checked > 100);
    assert.ok(worst < 1e-6, `worst relative error ${worst}`);
  } finally {
    await att.release();
  }
});
