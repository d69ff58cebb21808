import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import type { ModelConfig } from '../model/config.js';
import type { TrainSequence } from '../engine/types.js';

const model: ModelConfig = { vocabSize: 20, hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, ropeTheta: 10000, maxPositions: 32, rmsNormEps: 1e-6, attentionBias: true, tieEmbeddings: false };

test('the PG loss value matches a host computation (clipping both ways, k3 KL, entropy, Dr.GRPO constant)', async () => {
  const e = await createOnnxEngine({ model, seed: 3, threads: 1 });
  try {
    const w = e.exportWeights().map((t) => ({ ...t, data: t.name.includes('norm') ? t.data : t.data.map((x) => x * 30) }));
    await e.loadWeights(w);
    const seqs: TrainSequence[] = [
      { tokens: Uint32Array.from([1, 5, 7, 2, 9, 4]), responseStart: 2 },
      { tokens: Uint32Array.from([3, 8, 8, 1]), responseStart: 1 },
    ];
    const temp = 0.7;
    const scored = await e.score(seqs.map((s) => ({ tokens: s.tokens, scoreFrom: s.responseStart })), temp);
    const epsLow = 0.1;
    const epsHigh = 0.15;
    const klCoef = 0.3;
    const entropyCoef = 0.05;
    const C = 5;
    let expected = 0;
    seqs.forEach((s, i) => {
      const lp = scored[i]?.logprobs ?? new Float32Array();
      const ent = scored[i]?.entropy ?? new Float32Array();
      const n = lp.length;
      // Behaviour logprobs shifted so ratios fall below, inside and above the clip range.
      const shifts = [-0.3, 0.3, 0.02, -0.5, 0.4];
      s.oldLogprobs = lp.map((x, t) => x + (shifts[t % shifts.length] ?? 0));
      s.refLogprobs = lp.map((x, t) => x - 0.2 * ((t % 3) - 1));
      s.advantages = Float32Array.from({ length: n }, (_, t) => (t % 2 === 0 ? 1.5 : -0.8));
      s.lossMask = Float32Array.from({ length: n }, (_, t) => (i === 0 && t === 2 ? 0 : 1));
      for (let t = 0; t < n; t++) {
        const r = Math.exp((lp[t] ?? 0) - (s.oldLogprobs[t] ?? 0));
        const a = s.advantages[t] ?? 0;
        const pg = -Math.min(r * a, Math.min(Math.max(r, 1 - epsLow), 1 + epsHigh) * a);
        const d = (s.refLogprobs[t] ?? 0) - (lp[t] ?? 0);
        const k3 = Math.exp(d) - d - 1;
        expected += ((s.lossMask[t] ?? 0) / (C * seqs.length)) * (pg + klCoef * k3 - entropyCoef * (ent[t] ?? 0));
      }
    });
    const r = await e.trainStep({ sequences: seqs, loss: { kind: 'pg', epsLow, epsHigh, klCoef, entropyCoef, aggregation: 'constant', constantNormalizer: C, temperature: temp } });
    assert.ok(Math.abs(r.loss - expected) < 1e-5 * Math.max(1, Math.abs(expected)), `${r.loss} vs ${expected}`);
    assert.ok(r.clipFraction > 0 && r.clipFraction < 1, `clip fraction ${r.clipFraction}`);
    assert.equal(r.tokens, 6);
  } finally {
    await e.dispose();
  }
});
