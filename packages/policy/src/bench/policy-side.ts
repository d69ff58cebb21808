/** Our side of `acereason bench policy`: the workload on the ONNX engine, one round at a time. */
import type { ResolvedModelConfig } from '../model/config.js';
import type { OnnxEngine } from '../engine/onnx-engine.js';
import type { TrainSequence } from '../engine/types.js';
import { buildLogitsGraph } from '../graphs/compile.js';
import { sequenceFeeds } from '../engine/batching.js';
import { paramFeeds } from '../train/trainer.js';
import { createSession, outF32 } from '../runtime/session.js';
import { ValidationError } from '@acereason/protocol';
import { ortMatmulSeconds, timed, type Timed } from './flops.js';

export interface Plan {
  decodeBatches: number[];
  prompt: number;
  newTokens: number;
  trainRows: number;
  trainLen: number;
}

/** The loss both sides train with: PPO-clip, token-mean over the response tokens. */
export const BENCH_LOSS = { kind: 'pg' as const, epsLow: 0.2, epsHigh: 0.28, aggregation: 'token-mean' as const };

/** Deterministic token ids (the same on both sides). */
export const benchPrompt = (n: number, seed: number, vocab: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + 7) % vocab);

export function trainBatch(c: ResolvedModelConfig, p: Plan): TrainSequence[] {
  return [...Array(p.trainRows).keys()].map((r) => ({
    tokens: benchPrompt(p.trainLen, r, c.vocabSize),
    responseStart: 1,
    advantages: Float32Array.from({ length: p.trainLen - 1 }, (_, i) => Math.sin(r + i)),
    oldLogprobs: new Float32Array(p.trainLen - 1).fill(-6),
  }));
}

/** The figures of one round, in the order they are measured; each is measured on both sides before the next. */
export const figureKeys = (p: Plan): string[] => [...p.decodeBatches.map((b) => `decode_b${b}`), 'train', 'matmul_1024'];

/** One measurement of one figure: its work (tokens, or GFLOP for the matmul) and its wall and CPU seconds. */
export interface Measurement extends Timed { work: number }

function decode(e: OnnxEngine, p: Plan, batch: number, newTokens: number): Promise<Measurement> {
  const sampling = { temperature: 1, topP: 1, topK: 0, maxNewTokens: newTokens, stopTokens: [] };
  let tokens = 0;
  return timed(async () => {
    const out = await e.generate([{ sampleKey: `bench-${batch}`, promptTokens: benchPrompt(p.prompt, 0, e.model.vocabSize), numSamples: batch, sampling, seed: 1 }]);
    tokens = out.reduce((s, o) => s + o.tokens.length, 0);
  }).then((t) => ({ ...t, work: tokens }));
}

/** Our side of the benchmark: one measurement of one figure at a time. */
export class OurSide {
  private readonly seqs: TrainSequence[];

  constructor(private readonly e: OnnxEngine, c: ResolvedModelConfig, private readonly p: Plan, private readonly threads: number) {
    this.seqs = trainBatch(c, p);
  }

  /**
   * Runs every measured shape once (each decode batch, a training step, the matmul session), so
   * that no round pays for kernel selection, arena growth or a cold page cache.
   */
  async warmUp(): Promise<void> {
    for (const b of this.p.decodeBatches) await decode(this.e, this.p, b, 4);
    await this.e.trainStep({ sequences: this.seqs, loss: BENCH_LOSS });
    await ortMatmulSeconds(1024, this.threads, 1);
  }

  /**
   * One measurement of `key`: decode at a batch size (prefill and sampling included), one
   * optimizer step of training, or ONNX Runtime's own 1024^3 MatMul (our roofline).
   */
  async measure(key: string): Promise<Measurement> {
    if (key === 'train') {
      const t = await timed(() => this.e.trainStep({ sequences: this.seqs, loss: BENCH_LOSS }));
      return { ...t, work: this.p.trainRows * this.p.trainLen };
    }
    if (key === 'matmul_1024') return { ...(await ortMatmulSeconds(1024, this.threads, 3)), work: (2 * 1024 ** 3) / 1e9 };
    const b = Number(key.replace(/^decode_b/, ''));
    if (!this.p.decodeBatches.includes(b)) throw new ValidationError('figure', `unknown policy bench figure ${key}`);
    return decode(this.e, this.p, b, this.p.newTokens);
  }
}

/** Full-sequence logits of `ids` with the engine's current weights (for parity). */
export async function ourLogits(e: OnnxEngine, ids: Uint32Array[], threads: number): Promise<Float32Array> {
  const s = await createSession(buildLogitsGraph(e.model), { executionProvider: 'cpu', threads });
  try {
    const { feeds } = sequenceFeeds(e.model, ids);
    delete feeds.targets;
    Object.assign(feeds, paramFeeds(e.exportWeights()));
    return outF32(await s.run(feeds), 'logits');
  } finally {
    await s.release();
  }
}
