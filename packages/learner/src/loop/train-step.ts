/**
 * The optimizer update of a step: the batch built once from the step's groups (at most the
 * planned number trained on), the stage's loss settings, one engine train step.
 */
import type { ScoredGroup } from '@acereason/protocol';
import type { LossConfig, PolicyEngine, TrainStepResult } from '@acereason/policy';
import type { AlgorithmConfig, StageConfig } from '../config/run-config.js';
import { buildBatch, type BuiltBatch } from './batch.js';

export type TrainFigures = Pick<TrainStepResult, 'loss' | 'gradNorm' | 'tokens' | 'learningRate' | 'clipFraction' | 'seconds'>;

export async function trainStep(engine: PolicyEngine, groups: readonly ScoredGroup[], stage: StageConfig, algo: AlgorithmConfig, version: number, temperature: number): Promise<{ batch: BuiltBatch; train: TrainFigures }> {
  // Canonical order (by slot) so training does not depend on arrival order; over-sampled groups
  // beyond the batch are left out once it has the planned number.
  const batch = buildBatch(groups, stage, algo, version, stage.batchPrompts);
  const loss: LossConfig = {
    kind: 'pg', epsLow: algo.epsLow, epsHigh: algo.epsHigh, klCoef: algo.klCoef, entropyCoef: algo.entropyCoef,
    aggregation: algo.aggregation, constantNormalizer: stage.maxResponseTokens, temperature: temperature > 0 ? temperature : 1,
  };
  // Strictly on-policy: pi_old is the current policy (ratio exactly 1). Async: the behaviour policy's logprobs.
  const sequences = algo.mode === 'async' ? batch.sequences : batch.sequences.map(({ oldLogprobs: _o, ...rest }) => rest);
  let train: TrainFigures = { loss: 0, gradNorm: 0, tokens: 0, learningRate: 0, clipFraction: 0, seconds: 0 };
  if (sequences.length > 0) train = await engine.trainStep({ sequences, loss, ...(stage.learningRate !== undefined ? { learningRate: stage.learningRate } : {}) });
  return { batch, train };
}
