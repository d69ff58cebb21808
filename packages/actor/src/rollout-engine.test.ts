import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, SCHEMA_VERSION, type RunSpec } from '@acereason/protocol';
import { DEMO_ALPHABET, DEMO_MODEL } from '@acereason/policy';
import { embeddedRolloutEngine } from './rollout-engine.js';

const spec = (extra: Partial<RunSpec>): RunSpec => ({ schema: SCHEMA_VERSION, kind: 'RunSpec', runId: 'r', id: 'spec', createdAtMs: 1, model: DEMO_MODEL, tokenizer: { kind: 'char', alphabet: DEMO_ALPHABET }, learnerAddress: '127.0.0.1:1', seed: 1, ...extra });

test('the run spec carries engine.generation_dtype to the actor: its embedded engine generates from float16 graphs; float32 without the field', async () => {
  const sampling = { temperature: 1, topP: 1, topK: 0, maxNewTokens: 6, stopTokens: [] };
  for (const [s, dtype] of [[spec({ generationDtype: 'float16' }), 'float16'], [spec({}), 'float32']] as const) {
    const received = codecs.RunSpec.decode(codecs.RunSpec.encode(s));
    const engine = await embeddedRolloutEngine(received, 'cpu', 1);
    try {
      assert.equal(engine.generationDtype, dtype);
      const [out] = await engine.generate([{ sampleKey: 'k', promptTokens: Uint32Array.from([1, 2, 3]), numSamples: 1, sampling, seed: 3 }]);
      assert.equal(out?.tokens.length, 6);
      assert.ok(out?.logprobs.every((x) => Number.isFinite(x) && x <= 0));
    } finally {
      await engine.dispose();
    }
  }
  assert.throws(() => codecs.RunSpec.decode(codecs.RunSpec.encode({ ...spec({}), generationDtype: 'bfloat16' as 'float16' })), /generationDtype/);
});
