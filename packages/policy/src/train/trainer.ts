import { AceReasonError, ErrorCodes, ValidationError } from '@acereason/protocol';
import type { ResolvedModelConfig } from '../model/config.js';
import type { NamedTensor } from '../model/params.js';
import { f32 } from '../runtime/session.js';
import type { Feeds, RuntimeOptions } from '../runtime/session.js';
import type { TrainBatch, TrainStepResult, TrainSequence } from '../engine/types.js';
import { AdamW } from './adamw.js';
import { allocateFlat } from './flat.js';
import { DEFAULT_LONG_SEQUENCE, LayeredModel } from './layered-model.js';
import type { HeadLoss, LongSequenceOptions, StepProbe } from './layered-model.js';
import { packByTokens, packTokens } from './packing.js';
import { tokenWeights, validateLossConfig } from './loss-config.js';
import { learningRateAt } from './optimizer-config.js';
import type { OptimizerConfig } from './optimizer-config.js';

export function paramFeeds(weights: readonly NamedTensor[]): Feeds {
  const f: Feeds = {};
  for (const w of weights) f[w.name] = f32(w.data, w.shape);
  return f;
}

/**
 * One optimizer update per `step` call. Sequences are packed into micro-batches of at most
 * `microBatchTokens` tokens; each runs through the layered model (checkpointed layers, blockwise
 * attention, chunked LM head), adding its gradients (already scaled by the batch-level aggregation
 * weights) into flat gradient buffers; then the global norm, clipping and AdamW run in ONNX Runtime.
 */
export class Trainer {
  readonly adam: AdamW;
  private model: Promise<LayeredModel> | undefined;
  private grads: Map<string, Float32Array> | undefined;

  constructor(
    private readonly c: ResolvedModelConfig,
    readonly cfg: OptimizerConfig,
    private readonly rt: RuntimeOptions,
    private readonly weights: () => readonly NamedTensor[],
    private readonly long: LongSequenceOptions = DEFAULT_LONG_SEQUENCE,
  ) {
    this.adam = new AdamW(rt);
  }

  private layered(): Promise<LayeredModel> {
    this.model ??= LayeredModel.create(this.c, this.rt, this.long);
    return this.model;
  }

  /** Per-position logprob of the next token and entropy for each full sequence (length n - 1), packed into rows of `budget` tokens. */
  async score(seqs: readonly Uint32Array[], temperature: number, budget: number): Promise<{ logprobs: Float32Array; entropy: Float32Array }[]> {
    const model = await this.layered();
    const params = new Map(this.weights().map((t) => [t.name, t]));
    const out = new Array<{ logprobs: Float32Array; entropy: Float32Array }>(seqs.length);
    for (const group of packByTokens(seqs.map((s) => s.length), Math.max(budget, ...seqs.map((s) => s.length)), 'scoreBatchTokens')) {
      const tok = packTokens(group.map((i) => seqs[i] as Uint32Array));
      const r = await model.score(tok, params, 1 / temperature);
      group.forEach((si, k) => {
        const off = tok.offsets[k] as number;
        const n = Math.max(0, (seqs[si]?.length ?? 0) - 1);
        out[si] = { logprobs: r.logprobs.slice(off, off + n), entropy: r.entropy.slice(off, off + n) };
      });
    }
    return out;
  }

  private gradBuffers(params: readonly NamedTensor[]): Map<string, Float32Array> {
    // Written on every step, the first included: a fresh buffer's pages only become resident when
    // written, and the first step's peak memory should be every step's.
    this.grads ??= new Map(allocateFlat(params).map((t) => [t.name, t.data]));
    for (const g of this.grads.values()) g.fill(0);
    return this.grads;
  }

