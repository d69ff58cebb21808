import type { FinishReason } from '@acereason/protocol';
import type { NamedTensor } from '../model/params.js';
import type { ResolvedModelConfig } from '../model/config.js';
import type { SamplingParams } from '../sampling/sampler.js';
import type { LossConfig } from '../train/loss-config.js';
import type { OptimizerConfig } from '../train/optimizer-config.js';

export interface GenerateRequest {
  /** Keys the sampler's RNG with the seed and the sample index; the samples come back labelled with it. */
  sampleKey: string;
  promptTokens: Uint32Array;
  numSamples: number;
  sampling: SamplingParams;
  seed: number;
  /**
   * Called after each generated token with the row's tokens so far: true stops the row (finish
   * reason `stop`, the token kept), e.g. a stop string (see `stopStringChecker`).
   */
  stopWhen?: (generated: readonly number[]) => boolean;
  /** Called after each generated token of each of its rows (streaming); a throw fails the request. */
  onToken?: TokenObserver;
}

/** A row's tokens and their logprobs so far, after each new token (`sampleIndex` names the row). */
export type TokenObserver = (sampleIndex: number, tokens: readonly number[], logprobs: readonly number[]) => void;

/** Why a sample ended (the wire's TrajectoryGroup finish reasons). */
export type { FinishReason };

export interface GeneratedSample {
  sampleKey: string;
  sampleIndex: number;
  tokens: Uint32Array;
  /** Behaviour logprob of each generated token under softmax(logits / temperature). */
  logprobs: Float32Array;
  entropy: Float32Array;
  finishReason: FinishReason;
}

export interface ScoreRequest {
  /** Prompt followed by the response. */
  tokens: Uint32Array;
  /** Tokens before this index are not scored (the prompt); default 1. */
  scoreFrom?: number;
}

export interface ScoreResult {
  /** logprobs[i] is the logprob of tokens[scoreFrom + i] given everything before it. */
  logprobs: Float32Array;
  entropy: Float32Array;
}

export interface TrainSequence {
  tokens: Uint32Array;
  /** Index of the first response token: only tokens from here on contribute to the loss. */
  responseStart: number;
  /** Per response token (length tokens.length - responseStart). */
  advantages?: Float32Array;
  /** Per response token; 0 excludes a token (e.g. overlong filtering). Default all ones. */
  lossMask?: Float32Array;
  /** Behaviour logprobs per response token (pi_old). Default: the current policy's (ratio 1). */
  oldLogprobs?: Float32Array;
  /** Reference-policy logprobs per response token, for the KL term. */
  refLogprobs?: Float32Array;
}

export interface TrainBatch {
  sequences: TrainSequence[];
  loss: LossConfig;
  /** Base learning rate for this update instead of the optimizer's (per-stage rates); the schedule still applies. */
  learningRate?: number;
}

export interface TrainStepResult {
  /** The aggregated loss (sum over micro-batches). */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Tokens that carried loss weight. */
  tokens: number;
  learningRate: number;
  microBatches: number;
  /** Optimizer step count after this update. */
  step: number;
  /** Mean entropy and clipped fraction over weighted tokens. */
  entropy: number;
  clipFraction: number;
  seconds: number;
}

/** A policy version as an engine holds it: the learner's version number and the weights' digest. */
export interface HeldVersion {
  version: number;
  weightsSha256: string;
}

/** One version's weights for a RolloutEngine to load, already verified against the learner's manifest. */
export interface WeightsVersion extends HeldVersion {
  tensors: readonly NamedTensor[];
}

/**
 * What an actor needs: sampling with behaviour logprobs from the weights of one known version.
 * The embedded engine implements it, and so does a client of an OpenAI-compatible server.
 */
export interface RolloutEngine {
  generate(requests: readonly GenerateRequest[]): Promise<GeneratedSample[]>;
  /**
   * Makes `weights` the version this engine samples from; resolves once it provably does
   * (a generate() already running keeps the weights it started with).
   */
  loadVersion(weights: WeightsVersion): Promise<HeldVersion>;
  /** The version generate() samples from now; undefined until one was loaded. */
  heldVersion(): HeldVersion | undefined;
  /** An engine behind a network (an inference server): resolves once it answers again after it failed. */
  ready?(signal?: AbortSignal): Promise<void>;
  dispose(): Promise<void>;
}

/** What the learner needs: scoring, one optimizer update per step, the weights and optimizer state in and out. */
export interface TrainingEngine {
  readonly model: ResolvedModelConfig;
  score(requests: readonly ScoreRequest[], temperature?: number): Promise<ScoreResult[]>;
  trainStep(batch: TrainBatch): Promise<TrainStepResult>;
  exportWeights(): NamedTensor[];
  /** Replaces all weights atomically: a generate() already running keeps the old ones. */
  loadWeights(tensors: readonly NamedTensor[] | Uint8Array): Promise<void>;
  /** The weights as safetensors bytes (HF names). */
  exportSafetensors(): Uint8Array;
  weightsSha256(): string;
  saveOptimizerState(): Uint8Array;
  loadOptimizerState(bytes: Uint8Array): void;
  /** Zero moments and step count (a stage that starts with a fresh optimizer: `reset_optimizer`). */
  resetOptimizer(): void;
  /** Streamed checkpoints: the optimizer state as tensors (views) and back. */
  optimizerStateTensors?(): { step: number; tensors: NamedTensor[] };
  loadOptimizerStateTensors?(step: number, tensors: readonly NamedTensor[]): void;
  /** The current weights without copying (paramSpecs order); valid until the next train step or load. */
  weightViews?(): readonly NamedTensor[];
  readonly optimizer: OptimizerConfig;
  dispose(): Promise<void>;
}

/** The embedded engine is both (the learner also generates: evaluations, curation, SFT checks). */
export type PolicyEngine = RolloutEngine & TrainingEngine;
