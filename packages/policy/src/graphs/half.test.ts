import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import type { ModelConfig } from '../model/config.js';
import { toBfloat16Bits, toFloat16Bits } from './half.js';
import { generationDrift } from '../bench/dtype-drift.js';

const model: ModelConfig = { vocabSize: 48, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, ropeTheta: 10000, maxPositions: 128, rmsNormEps: 1e-6, attentionBias: true, tieEmbeddings: false };

test('float16 / bfloat16 bits: round to nearest even, overflow, subnormals, NaN', () => {
  const cases: [number, number][] = [[1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [2 ** -24, 0x0001], [2 ** -26, 0], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [Infinity, 0x7c00], [0.1, 0x2e66]];
  for (const [x, bits] of cases) assert.equal(toFloat16Bits(x), bits, `float16(${x})`);
  assert.equal(toFloat16Bits(NaN) & 0x7c00, 0x7c00);
  assert.notEqual(toFloat16Bits(NaN) & 0x3ff, 0);
  assert.equal(toBfloat16Bits(1), 0x3f80);
  assert.equal(toBfloat16Bits(1 + 2 ** -8), 0x3f80); // tie, even stays
  assert.equal(toBfloat16Bits(1 + 3 * 2 ** -8), 0x3f82); // tie, odd rounds up
  assert.equal(toBfloat16Bits(-0.1), 0xbdcd);
});

for (const bake of [true, false]) {
  test(`float16 generation copies (${bake ? 'baked' : 'fed'} weights): the fp32 learner scores their samples within half-precision drift`, async () => {
    const engine = await createOnnxEngine({ model, seed: 3, threads: 1, generationDtype: 'float16', ...(bake ? {} : { bakeWeightsUpToBytes: 0 }) });
    try {
      const w = engine.exportWeights().map((t) => ({ ...t, data: t.name.includes('norm') ? t.data : t.data.map((x) => x * 20) }));
      await engine.loadWeights(w);
      const d = await generationDrift(engine, { prompts: 4, samples: 2, newTokens: 12, seed: 5 });
      // float16 keeps ~3 decimal digits: a logprob of a peaked distribution moves by ~1e-3..1e-2; a bug (wrong cast, lost weights) moves it by O(1).
      assert.ok(d.tokens > 40, `${d.tokens} tokens`);
      assert.ok(d.max_abs > 0, 'float16 must differ from float32 at all');
      assert.ok(d.max_abs < 0.1 && d.mean_abs < 0.02, JSON.stringify(d));
    } finally {
      await engine.dispose();
    }
  });
}

test('bfloat16 generation graphs are refused on the CPU execution provider, naming the field', async () => {
  const engine = await createOnnxEngine({ model, seed: 3, threads: 1, generationDtype: 'bfloat16' });
  try {
    const req = { sampleKey: 'a', promptTokens: Uint32Array.from([1, 2, 3]), numSamples: 1, seed: 1, sampling: { temperature: 1, topP: 1, topK: 0, maxNewTokens: 4, stopTokens: [] } };
    await assert.rejects(engine.generate([req]), (e: unknown) => e instanceof AceReasonError && e.code === ErrorCodes.INVALID && /generationDtype/.test(e.message) && /bfloat16/.test(e.message));
  } finally {
    await engine.dispose();
  }
  await assert.rejects(createOnnxEngine({ model, seed: 3, generationDtype: 'int8' as never }), (e: unknown) => e instanceof AceReasonError && /generationDtype/.test(e.message));
});
