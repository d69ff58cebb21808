import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntegrityError } from '@acereason/protocol';
import { createOnnxEngine } from './onnx-engine.js';
import { weightsSha256 } from '../weights/hash.js';
import type { ModelConfig } from '../model/config.js';
import type { RolloutEngine } from './types.js';

const model: ModelConfig = { vocabSize: 48, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, ropeTheta: 10000, maxPositions: 128, rmsNormEps: 1e-6, attentionBias: true, tieEmbeddings: false };

test('the embedded engine as a RolloutEngine: a version is held once its weights hash to its digest; a wrong digest changes nothing; after a train step none is held', async () => {
  const engine = await createOnnxEngine({ model, seed: 3, threads: 1 });
  const rollout: RolloutEngine = engine;
  try {
    assert.equal(rollout.heldVersion(), undefined, 'nothing is held before a version is loaded');
    const other = await createOnnxEngine({ model, seed: 9, threads: 1 });
    const tensors = other.exportWeights();
    await other.dispose();
    const sha = weightsSha256(tensors);
    assert.deepEqual(await rollout.loadVersion({ version: 4, weightsSha256: sha, tensors }), { version: 4, weightsSha256: sha });
    assert.deepEqual(rollout.heldVersion(), { version: 4, weightsSha256: sha });
    assert.equal(engine.weightsSha256(), sha);

    await assert.rejects(rollout.loadVersion({ version: 5, weightsSha256: 'ab'.repeat(32), tensors }), (e: unknown) => e instanceof IntegrityError && /version 5/.test(e.message));
    assert.deepEqual(rollout.heldVersion(), { version: 4, weightsSha256: sha }, 'a refused version changes nothing');
    assert.equal(engine.weightsSha256(), sha);

    await rollout.loadVersion({ version: 6, weightsSha256: sha, tensors });
    await engine.trainStep({
      sequences: [{ tokens: Uint32Array.from([1, 2, 3, 4, 5, 6]), responseStart: 3 }],
      loss: { kind: 'sft', aggregation: 'token-mean' },
    });
    assert.equal(rollout.heldVersion(), undefined, 'trained weights are no published version');
  } finally {
    await engine.dispose();
  }
});
