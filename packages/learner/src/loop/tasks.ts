/** RolloutTasks for a step's slots. Ids are deterministic, so a restarted learner re-issues the same ones. */
import { createHash } from 'node:crypto';
import { SCHEMA_VERSION, type RolloutTask } from '@acereason/protocol';
import type { Tokenizer } from '@acereason/policy';
import type { DatasetConfig, StageConfig } from '../config/run-config.js';
import type { Prompt } from '../data/dataset.js';

export interface TaskContext {
  runId: string;
  seed: number;
  stage: StageConfig;
  dataset: DatasetConfig;
  tokenizer: Tokenizer;
  maxStaleness: number;
}

/** `<run>.<step>.<slot>.<retry>.<sha8>`: the weights prefix keeps tasks of rebuilt versions apart. */
export function taskId(runId: string, step: number, slot: number, retry: number, sha256: string): string {
  return `${runId}.${step}.${slot}.${retry}.${sha256.slice(0, 8)}`;
}

const promptCache = new WeakMap<Prompt, Map<string, Uint32Array>>();

export function promptTokens(ctx: TaskContext, prompt: Prompt): Uint32Array {
  let byTemplate = promptCache.get(prompt);
  if (!byTemplate) {
    byTemplate = new Map();
    promptCache.set(prompt, byTemplate);
  }
  let t = byTemplate.get(ctx.dataset.promptTemplate);
  if (!t) {
    t = ctx.tokenizer.encode(ctx.dataset.promptTemplate.replace('{problem}', prompt.problem));
    byTemplate.set(ctx.dataset.promptTemplate, t);
  }
  return t;
}

export function makeTask(ctx: TaskContext, p: { step: number; slot: number; retry: number; prompt: Prompt; version: number; sha256: string; temperature: number }): RolloutTask {
  const eos = ctx.tokenizer.eosTokenId;
  return {
    schema: SCHEMA_VERSION, kind: 'RolloutTask', runId: ctx.runId,
    id: taskId(ctx.runId, p.step, p.slot, p.retry, p.sha256), createdAtMs: Date.now(),
    step: p.step, stage: ctx.stage.name, promptId: p.prompt.id, domain: ctx.stage.domain,
    promptTokens: promptTokens(ctx, p.prompt),
    groupSize: ctx.stage.groupSize,
    sampling: { temperature: p.temperature, topP: ctx.stage.topP, topK: ctx.stage.topK, maxNewTokens: ctx.stage.maxResponseTokens, stopTokens: eos === undefined ? [] : [eos] },
    seed: ctx.seed,
    sampleKey: createHash('sha256').update(`${p.step}.${p.slot}.${p.retry}.${p.prompt.id}`).digest('hex').slice(0, 16),
    policyVersion: p.version, minPolicyVersion: Math.max(0, p.version - ctx.maxStaleness), weightsSha256: p.sha256,
    reference: p.prompt.reference,
  };
}
