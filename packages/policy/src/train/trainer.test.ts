import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import type { TrainBatch, TrainSequence } from '../engine/types.js';
import type { ModelConfig } from '../model/config.js';
import { learningRateAt, DEFAULT_OPTIMIZER } from './optimizer-config.js';
import { tokenWeights } from './loss-config.js';

const model: ModelConfig = { vocabSize: 16, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, ropeTheta: 10000, maxPositions: 64, rmsNormEps: 1e-6, attentionBias: false, tieEmbeddings: true };

/** Toy task: after prompt [BOS, d], continue d+1, d+2, ... (mod 10) for 6 tokens. */
function toySequence(d: number): TrainSequence {
  const toks = [10, d];
  for (let i = 1; i <= 6; i++) toks.push((d + i) % 10);
  return { tokens: Uint32Array.from(toks), responseStart: 2 };
}

test('SFT drives the loss down on a toy task, and the trained model generates the answer', async () => {
  const engine = await createOnnxEngine({ model, seed: 1, threads: 1, optimizer: { learningRate: 3e-3, schedule: 'cosine', warmupSteps: 10, totalSteps: 200, weightDecay: 0, maxGradNorm: 1 } });
  try {
    const batch: TrainBatch = { sequences: [...Array(10).keys()].map(toySequence), loss: { kind: 'sft', aggregation: 'token-mean' } };
    const first = await engine.trainStep(batch);
    let last = first;
    for (let s = 1; s < 200; s++) last = await engine.trainStep(batch);
    assert.equal(last.step, 200);
    assert.equal(first.tokens, 60);
    assert.ok(first.loss > 1.5, `initial loss ${first.loss}`);
    assert.ok(last.loss < 0.05, `final loss ${last.loss}`);
    const out = await engine.generate([{ sampleKey: 'x', promptTokens: Uint32Array.from([10, 4]), numSamples: 1, seed: 1, sampling: { temperature: 0, topP: 1, topK: 0, maxNewTokens: 6, stopTokens: [] } }]);
    assert.deepEqual([...(out[0]?.tokens ?? [])], [5, 6, 7, 8, 9, 0]);
  } finally {
    await engine.dispose();
  }
});

function pgBatch(seed: number): TrainBatch {
  const sequences: TrainSequence[] = [];
  for (let i = 0; i < 6; i++) {
    const len = 4 + ((i * 3 + seed) % 7);
    const toks = Uint32Array.from({ length: len }, (_, k) => (k * 5 + i + seed) % 16);
    const r = len - 2;
    sequences.push({
      tokens: toks,
      responseStart: 2,
      advantages: new Float32Array(r).fill(i % 2 === 0 ? 1 : -0.7),
      oldLogprobs: Float32Array.from({ length: r }, (_, k) => -2.8 + 0.05 * k),
      lossMask: Float32Array.from({ length: r }, (_, k) => (k === 1 && i === 3 ? 0 : 1)),
    });
  }
  return { sequences, loss: { kind: 'pg', epsLow: 0.2, epsHigh: 0.28, aggregation: 'token-mean', klCoef: 0, entropyCoef: 0.001 } };
}

test('save -> load -> continue training is bit-identical to not stopping', async () => {
  const opt = { learningRate: 1e-3, schedule: 'linear-warmup' as const, warmupSteps: 3, microBatchTokens: 24 };
  const a = await createOnnxEngine({ model, seed: 2, threads: 1, optimizer: opt });
  try {
    for (let s = 0; s < 3; s++) await a.trainStep(pgBatch(s));
    const weights = a.exportSafetensors();
    const state = a.saveOptimizerState();
    const b = await createOnnxEngine({ model, weights, threads: 1, optimizer: opt });
    try {
      b.loadOptimizerState(state);
      assert.equal(b.weightsSha256(), a.weightsSha256());
      for (let s = 3; s < 6; s++) {
        const ra = await a.trainStep(pgBatch(s));
        const rb = await b.trainStep(pgBatch(s));
        assert.equal(ra.loss, rb.loss);
        assert.equal(ra.learningRate, rb.learningRate);
        assert.ok(ra.microBatches > 1);
      }
      assert.equal(b.weightsSha256(), a.weightsSha256());
      assert.deepEqual(Buffer.from(b.saveOptimizerState()), Buffer.from(a.saveOptimizerState()));
    } finally {
      await b.dispose();
    }
  } finally {
    await a.dispose();
  }
});

