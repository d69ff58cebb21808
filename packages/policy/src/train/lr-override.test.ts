import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import type { ModelConfig } from '../model/config.js';

const model: ModelConfig = { vocabSize: 16, hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, ropeTheta: 10000, maxPositions: 32, rmsNormEps: 1e-6, attentionBias: false, tieEmbeddings: false };

test('a per-batch learning rate replaces the base rate (0 leaves the weights untouched)', async () => {
  const engine = await createOnnxEngine({ model, seed: 3, threads: 1, optimizer: { learningRate: 1e-2, weightDecay: 0 } });
  try {
    const seq = { tokens: Uint32Array.from([1, 2, 3, 4, 5, 6]), responseStart: 3, advantages: Float32Array.from([1, -1, 1]) };
    const before = engine.weightsSha256();
    const r0 = await engine.trainStep({ sequences: [seq], loss: { kind: 'pg', epsLow: 0.2, epsHigh: 0.2, aggregation: 'token-mean' }, learningRate: 0 });
    assert.equal(r0.learningRate, 0);
    assert.equal(engine.weightsSha256(), before);
    const r1 = await engine.trainStep({ sequences: [seq], loss: { kind: 'pg', epsLow: 0.2, epsHigh: 0.2, aggregation: 'token-mean' } });
    assert.equal(r1.learningRate, 1e-2);
    assert.notEqual(engine.weightsSha256(), before);
  } finally {
    await engine.dispose();
  }
});
