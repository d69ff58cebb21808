import ort from 'onnxruntime-node';
import { AceReasonError, ErrorCodes, ValidationError } from '@acereason/protocol';
import type { ResolvedModelConfig } from '../model/config.js';
import type { NamedTensor } from '../model/params.js';
import { buildTrainingGraph, gradName } from '../graphs/compile.js';
import type { LossKind } from '../graphs/compile.js';
import { createSession, f32, outF32 } from '../runtime/session.js';
import type { Feeds, OrtSession, RuntimeOptions } from '../runtime/session.js';
import { packMicroBatches, sequenceFeeds } from '../engine/batching.js';
import type { TrainBatch, TrainStepResult, TrainSequence } from '../engine/types.js';
import { AdamW, globalNorm } from './adamw.js';
import { tokenWeights, validateLossConfig } from './loss-config.js';
import { learningRateAt } from './optimizer-config.js';
import type { OptimizerConfig } from './optimizer-config.js';

const scalar = (x: number): ort.Tensor => new ort.Tensor('float32', new Float32Array([x]), []);

export function paramFeeds(weights: readonly NamedTensor[]): Feeds {
  const f: Feeds = {};
  for (const w of weights) f[w.name] = f32(w.data, w.shape);
  return f;
}

/**
 * One optimizer update per `step` call: micro-batches run the training graph, their gradients
 * (already scaled by the batch-level aggregation weights) are summed, clipped by global norm and
 * applied by AdamW at the scheduled learning rate.
 */
export class Trainer {
  readonly adam = new AdamW();
  private readonly sessions = new Map<LossKind, Promise<OrtSession>>();

  constructor(
    private readonly c: ResolvedModelConfig,
    readonly cfg: OptimizerConfig,
    private readonly rt: RuntimeOptions,
    private readonly weights: () => readonly NamedTensor[],
    private readonly scoreOld: (seqs: readonly Uint32Array[], temperature: number) => Promise<Float32Array[]>,
  ) {}

  private session(kind: LossKind): Promise<OrtSession> {
    let s = this.sessions.get(kind);
    if (s === undefined) {
      s = createSession(buildTrainingGraph(this.c, kind).bytes, this.rt);
      this.sessions.set(kind, s);
    }
    return s;
  }

