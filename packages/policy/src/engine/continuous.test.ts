import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOnnxEngine, type OnnxEngine } from './onnx-engine.js';
import type { GenerateRequest, GeneratedSample } from './types.js';
import type { ModelConfig } from '../model/config.js';

const model: ModelConfig = { vocabSize: 48, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, ropeTheta: 10000, maxPositions: 256, rmsNormEps: 1e-6, attentionBias: true, tieEmbeddings: false };
const prompt = (n: number, k: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => (i * 7 + k * 5 + 1) % 48);
const req = (key: string, n: number, len: number, maxNewTokens: number, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  sampleKey: key, promptTokens: prompt(len, key.length), numSamples: n, seed: 9,
  sampling: { temperature: 1, topP: 0.95, topK: 0, maxNewTokens, stopTokens: [] }, ...extra,
});

/** Same tokens; logprobs equal up to float rounding (batched matmuls sum in another order). */
function assertSame(got: GeneratedSample[], alone: GeneratedSample[], what: string): void {
  assert.deepEqual(got.map((s) => [...s.tokens]), alone.map((s) => [...s.tokens]), `${what}: tokens`);
  let d = 0;
  got.forEach((s, i) => s.logprobs.forEach((lp, t) => (d = Math.max(d, Math.abs(lp - (alone[i]?.logprobs[t] ?? NaN))))));
  assert.ok(d < 1e-4, `${what}: max |logprob - alone| = ${d}`);
}

async function withEngine(fn: (e: OnnxEngine) => Promise<void>): Promise<void> {
  const e = await createOnnxEngine({ model, seed: 4, threads: 1 });
  try {
    const w = e.exportWeights().map((t) => ({ ...t, data: t.name.includes('norm') ? t.data : t.data.map((x) => x * 10) }));
    await e.loadWeights(w);
    await fn(e);
  } finally {
    await e.dispose();
  }
}

test('rows join a decode batch mid-decode (shorter and longer prompts, after a compaction) and sample as if alone', async () => {
  await withEngine(async (engine) => {
    const A = req('a', 2, 3, 80);
    const B = req('bb', 2, 12, 40); // joins at A's 5th token: its prompt is longer than the slots used (a hole for A)
    const C = req('ccc', 1, 4, 60); // joins at A's 70th token
    const D = req('dddd', 3, 6, 20); // joins after A has left and the slots before C were dropped
    const alone = new Map<string, GeneratedSample[]>();
    for (const r of [A, B, C, D]) alone.set(r.sampleKey, await engine.generate([r]));
    const dec = engine.continuous(16);
    const pending: Array<Promise<[string, GeneratedSample[]]>> = [];
    const join = (r: GenerateRequest): void => void pending.push(dec.generate([r]).then((s) => [r.sampleKey, s]));
    let cJoined = false;
    const a = dec.generate([{
      ...A,
      onToken: (i, tokens) => {
        if (i !== 0) return;
        if (tokens.length === 5) join(B);
        if (tokens.length === 70) {
          join({ ...C, onToken: (_, t) => { if (t.length === 25) join(D); } });
          cJoined = true;
        }
      },
    }]);
    const got = new Map<string, GeneratedSample[]>([['a', await a]]);
    // D is joined from C's callback: wait for C before collecting everything.
    while (pending.length < 3) await new Promise((r) => setTimeout(r, 5));
    for (const [k, s] of await Promise.all(pending)) got.set(k, s);
    assert.ok(cJoined);
    for (const [k, s] of alone) assertSame(got.get(k) ?? [], s, k);
    assert.equal(dec.stats.joinedMidDecode, 2 + 1 + 3);
    assert.equal(dec.stats.peakRows, 4, "A and B, then C and D");
    // One batch throughout: C joins after step 69 (A's 70th token) and takes 59 more steps.
    assert.equal(dec.stats.steps, 69 + 59);
    assert.ok(dec.idle);
  });
});

test('at most maxRows rows decode at once; the others wait and start as rows leave', async () => {
  await withEngine(async (engine) => {
    const reqs = [req('x', 1, 5, 10), req('y', 1, 2, 30), req('z', 2, 7, 12)];
    const alone = await Promise.all(reqs.map((r) => engine.generate([r])));
    const dec = engine.continuous(2);
    const got = await Promise.all(reqs.map((r) => dec.generate([r])));
    got.forEach((g, i) => assertSame(g, alone[i] ?? [], reqs[i]?.sampleKey ?? ''));
    assert.equal(dec.stats.peakRows, 2);
    assert.ok(dec.stats.joinedMidDecode >= 1, 'z joined while y decoded');
  });
});

test('a call made as the one before resolves (the loop just ending) starts a new loop', async () => {
  await withEngine(async (engine) => {
    const dec = engine.continuous(4);
    const r = req('seq', 1, 3, 3);
    const first = await dec.generate([r]);
    for (let k = 0; k < 5; k++) assertSame(await dec.generate([r]), first, `call ${k}`);
    await new Promise((res) => setImmediate(res));
    assert.ok(dec.idle);
  });
});

test('a call whose callback throws fails alone; the calls decoding with it finish', async () => {
  await withEngine(async (engine) => {
    const ok = req('ok', 2, 4, 15);
    const alone = await engine.generate([ok]);
    const dec = engine.continuous(8);
    const boom = new Error('observer failed');
    const bad = dec.generate([req('bad', 3, 6, 15, { onToken: (_, t) => { if (t.length === 3) throw boom; } })]);
    const good = dec.generate([ok]);
    await assert.rejects(bad, (e) => e === boom);
    assertSame(await good, alone, 'ok');
    await assert.rejects(dec.generate([req('empty', 1, 0, 4)]), /promptTokens/);
  });
});
