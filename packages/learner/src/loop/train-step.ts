/**
 * The optimizer updates of a step: the batch built once from the step's groups (at most the
 * planned number trained on), the stage's loss settings, then `updatesPerBatch` engine train
 * steps on that same batch (1 = strictly on-policy; more reuse the rollouts PPO-style).
 */
import type { ScoredGroup } from '@acereason/protocol';
import type { LossConfig, PolicyEngine, ScoreResult, TrainSequence, TrainStepResult } from '@acereason/policy';
import type { AlgorithmConfig, StageConfig } from '../config/run-config.js';
import { buildBatch, type BuiltBatch } from './batch.js';

export type TrainFigures = Pick<TrainStepResult, 'loss' | 'gradNorm' | 'tokens' | 'learningRate' | 'clipFraction' | 'seconds'> & {
  /** Optimizer updates made on this batch. */
  updates: number;
};

export async function trainStep(engine: PolicyEngine, groups: readonly ScoredGroup[], stage: StageConfig, algo: AlgorithmConfig, version: number, temperature: number, stageStep: number): Promise<{ batch: BuiltBatch; train: TrainFigures }> {
  // A stage with reset_optimizer starts from zero moments: its first step (also when a run resumes
  // at the stage's first step) resets, later steps (a resumed checkpoint holds the stage's moments) do not.
  if (stage.resetOptimizer && stageStep === 0) engine.resetOptimizer();
  // Canonical order (by slot) so training does not depend on arrival order; over-sampled groups
  // beyond the batch are left out once it has the planned number.
  const batch = buildBatch(groups, stage, algo, version, stage.batchPrompts);
  const t = temperature > 0 ? temperature : 1;
  const loss: LossConfig = {
    kind: 'pg', epsLow: algo.epsLow, epsHigh: algo.epsHigh, klCoef: algo.klCoef, entropyCoef: algo.entropyCoef,
    aggregation: algo.aggregation, constantNormalizer: stage.maxResponseTokens, temperature: t,
  };
  let train: TrainFigures = { loss: 0, gradNorm: 0, tokens: 0, learningRate: 0, clipFraction: 0, seconds: 0, updates: 0 };
  if (batch.sequences.length === 0) return { batch, train };
  const sequences = await behaviourLogprobs(engine, batch.sequences, algo, t);
  const lr = stage.learningRate !== undefined ? { learningRate: stage.learningRate } : {};
  let seconds = 0;
  for (let u = 0; u < algo.updatesPerBatch; u++) {
    const r = await engine.trainStep({ sequences, loss, ...lr });
    seconds += r.seconds;
    // The last update's loss, norm and clipped fraction: the one furthest from the generating policy.
    train = { loss: r.loss, gradNorm: r.gradNorm, tokens: r.tokens, learningRate: r.learningRate, clipFraction: r.clipFraction, seconds, updates: u + 1 };
  }
  return { batch, train };
}

/**
 * pi_old of the loss ratio. Async: the actors' logprobs (the policy that generated). Sync with one
 * update: none, so the trainer takes the current policy's (ratio exactly 1). Sync with several
 * updates: the generating policy is the current one before the first update, scored once here so
 * the later updates' ratios (and their clipping) are taken against it.
 */
async function behaviourLogprobs(engine: PolicyEngine, seqs: readonly TrainSequence[], algo: AlgorithmConfig, temperature: number): Promise<TrainSequence[]> {
  if (algo.mode === 'async') return [...seqs];
  const onPolicy = seqs.map(({ oldLogprobs: _o, ...rest }) => rest);
  if (algo.updatesPerBatch === 1) return onPolicy;
  const scored = await engine.score(onPolicy.map((s) => ({ tokens: s.tokens, scoreFrom: s.responseStart })), temperature);
  return onPolicy.map((s, i) => ({ ...s, oldLogprobs: (scored[i] as ScoreResult).logprobs }));
}