  async step(batch: TrainBatch): Promise<TrainStepResult> {
    const t0 = performance.now();
    const loss = batch.loss;
    validateLossConfig(loss);
    const seqs = batch.sequences;
    if (seqs.length === 0) throw new ValidationError('batch.sequences', 'must not be empty');
    seqs.forEach((s, i) => checkSequence(s, i, this.c));
    const temperature = loss.temperature ?? 1;
    const resp = seqs.map((s) => s.tokens.length - s.responseStart);
    const masks = seqs.map((s, i) => s.lossMask ?? new Float32Array(resp[i] ?? 0).fill(1));
    const weights = tokenWeights(masks, loss);
    // Missing behaviour logprobs mean "on-policy": use the current policy's (ratio exactly 1).
    let old: (Float32Array | undefined)[] = seqs.map((s) => s.oldLogprobs);
    if (loss.kind === 'pg' && old.some((o) => o === undefined)) {
      const scored = await this.scoreOld(seqs.map((s) => s.tokens), temperature);
      old = seqs.map((s, i) => s.oldLogprobs ?? (scored[i] as Float32Array).subarray(s.responseStart - 1));
    }
    const session = await this.session(loss.kind);
    const params = this.weights();
    const pf = paramFeeds(params);
    const grads = new Map<string, Float32Array>();
    let lossSum = 0;
    let entSum = 0;
    let clipped = 0;
    let tokens = 0;
    const groups = packMicroBatches(seqs.map((s) => s.tokens.length), this.cfg.microBatchTokens);
    for (const group of groups) {
      const { feeds, B, T } = sequenceFeeds(this.c, group.map((i) => seqs[i]?.tokens ?? new Uint32Array()));
      // Row-aligned per-position inputs: position t predicts token t+1.
      const w = new Float32Array(B * T);
      const adv = new Float32Array(B * T);
      const oldL = new Float32Array(B * T);
      const refL = new Float32Array(B * T);
      group.forEach((si, b) => {
        const s = seqs[si] as TrainSequence;
        const off = b * T + s.responseStart - 1;
        w.set(weights[si] as Float32Array, off);
        if (s.advantages) adv.set(s.advantages, off);
        const o = old[si];
        if (o) oldL.set(o, off);
        if (s.refLogprobs) refL.set(s.refLogprobs, off);
      });
      Object.assign(feeds, pf, { weight: f32(w, [B, T]), inv_temp: scalar(1 / temperature) });
      if (loss.kind === 'pg') {
        Object.assign(feeds, {
          advantages: f32(adv, [B, T]),
          old_logprobs: f32(oldL, [B, T]),
          ref_logprobs: f32(refL, [B, T]),
          eps_low: scalar(loss.epsLow),
          eps_high: scalar(loss.epsHigh),
          kl_coef: scalar(loss.klCoef ?? 0),
          ent_coef: scalar(loss.entropyCoef ?? 0),
        });
      }
      const out = await session.run(feeds);
      lossSum += outF32(out, 'loss')[0] ?? NaN;
      const lp = outF32(out, 'logprobs');
      const ent = outF32(out, 'entropy');
      for (let i = 0; i < B * T; i++) {
        if ((w[i] as number) === 0) continue;
        tokens++;
        entSum += ent[i] as number;
        if (loss.kind === 'pg') {
          const r = Math.exp((lp[i] as number) - (oldL[i] as number));
          const a = adv[i] as number;
          if ((a > 0 && r > 1 + loss.epsHigh) || (a < 0 && r < 1 - loss.epsLow)) clipped++;
        }
      }
      for (const p of params) {
        const g = outF32(out, gradName(p.name));
        const acc = grads.get(p.name);
        if (acc === undefined) grads.set(p.name, Float32Array.from(g));
        else for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (g[i] as number);
      }
    }
    const gradNorm = globalNorm(grads);
    // Never apply a NaN/Inf update: the weights and optimizer state stay as they were.
    if (!Number.isFinite(gradNorm) || !Number.isFinite(lossSum)) throw new AceReasonError(ErrorCodes.INTERNAL, `non-finite loss (${lossSum}) or gradient norm (${gradNorm}); update skipped`, { retryable: false });
    const scale = this.cfg.maxGradNorm > 0 && gradNorm > this.cfg.maxGradNorm ? this.cfg.maxGradNorm / (gradNorm + 1e-6) : 1;
    // A per-batch base rate (per-stage learning rates) keeps the schedule's shape.
    if (batch.learningRate !== undefined && !(batch.learningRate >= 0)) throw new ValidationError('batch.learningRate', `must be >= 0, got ${batch.learningRate}`);
    const lr = learningRateAt(batch.learningRate === undefined ? this.cfg : { ...this.cfg, learningRate: batch.learningRate }, this.adam.step);
    this.adam.update(params, grads, lr, scale, this.cfg);
    return {
      loss: lossSum,
      gradNorm,
      tokens,
      learningRate: lr,
      microBatches: groups.length,
      step: this.adam.step,
      entropy: tokens > 0 ? entSum / tokens : 0,
      clipFraction: tokens > 0 ? clipped / tokens : 0,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    this.sessions.clear();
  }
}

function checkSequence(s: TrainSequence, i: number, c: ResolvedModelConfig): void {
  const f = `batch.sequences[${i}]`;
  const n = s.tokens.length;
  if (n > c.maxPositions) throw new ValidationError(`${f}.tokens`, `longer than maxPositions (${c.maxPositions})`);
  if (!Number.isInteger(s.responseStart) || s.responseStart < 1 || s.responseStart > n) throw new ValidationError(`${f}.responseStart`, `must be in [1, ${n}]`);
  if (s.tokens.some((t) => t >= c.vocabSize)) throw new ValidationError(`${f}.tokens`, 'token id outside the vocabulary');
  const r = n - s.responseStart;
  for (const k of ['advantages', 'lossMask', 'oldLogprobs', 'refLogprobs'] as const) {
    const a = s[k];
    if (a !== undefined && a.length !== r) throw new ValidationError(`${f}.${k}`, `length ${a.length} != response length ${r}`);
  }
}
