import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { buildTrainingGraph, gradName } from '../graphs/compile.js';
import type { LossKind } from '../graphs/compile.js';
import { sequenceFeeds } from '../engine/batching.js';
import { validateModelConfig } from '../model/config.js';
import type { ResolvedModelConfig } from '../model/config.js';
import { initWeights } from '../model/params.js';
import type { NamedTensor } from '../model/params.js';
import { createSession, f32, outF32 } from '../runtime/session.js';
import { randn } from '../onnx/gradcheck.js';
import { paramFeeds } from './trainer.js';
import { HEAD_CHUNK_BYTES, LayeredModel, headChunkTokensFor } from './layered-model.js';
import type { HeadLoss } from './layered-model.js';
import { packTokens } from './packing.js';
import { AdamW } from './adamw.js';
import { tokenWeights } from './loss-config.js';
import { DEFAULT_OPTIMIZER } from './optimizer-config.js';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import type { TrainSequence } from '../engine/types.js';
import { ValidationError } from '@acereason/protocol';

const base = validateModelConfig({ vocabSize: 37, hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 4, numKvHeads: 2, ropeTheta: 100, maxPositions: 64, rmsNormEps: 1e-6, attentionBias: true, tieEmbeddings: false });
const tied = { ...base, tieEmbeddings: true, attentionBias: false };
const rt = { executionProvider: 'cpu' as const, threads: 1 };
const lengths = [9, 5, 7];
const scalars = { epsLow: 0.2, epsHigh: 0.28, klCoef: 0.1, entCoef: 0.05 };

function weights(c: ResolvedModelConfig): NamedTensor[] {
  return initWeights(c, 3).map((t) => ({ ...t, data: t.data.map((x, i) => x * 10 + (t.name.includes('norm') || t.name.endsWith('bias') ? 0.1 * Math.sin(i + 1) : 0)) }));
}

function sequences(c: ResolvedModelConfig): Uint32Array[] {
  return lengths.map((n, s) => Uint32Array.from({ length: n }, (_, i) => (i * 7 + s * 11 + 3) % c.vocabSize));
}

/** Per-token loss inputs for each sequence (position t predicts t+1; the first two positions are prompt). */
function perToken(n: number, s: number): { w: Float32Array; adv: Float32Array; old: Float32Array; ref: Float32Array } {
  const w = Float32Array.from({ length: n }, (_, t) => (t >= 2 && t < n - 1 ? 0.05 + 0.01 * t : 0));
  return { w, adv: Float32Array.from(randn(n, 20 + s)), old: Float32Array.from(randn(n, 30 + s, 0.3), (x) => x - 3.5), ref: Float32Array.from(randn(n, 40 + s, 0.3), (x) => x - 3.5) };
}

type PerToken = { w: Float32Array; adv: Float32Array; old: Float32Array; ref: Float32Array };

async function monolithic(c: ResolvedModelConfig, kind: LossKind, w: NamedTensor[], seqs: Uint32Array[], pts: (n: number, s: number) => PerToken = perToken, invTemp = 1 / 0.8): Promise<{ loss: number; logprobs: Float32Array[]; grads: Map<string, Float32Array> }> {
  const { bytes, paramNames } = buildTrainingGraph(c, kind);
  const s = await createSession(bytes, rt);
  try {
    const { feeds, B, T } = sequenceFeeds(c, seqs);
    const pt = { w: new Float32Array(B * T), adv: new Float32Array(B * T), old: new Float32Array(B * T), ref: new Float32Array(B * T) };
    seqs.forEach((q, b) => {
      const p = pts(q.length, b);
      for (const k of ['w', 'adv', 'old', 'ref'] as const) pt[k].set(p[k], b * T);
    });
    const sc = (x: number): ort.Tensor => f32(new Float32Array([x]), []);
    Object.assign(feeds, paramFeeds(w), { weight: f32(pt.w, [B, T]), inv_temp: sc(invTemp) });
    if (kind === 'pg') Object.assign(feeds, { advantages: f32(pt.adv, [B, T]), old_logprobs: f32(pt.old, [B, T]), ref_logprobs: f32(pt.ref, [B, T]), eps_low: sc(scalars.epsLow), eps_high: sc(scalars.epsHigh), kl_coef: sc(scalars.klCoef), ent_coef: sc(scalars.entCoef) });
    const r = await s.run(feeds);
    const lp = outF32(r, 'logprobs');
    return {
      loss: outF32(r, 'loss')[0] ?? NaN,
      logprobs: seqs.map((q, b) => lp.slice(b * T, b * T + q.length - 1)),
      grads: new Map(paramNames.map((n) => [n, outF32(r, gradName(n))])),
    };
  } finally {
    await s.release();
  }
}

