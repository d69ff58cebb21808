import { ValidationError } from '@acereason/protocol';
import type { RopeScaling } from './rope.js';

/** A decoder-only transformer of the Llama / Qwen2 / Qwen3 family. */
export interface ModelConfig {
  vocabSize: number;
  hiddenSize: number;
  /** Width of the SwiGLU MLP. */
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Grouped-query attention: key/value heads; must divide numHeads. */
  numKvHeads: number;
  /** Defaults to hiddenSize / numHeads. */
  headDim?: number;
  ropeTheta: number;
  maxPositions: number;
  rmsNormEps: number;
  /** q/k/v projection biases, as in Qwen2. */
  attentionBias: boolean;
  /** The LM head shares the token embedding matrix. */
  tieEmbeddings: boolean;
  /** Per-head RMSNorm of queries and keys before rotary (`q_norm` / `k_norm`, as in Qwen3). Default false. */
  qkNorm?: boolean;
  /** Rotary scaling (Llama 3.x); null or absent = plain rotary. */
  ropeScaling?: RopeScaling | null;
}

export type ResolvedModelConfig = Required<ModelConfig>;

function posInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ValidationError(field, `must be a positive integer, got ${String(v)}`);
  return v;
}
function posNum(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValidationError(field, `must be a positive number, got ${String(v)}`);
  return v;
}
function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ValidationError(field, `must be a boolean, got ${String(v)}`);
  return v;
}

/** Checks every field and fills defaults; errors name the offending field (`model.numKvHeads: ...`). */
export function validateModelConfig(c: ModelConfig, prefix = 'model'): ResolvedModelConfig {
  const f = (k: string): string => `${prefix}.${k}`;
  const numHeads = posInt(f('numHeads'), c.numHeads);
  const numKvHeads = posInt(f('numKvHeads'), c.numKvHeads);
  const hiddenSize = posInt(f('hiddenSize'), c.hiddenSize);
  if (numHeads % numKvHeads !== 0) throw new ValidationError(f('numKvHeads'), `must divide numHeads (${numHeads}), got ${numKvHeads}`);
  if (c.headDim === undefined && hiddenSize % numHeads !== 0) throw new ValidationError(f('hiddenSize'), `must be divisible by numHeads (${numHeads}) when headDim is not given`);
  const headDim = c.headDim === undefined ? hiddenSize / numHeads : posInt(f('headDim'), c.headDim);
  if (headDim % 2 !== 0) throw new ValidationError(f('headDim'), `must be even for rotary embeddings, got ${headDim}`);
  return {
    vocabSize: posInt(f('vocabSize'), c.vocabSize),
    hiddenSize,
    intermediateSize: posInt(f('intermediateSize'), c.intermediateSize),
    numLayers: posInt(f('numLayers'), c.numLayers),
    numHeads,
    numKvHeads,
    headDim,
    ropeTheta: posNum(f('ropeTheta'), c.ropeTheta),
    maxPositions: posInt(f('maxPositions'), c.maxPositions),
    rmsNormEps: posNum(f('rmsNormEps'), c.rmsNormEps),
    attentionBias: bool(f('attentionBias'), c.attentionBias),
    tieEmbeddings: bool(f('tieEmbeddings'), c.tieEmbeddings),
    qkNorm: c.qkNorm === undefined ? false : bool(f('qkNorm'), c.qkNorm),
    ropeScaling: validateRopeScaling(c.ropeScaling ?? null, f('ropeScaling')),
  };
}

function validateRopeScaling(r: RopeScaling | null, field: string): RopeScaling | null {
  if (r === null) return null;
  if (typeof r !== 'object') throw new ValidationError(field, 'must be an object or null');
  if (r.type !== 'llama3') throw new ValidationError(`${field}.type`, `only llama3 is supported, got ${String(r.type)}`);
  const lowFreqFactor = posNum(`${field}.lowFreqFactor`, r.lowFreqFactor);
  const highFreqFactor = posNum(`${field}.highFreqFactor`, r.highFreqFactor);
  if (highFreqFactor <= lowFreqFactor) throw new ValidationError(`${field}.highFreqFactor`, `must exceed lowFreqFactor (${lowFreqFactor}), got ${highFreqFactor}`);
  return { type: 'llama3', factor: posNum(`${field}.factor`, r.factor), lowFreqFactor, highFreqFactor, originalMaxPositions: posInt(`${field}.originalMaxPositions`, r.originalMaxPositions) };
}

/** The small model used by the demo and the tests. */
export const DEMO_MODEL: ModelConfig = {
  vocabSize: 64,
  hiddenSize: 64,
  intermediateSize: 128,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  ropeTheta: 10000,
  maxPositions: 512,
  rmsNormEps: 1e-6,
  attentionBias: true,
  tieEmbeddings: false,
};
