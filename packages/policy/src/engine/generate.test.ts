import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOnnxEngine } from './onnx-engine.js';
import type { GenerateRequest } from './types.js';
import type { ModelConfig } from '../model/config.js';

const model: ModelConfig = { vocabSize: 48, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, ropeTheta: 10000, maxPositions: 128, rmsNormEps: 1e-6, attentionBias: true, tieEmbeddings: false };
const sampling = { temperature: 1, topP: 1, topK: 0, maxNewTokens: 12, stopTokens: [3] };
const prompt = (n: number, k: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => (i * 7 + k * 5 + 1) % 48);

test('generation with the KV cache matches full-sequence scoring (padded batch, different lengths)', async () => {
  // Larger init so the distribution is far from uniform and mistakes would show.
  const engine = await createOnnxEngine({ model, seed: 3, threads: 1 });
  try {
    const w = engine.exportWeights().map((t) => ({ ...t, data: t.name.includes('norm') ? t.data : t.data.map((x) => x * 20) }));
    await engine.loadWeights(w);
    const reqs: GenerateRequest[] = [1, 5, 9, 3].map((n, k) => ({ sampleKey: `t${k}`, promptTokens: prompt(n, k), numSamples: 2, sampling, seed: 11 }));
    const out = await engine.generate(reqs);
    assert.equal(out.length, 8);
    const scored = await engine.score(out.map((s) => {
      const p = reqs.find((r) => r.sampleKey === s.sampleKey)?.promptTokens ?? new Uint32Array();
      return { tokens: Uint32Array.from([...p, ...s.tokens]), scoreFrom: p.length };
    }));
    let maxDiff = 0;
    out.forEach((s, i) => {
      const sc = scored[i];
      assert.ok(sc);
      assert.equal(sc.logprobs.length, s.tokens.length);
      for (let t = 0; t < s.tokens.length; t++) {
        maxDiff = Math.max(maxDiff, Math.abs((sc.logprobs[t] ?? 0) - (s.logprobs[t] ?? 0)), Math.abs((sc.entropy[t] ?? 0) - (s.entropy[t] ?? 0)));
      }
      assert.ok(s.finishReason === 'stop' ? s.tokens[s.tokens.length - 1] === 3 : s.tokens.length === 12);
    });
    assert.ok(maxDiff < 1e-4, `max |generate - score| = ${maxDiff}`);
    const lens = new Set(out.map((s) => s.tokens.length));
    assert.ok(lens.size > 1 || out.some((s) => s.finishReason === 'length'));
  } finally {
    await engine.dispose();
  }
});

test('long generations: the cache grows past its first capacity and finished rows are compacted away', async () => {
  const engine = await createOnnxEngine({ model, seed: 8, threads: 1 });
  try {
    const reqs: GenerateRequest[] = [[3, 70], [10, 110], [6, 100]].map(([n, max], k) => ({ sampleKey: `L${k}`, promptTokens: prompt(n ?? 1, k), numSamples: 2, sampling: { ...sampling, maxNewTokens: max ?? 1, stopTokens: [] }, seed: 2 }));
    const out = await engine.generate(reqs);
    assert.deepEqual(out.map((s) => s.tokens.length), [70, 70, 110, 110, 100, 100]);
    assert.ok(out.every((s) => s.finishReason === 'length'));
    const scored = await engine.score(out.map((s, i) => {
      const p = reqs[Math.floor(i / 2)]?.promptTokens ?? new Uint32Array();
      return { tokens: Uint32Array.from([...p, ...s.tokens]), scoreFrom: p.length };
    }));
    let maxDiff = 0;
    out.forEach((s, i) => s.logprobs.forEach((lp, t) => (maxDiff = Math.max(maxDiff, Math.abs(lp - (scored[i]?.logprobs[t] ?? NaN))))));
    assert.ok(maxDiff < 1e-4, `max |generate - score| = ${maxDiff}`);
  } finally {
    await engine.dispose();
  }
});

test('samples depend only on (seed, sampleKey, sampleIndex), not on the batch around them', async () => {
  const engine = await createOnnxEngine({ model, seed: 5, threads: 1 });
  try {
    const target: GenerateRequest = { sampleKey: 'task-42', promptTokens: prompt(4, 2), numSamples: 3, sampling: { ...sampling, topP: 0.9, topK: 20, stopTokens: [] }, seed: 7 };
    const alone = await engine.generate([target]);
    const others: GenerateRequest[] = [0, 1, 2].map((k) => ({ sampleKey: `o${k}`, promptTokens: prompt(2 + 3 * k, k), numSamples: 2, sampling, seed: 7 }));
    const mixed = await engine.generate([others[0] as GenerateRequest, target, ...others.slice(1)]);
    const fromMixed = mixed.filter((s) => s.sampleKey === 'task-42');
    assert.deepEqual(fromMixed.map((s) => [...s.tokens]), alone.map((s) => [...s.tokens]));
    // Different samples of a group differ, and a different seed changes them.
    assert.notDeepEqual([...(alone[0]?.tokens ?? [])], [...(alone[1]?.tokens ?? [])]);
    const reseeded = await engine.generate([{ ...target, seed: 8 }]);
    assert.notDeepEqual(reseeded.map((s) => [...s.tokens]), alone.map((s) => [...s.tokens]));
  } finally {
    await engine.dispose();
  }
});

test('models too large to bake generate the same from weights fed as inputs', async () => {
  const baked = await createOnnxEngine({ model, seed: 6, threads: 1 });
  const fed = await createOnnxEngine({ model, seed: 6, threads: 1, bakeWeightsUpToBytes: 0 });
  try {
    const req: GenerateRequest[] = [{ sampleKey: 'b', promptTokens: prompt(5, 1), numSamples: 3, sampling, seed: 4 }];
    const a = await baked.generate(req);
    const b = await fed.generate(req);
    assert.deepEqual(b.map((s) => [...s.tokens]), a.map((s) => [...s.tokens]));
    a.forEach((s, i) => s.logprobs.forEach((lp, t) => assert.ok(Math.abs(lp - (b[i]?.logprobs[t] ?? NaN)) < 1e-4)));
  } finally {
    await baked.dispose();
    await fed.dispose();
  }
});

test('small batches decode on the single-threaded session and still match scoring', async () => {
  const engine = await createOnnxEngine({ model, seed: 9, threads: 2 });
  try {
    const req: GenerateRequest = { sampleKey: 's', promptTokens: prompt(6, 3), numSamples: 1, sampling: { ...sampling, maxNewTokens: 20, stopTokens: [] }, seed: 5 };
    const [a] = await engine.generate([req]);
    const [b] = await engine.generate([req, { ...req, sampleKey: 's2' }, { ...req, sampleKey: 's3' }]);
    assert.ok(a && b);
    assert.deepEqual([...b.tokens], [...a.tokens]);
    const [sc] = await engine.score([{ tokens: Uint32Array.from([...req.promptTokens, ...a.tokens]), scoreFrom: req.promptTokens.length }]);
    a.logprobs.forEach((lp, t) => assert.ok(Math.abs(lp - (sc?.logprobs[t] ?? NaN)) < 1e-4));
  } finally {
    await engine.dispose();
  }
});