/** max |a - b| over max |b|: float32 noise on near-zero elements does not dominate. */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
    m = Math.max(m, Math.abs(b[i] as number));
  }
  return d / Math.max(m, 1e-30);
}

async function compare(c: ResolvedModelConfig, kind: LossKind): Promise<void> {
  const w = weights(c);
  const seqs = sequences(c);
  const ref = await monolithic(c, kind, w, seqs);
  const tok = packTokens(seqs);
  const cat = (k: 'w' | 'adv' | 'old' | 'ref'): Float32Array => {
    const out = new Float32Array(tok.T);
    seqs.forEach((q, s) => out.set(perToken(q.length, s)[k], tok.offsets[s]));
    return out;
  };
  const loss: HeadLoss = { kind, weight: cat('w'), advantages: cat('adv'), oldLogprobs: cat('old'), refLogprobs: cat('ref'), scalars };
  const model = await LayeredModel.create(c, rt, { attentionBlocks: { query: 4, key: 3 }, headChunkTokens: 5 });
  try {
    const params = new Map(w.map((t) => [t.name, t]));
    const grads = new Map(w.map((t) => [t.name, new Float32Array(t.data.length)]));
    const r = await model.train(tok, params, grads, loss, 1 / 0.8);
    assert.ok(Math.abs(r.loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `${kind}: loss ${r.loss} vs ${ref.loss}`);
    const scored = await model.score(tok, params, 1 / 0.8);
    seqs.forEach((q, s) => {
      const off = tok.offsets[s] as number;
      for (const got of [r.logprobs, scored.logprobs]) assert.ok(relDiff(got.subarray(off, off + q.length - 1), ref.logprobs[s] as Float32Array) < 1e-5, `${kind}: logprobs of sequence ${s}`);
    });
    let worst = 0;
    for (const [name, g] of ref.grads) worst = Math.max(worst, relDiff(grads.get(name) as Float32Array, g));
    assert.ok(worst < 1e-4, `${kind}: worst gradient difference ${worst}`);
  } finally {
    await model.release();
  }
}

test('layered model (checkpointed layers, blockwise attention, chunked head) = the single training graph: PG loss, logprobs, every gradient', () => compare(base, 'pg'));
test('layered model = the single training graph: SFT with tied embeddings, no bias', () => compare(tied, 'sft'));

test('one RL step through the engine = the single training graph gradients + the same AdamW: loss, gradient norm, updated weights', async () => {
  const c = base;
  const w = weights(c);
  const seqs = sequences(c);
  // Behaviour logprobs near the policy's own (ratios near 1, some clipped), as in a real step.
  const current = await monolithic(c, 'pg', w, seqs);
  const near = (k: number): Float32Array[] => seqs.map((q, s) => Float32Array.from(current.logprobs[s] as Float32Array, (x, t) => x + 0.3 * Math.sin(k * t + s)));
  const old = near(3);
  const refLp = near(5);
  const sequences_: TrainSequence[] = seqs.map((tokens, s) => {
    const p = perToken(tokens.length, s);
    return { tokens, responseStart: 2, advantages: p.adv.slice(1, -1), oldLogprobs: (old[s] as Float32Array).slice(1), refLogprobs: (refLp[s] as Float32Array).slice(1) };
  });
  const loss = { kind: 'pg' as const, epsLow: 0.2, epsHigh: 0.28, klCoef: 0.1, entropyCoef: 0.05, aggregation: 'token-mean' as const, temperature: 0.8 };
  // eps 1e-4: Adam's first step is about lr * sign(g), which would turn float32 noise on the
  // near-zero gradients of either path into sign flips; a larger eps keeps the comparison meaningful.
  const optimizer = { learningRate: 1e-2, maxGradNorm: 0.5, weightDecay: 0.01, eps: 1e-4 };
  const tw = tokenWeights(sequences_.map((q) => new Float32Array(q.tokens.length - 2).fill(1)), loss);
  const ref = await monolithic(c, 'pg', w, seqs, (n, s) => {
    const p = perToken(n, s);
    const wt = new Float32Array(n);
    wt.set(tw[s] as Float32Array, 1);
    const o = new Float32Array(n);
    o.set(old[s] as Float32Array);
    const rl = new Float32Array(n);
    rl.set(refLp[s] as Float32Array);
    return { ...p, w: wt, old: o, ref: rl, adv: Float32Array.from(p.adv, (x, t) => (t >= 1 && t < n - 1 ? x : 0)) };
  });
  const engine = await createOnnxEngine({ model: c, weights: w, threads: 1, optimizer });
  const adam = new AdamW(rt);
  try {
    const r = await engine.trainStep({ sequences: sequences_, loss });
    assert.ok(Math.abs(r.loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `loss ${r.loss} vs ${ref.loss}`);
    const norm = await adam.globalNorm(ref.grads);
    assert.ok(Math.abs(r.gradNorm - norm) <= 1e-5 * norm, `grad norm ${r.gradNorm} vs ${norm}`);
    const expected = w.map((t) => ({ ...t, data: Float32Array.from(t.data) }));
    await adam.update(expected, ref.grads, r.learningRate, norm > 0.5 ? 0.5 / (norm + 1e-6) : 1, { ...DEFAULT_OPTIMIZER, ...optimizer });
    const got = new Map(engine.exportWeights().map((t) => [t.name, t.data]));
    let worst = 0;
    for (const t of expected) {
      const a = got.get(t.name) as Float32Array;
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs((a[i] as number) - (t.data[i] as number));
        if (process.env.RL_DEBUG && d > 1e-4) process.stderr.write(`${t.name}[${i}] got ${a[i]} want ${t.data[i]} g ${ref.grads.get(t.name)?.[i]}\n`);
        worst = Math.max(worst, d);
      }
    }
    // Allow 1% of a full step.
    assert.ok(worst <= 1e-2 * optimizer.learningRate, `updated weights differ by ${worst}`);
  } finally {
    await adam.release();
    await engine.dispose();
  }
});

test('bad input is refused naming the field before any work: a sequence beyond maxPositions, a micro-batch budget below one sequence', async () => {
  const engine = await createOnnxEngine({ model: base, threads: 1, optimizer: { microBatchTokens: 8 } });
  try {
    const seq = (n: number): TrainSequence => ({ tokens: new Uint32Array(n).fill(1), responseStart: 1, advantages: new Float32Array(n - 1) });
    const loss = { kind: 'pg' as const, epsLow: 0.2, epsHigh: 0.2, aggregation: 'token-mean' as const };
    await assert.rejects(engine.trainStep({ sequences: [seq(4), seq(65)], loss }), (e: unknown) => e instanceof ValidationError && e.message.startsWith('batch.sequences[1].tokens: longer than maxPositions (64)'));
    await assert.rejects(engine.trainStep({ sequences: [seq(4), seq(9)], loss }), (e: unknown) => e instanceof ValidationError && e.message.startsWith('optimizer.microBatchTokens: 8 is smaller than one sequence (9 tokens)'));
    assert.equal((await engine.trainStep({ sequences: [seq(8)], loss })).step, 1, 'nothing ran before: this is the first update');
  } finally {
    await engine.dispose();
  }
});

test('layered model = the single training graph: SFT with Qwen3 q/k norms and llama3 rope scaling', () =>
  compare(validateModelConfig({ ...base, attentionBias: false, qkNorm: true, ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 16 } }), 'sft'));

test('the default LM-head chunk is sized by a logits budget, not a token count', () => {
  assert.equal(headChunkTokensFor(151936), 220); // Qwen3: 128 MiB / (4 B x 151,936)
  assert.equal(headChunkTokensFor(4096), 8192); // small vocabularies are capped
  assert.equal(headChunkTokensFor(10_000_000), 16); // and huge ones floored
  for (const v of [32000, 128256, 151936]) assert.ok(4 * v * headChunkTokensFor(v) <= HEAD_CHUNK_BYTES);
});