  /** One update; `probe` instruments (or, for measurement only, truncates) the layered model's step. */
  async step(batch: TrainBatch, probe: StepProbe = {}): Promise<TrainStepResult> {
    const t0 = performance.now();
    const loss = batch.loss;
    validateLossConfig(loss);
    const seqs = batch.sequences;
    if (seqs.length === 0) throw new ValidationError('batch.sequences', 'must not be empty');
    seqs.forEach((s, i) => checkSequence(s, i, this.c));
    if (batch.learningRate !== undefined && !(batch.learningRate >= 0)) throw new ValidationError('batch.learningRate', `must be >= 0, got ${batch.learningRate}`);
    // Refused before any work: a micro-batch must hold the longest sequence.
    const groups = packByTokens(seqs.map((s) => s.tokens.length), this.cfg.microBatchTokens);
    const temperature = loss.temperature ?? 1;
    const resp = seqs.map((s) => s.tokens.length - s.responseStart);
    const masks = seqs.map((s, i) => s.lossMask ?? new Float32Array(resp[i] ?? 0).fill(1));
    const weights = tokenWeights(masks, loss);
    // Missing behaviour logprobs mean "on-policy": use the current policy's (ratio exactly 1).
    let old: (Float32Array | undefined)[] = seqs.map((s) => s.oldLogprobs);
    if (loss.kind === 'pg' && old.some((o) => o === undefined)) {
      const scored = await this.score(seqs.map((s) => s.tokens), temperature, this.cfg.microBatchTokens);
      old = seqs.map((s, i) => s.oldLogprobs ?? (scored[i] as { logprobs: Float32Array }).logprobs.subarray(s.responseStart - 1));
    }
    const model = await this.layered();
    const params = this.weights();
    const byName = new Map(params.map((t) => [t.name, t]));
    const grads = this.gradBuffers(params);
    this.adam.prepare(params);
    let lossSum = 0;
    let entSum = 0;
    let clipped = 0;
    let tokens = 0;
    for (const group of groups) {
      const tok = packTokens(group.map((i) => (seqs[i] as TrainSequence).tokens));
      const T = tok.T;
      // Row-aligned per-position inputs: position t predicts token t+1.
      const head: HeadLoss = {
        kind: loss.kind,
        weight: new Float32Array(T),
        advantages: new Float32Array(T),
        oldLogprobs: new Float32Array(T),
        refLogprobs: new Float32Array(T),
        scalars: loss.kind === 'pg' ? { epsLow: loss.epsLow, epsHigh: loss.epsHigh, klCoef: loss.klCoef ?? 0, entCoef: loss.entropyCoef ?? 0 } : { epsLow: 0, epsHigh: 0, klCoef: 0, entCoef: 0 },
      };
      group.forEach((si, k) => {
        const s = seqs[si] as TrainSequence;
        const off = (tok.offsets[k] as number) + s.responseStart - 1;
        head.weight.set(weights[si] as Float32Array, off);
        if (s.advantages) head.advantages.set(s.advantages, off);
        const o = old[si];
        if (o) head.oldLogprobs.set(o, off);
        if (s.refLogprobs) head.refLogprobs.set(s.refLogprobs, off);
      });
      const out = await model.train(tok, byName, grads, head, 1 / temperature, probe);
      lossSum += out.loss;
      for (let i = 0; i < T; i++) {
        if ((head.weight[i] as number) === 0) continue;
        tokens++;
        entSum += out.entropy[i] as number;
        if (loss.kind === 'pg') {
          const r = Math.exp((out.logprobs[i] as number) - (head.oldLogprobs[i] as number));
          const a = head.advantages[i] as number;
          if ((a > 0 && r > 1 + loss.epsHigh) || (a < 0 && r < 1 - loss.epsLow)) clipped++;
        }
      }
    }
    const gradNorm = await this.adam.globalNorm(grads);
    // Never apply a NaN/Inf update: the weights and optimizer state stay as they were.
    if (!Number.isFinite(gradNorm) || !Number.isFinite(lossSum)) throw new AceReasonError(ErrorCodes.INTERNAL, `non-finite loss (${lossSum}) or gradient norm (${gradNorm}); update skipped`, { retryable: false });
    const scale = this.cfg.maxGradNorm > 0 && gradNorm > this.cfg.maxGradNorm ? this.cfg.maxGradNorm / (gradNorm + 1e-6) : 1;
    // A per-batch base rate (per-stage learning rates) keeps the schedule's shape.
    const lr = learningRateAt(batch.learningRate === undefined ? this.cfg : { ...this.cfg, learningRate: batch.learningRate }, this.adam.step);
    await this.adam.update(params, grads, lr, scale, this.cfg);
    probe.onPhase?.('adamw');
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
    if (this.model !== undefined) await (await this.model).release();
    this.model = undefined;
    await this.adam.release();
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
