import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleToken } from './sampler.js';
import type { SamplingParams } from './sampler.js';

/** The definition: sort the whole vocabulary (probability desc, id asc), keep top-k / top-p, scan. */
function reference(logits: Float32Array, s: SamplingParams, u: number): number {
  const inv = 1 / s.temperature;
  const mx = Math.max(...logits.map((x) => x * inv));
  const e = Array.from(logits, (x) => Math.exp(x * inv - mx));
  const z = e.reduce((a, b) => a + b, 0);
  const p = e.map((x) => x / z);
  const order = p.map((_, i) => i).sort((a, b) => (p[b] as number) - (p[a] as number) || a - b);
  const k = s.topK > 0 ? Math.min(s.topK, p.length) : p.length;
  let kept = 0;
  let mass = 0;
  while (kept < k) {
    mass += p[order[kept] as number] as number;
    kept++;
    if (mass >= s.topP) break;
  }
  let acc = 0;
  for (let r = 0; r < kept; r++) {
    acc += (p[order[r] as number] as number) / mass;
    if (u < acc) return order[r] as number;
  }
  return order[kept - 1] as number;
}

test('top-k / top-p by partial selection draws exactly the token a full sort would', () => {
  let seed = 12345;
  const rnd = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const scratch = new Float64Array(5000);
  const order = new Int32Array(5000);
  let checked = 0;
  for (const V of [1, 2, 7, 33, 500, 5000]) {
    for (let trial = 0; trial < 40; trial++) {
      const peaked = trial % 3 === 0;
      // Quantised logits give many exact ties; peaked ones keep few tokens, flat ones most.
      const logits = Float32Array.from({ length: V }, () => (peaked ? Math.round(rnd() * 8) * 2 : Math.round(rnd() * 20) / 10));
      const s: SamplingParams = { temperature: 0.6 + rnd(), topP: [0.5, 0.9, 0.95, 1][trial % 4] as number, topK: [0, 1, 5, 50][(trial >> 2) % 4] as number, maxNewTokens: 1, stopTokens: [] };
      if (s.topK === 0 && s.topP === 1) s.topK = 3;
      for (let d = 0; d < 5; d++) {
        const u = rnd();
        assert.equal(sampleToken(logits, 0, V, s, u, scratch, order).token, reference(logits, s, u), `V=${V} trial=${trial} u=${u} ${JSON.stringify(s)}`);
        checked++;
      }
    }
  }
  assert.equal(checked, 6 * 40 * 5);
});
