import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOnnxEngine, type OnnxEngine } from './onnx-engine.js';
import type { GenerateRequest, GeneratedSample } from './types.js';
import type { ModelConfig } from '../model/config.js';

// The decode path over the GroupQueryAttention graph (generationFusedOps.gqa: the KV cache laid
// out per row, each row from slot 0 to its own length): the same samples as the standard graph's
// engine, with rows joining mid-decode (shorter and longer prompts), rows leaving, the cache
// growing past its first capacity, and against full-sequence scoring.
const model: ModelConfig = { vocabSize: 48, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, ropeTheta: 10000, maxPositions: 256, rmsNormEps: 1e-6, attentionBias: true, tieEmbeddings: false };
const prompt = (n: number, k: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => (i * 7 + k * 5 + 1) % 48);
const req = (key: string, n: number, len: number, maxNewTokens: number, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  sampleKey: key, promptTokens: prompt(len, key.length), numSamples: n, seed: 9,
  sampling: { temperature: 1, topP: 0.95, topK: 0, maxNewTokens, stopTokens: [] }, ...extra,
});

function assertSame(got: readonly GeneratedSample[], want: readonly GeneratedSample[], what: string): void {
  assert.deepEqual(got.map((s) => [...s.tokens]), want.map((s) => [...s.tokens]), `${what}: tokens`);
  let d = 0;
  got.forEach((s, i) => s.logprobs.forEach((lp, t) => (d = Math.max(d, Math.abs(lp - (want[i]?.logprobs[t] ?? NaN))))));
  assert.ok(d < 1e-4, `${what}: max |logprob diff| = ${d}`);
}

async function engines(fn: (gqa: OnnxEngine, std: OnnxEngine) => Promise<void>): Promise<void> {
  const gqa = await createOnnxEngine({ model, seed: 4, threads: 1, generationFusedOps: { rotary: true, gqa: true } });
  const std = await createOnnxEngine({ model, seed: 4, threads: 1 });
  try {
    // Larger weights so the samples depend on the attention (a wrong cache slot changes tokens).
    const w = std.exportWeights().map((t) => ({ ...t, data: t.name.includes('norm') ? t.data : t.data.map((x) => x * 10) }));
    await gqa.loadWeights(w);
    await std.loadWeights(w);
    await fn(gqa, std);
  } finally {
    await gqa.dispose();
    await std.dispose();
  }
}

test('GroupQueryAttention decode: rows joining mid-decode and leaving sample as with the standard graph', async () => {
  await engines(async (gqa, std) => {
    const A = req('a', 2, 3, 80);
    const B = req('bb', 2, 12, 40); // joins at A's 5th token with a longer prompt than A's slots
    const C = req('ccc', 1, 4, 60); // joins at A's 70th token
    const D = req('dddd', 3, 6, 20); // joins after A has left
    const want = new Map<string, GeneratedSample[]>();
    for (const r of [A, B, C, D]) want.set(r.sampleKey, await std.generate([r]));
    const dec = gqa.continuous(16);
    const pending: Array<Promise<[string, GeneratedSample[]]>> = [];
    const join = (r: GenerateRequest): void => void pending.push(dec.generate([r]).then((s) => [r.sampleKey, s]));
    const a = dec.generate([{
      ...A,
      onToken: (i, tokens) => {
        if (i !== 0) return;
        if (tokens.length === 5) join(B);
        if (tokens.length === 70) join({ ...C, onToken: (_, t) => { if (t.length === 25) join(D); } });
      },
    }]);
    const got = new Map<string, GeneratedSample[]>([['a', await a]]);
    while (pending.length < 3) await new Promise((r) => setTimeout(r, 5));
    for (const [k, s] of await Promise.all(pending)) got.set(k, s);
    for (const [k, s] of want) assertSame(got.get(k) ?? [], s, k);
    assert.equal(dec.stats.joinedMidDecode, 2 + 1 + 3);
    assert.equal(dec.stats.peakRows, 4);
  });
});

test('GroupQueryAttention decode: a padded batch of long generations matches the standard graph and full-sequence scoring', async () => {
  await engines(async (gqa, std) => {
    const reqs = [req('L0', 2, 3, 70), req('L1x', 2, 10, 110), req('L2xx', 2, 6, 100)];
    const out = await gqa.generate(reqs);
    assertSame(out, await std.generate(reqs), 'standard graph');
    assert.deepEqual(out.map((s) => s.tokens.length), [70, 70, 110, 110, 100, 100]);
    const scored = await gqa.score(out.map((s, i) => {
      const p = reqs[Math.floor(i / 2)]?.promptTokens ?? new Uint32Array();
      return { tokens: Uint32Array.from([...p, ...s.tokens]), scoreFrom: p.length };
    }));
    let d = 0;
    out.forEach((s, i) => s.logprobs.forEach((lp, t) => (d = Math.max(d, Math.abs(lp - (scored[i]?.logprobs[t] ?? NaN))))));
    assert.ok(d < 1e-4, `max |generate - score| = ${d}`);
  });
});

test('generationFusedOps: an unknown kernel is refused naming the field', async () => {
  await assert.rejects(createOnnxEngine({ model, generationFusedOps: { flash: true } as never }), /generationFusedOps\.flash/);
});