test('micro-batching accumulates to the same update as one big batch', async () => {
  const small = await createOnnxEngine({ model, seed: 4, threads: 1, optimizer: { microBatchTokens: 16, learningRate: 1e-3 } });
  const big = await createOnnxEngine({ model, seed: 4, threads: 1, optimizer: { microBatchTokens: 100000, learningRate: 1e-3 } });
  try {
    const rs = await small.trainStep(pgBatch(1));
    const rb = await big.trainStep(pgBatch(1));
    assert.ok(rs.microBatches >= 3 && rb.microBatches === 1);
    assert.ok(Math.abs(rs.loss - rb.loss) < 1e-5, `${rs.loss} vs ${rb.loss}`);
    assert.ok(Math.abs(rs.gradNorm - rb.gradNorm) / rb.gradNorm < 1e-4);
    const ws = small.exportWeights();
    const wb = big.exportWeights();
    let maxDiff = 0;
    ws.forEach((t, i) => t.data.forEach((x, j) => (maxDiff = Math.max(maxDiff, Math.abs(x - (wb[i]?.data[j] ?? 0))))));
    assert.ok(maxDiff < 1e-5, `weights differ by ${maxDiff}`);
  } finally {
    await small.dispose();
    await big.dispose();
  }
});

test('on-policy PG: without behaviour logprobs the ratio is 1 and the loss is -mean(A)', async () => {
  const e = await createOnnxEngine({ model, seed: 5, threads: 1 });
  try {
    const b = pgBatch(2);
    const seqs = b.sequences.map(({ tokens, responseStart, advantages }) => ({ tokens, responseStart, advantages }));
    const r = await e.trainStep({ sequences: seqs, loss: { kind: 'pg', epsLow: 0.2, epsHigh: 0.2, aggregation: 'seq-mean-token-mean' } });
    // Each sequence has constant advantage, so seq-mean-token-mean gives -mean over sequences of A.
    const expect = -seqs.reduce((s, q) => s + (q.advantages?.[0] ?? 0), 0) / seqs.length;
    assert.ok(Math.abs(r.loss - expect) < 1e-5, `${r.loss} vs ${expect}`);
    assert.equal(r.clipFraction, 0);
  } finally {
    await e.dispose();
  }
});

test('aggregation weights and learning-rate schedules', () => {
  const m = [Float32Array.from([1, 1, 0]), Float32Array.from([1])];
  assert.deepEqual([...(tokenWeights(m, { kind: 'sft', aggregation: 'token-mean' })[0] ?? [])], [1 / 3, 1 / 3, 0].map(Math.fround));
  assert.deepEqual([...(tokenWeights(m, { kind: 'sft', aggregation: 'seq-mean-token-mean' })[1] ?? [])], [0.5]);
  assert.deepEqual([...(tokenWeights(m, { kind: 'sft', aggregation: 'constant', constantNormalizer: 4 })[1] ?? [])], [0.125]);
  const cos = { ...DEFAULT_OPTIMIZER, learningRate: 1, schedule: 'cosine' as const, warmupSteps: 2, totalSteps: 12, minLrRatio: 0.1 };
  assert.equal(learningRateAt(cos, 0), 0.5);
  assert.equal(learningRateAt(cos, 2), 1);
  assert.ok(Math.abs(learningRateAt(cos, 7) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRateAt(cos, 12) - 0.1) < 1e-12);
  assert.equal(learningRateAt({ ...cos, schedule: 'constant' }, 0), 1);
});
