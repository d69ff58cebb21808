/** RolloutTasks for a step's slots. Ids are deterministic, so a restarted learner re-issues the same ones. */
import { createHash } from 'node:crypto';
import { AceReasonError, ErrorCodes, SCHEMA_VERSION, type RolloutTask, type TaskIdentity } from '@acereason/protocol';
import { encodePrompt, type ChatTemplate, type Tokenizer } from '@acereason/policy';
import type { DatasetConfig, DatasetPrompt, RunConfig, StageConfig } from '../config/run-config.js';
import type { Prompt } from '../data/dataset.js';

export interface TaskContext {
  runId: string;
  seed: number;
  stage: StageConfig;
  dataset: DatasetConfig;
  tokenizer: Tokenizer;
  /** The model's chat template, for datasets prompted in chat mode. */
  chatTemplate?: ChatTemplate;
}

/** The task context of the run's stage `stageIndex` (an existing stage). */
export function stageTaskContext(config: RunConfig, stageIndex: number, t: { tokenizer: Tokenizer; chatTemplate?: ChatTemplate | undefined }): TaskContext {
  const stage = config.stages[stageIndex] as StageConfig;
  return { runId: config.runId, seed: config.seed, stage, dataset: config.datasets[stage.dataset] as DatasetConfig, tokenizer: t.tokenizer, ...(t.chatTemplate ? { chatTemplate: t.chatTemplate } : {}) };
}

/** A problem's prompt token ids as the dataset's prompt setting says (see config/dataset-prompt.ts). */
export function encodeDatasetPrompt(prompt: DatasetPrompt, t: { tokenizer: Tokenizer; chatTemplate?: ChatTemplate }, problem: string): Uint32Array {
  if (prompt.kind === 'template') return t.tokenizer.encode(prompt.template.replace('{problem}', problem));
  return encodePrompt(t, prompt.format, problem);
}

/**
 * One entry into a stage: the stage's index and the step the run entered it at. A run can enter
 * the same stage more than once (an operator names it again), never twice at the same step.
 */
export interface StageEntry {
  index: number;
  enteredAt: number;
}

/** What a task was drawn under and stamped with, besides its identity. */
export interface TaskStamp {
  version: number;
  sha256: string;
  /** The stage entry a training task was drawn in. */
  stage?: StageEntry;
  /** The evaluation an eval task belongs to (each run of an evaluation draws its own). */
  evalAttempt?: string;
}

/**
 * The JetStream dedup key of a task (and of its groups): the same for a copy of the same task, so
 * the server drops it (a retried publish, a resumed learner re-publishing its checkpointed steps),
 * different for every other task. A training task's key names its stage entry and its version as
 * well as its weights: after a stage change in async mode the new stage's step s is not the task
 * the old stage published ahead for step s, even when the weights did not change in between (a
 * step without an update bumps the version, not the hash); and a version rebuilt with other
 * weights keys differently too. An eval task's key names the attempt of its evaluation: eval groups
 * are acked as they arrive, so an evaluation a restarted learner runs again (same round, step
 * and weights) must publish new tasks, not copies the server drops while nothing answers them.
 * Only ever compared whole; routing reads the typed identity fields, never this string.
 */
export function taskMessageId(runId: string, t: TaskIdentity, stamp: TaskStamp): string {
  const sha8 = stamp.sha256.slice(0, 8);
  if (t.purpose.kind === 'eval') {
    if (stamp.evalAttempt === undefined) throw new AceReasonError(ErrorCodes.INTERNAL, `eval task ${t.purpose.dataset}.${t.slot} has no evaluation attempt`);
    return `${runId}.eval.${t.purpose.round}.${stamp.evalAttempt}.${t.purpose.dataset}.${t.slot}.${sha8}`;
  }
  if (!stamp.stage) throw new AceReasonError(ErrorCodes.INTERNAL, `training task ${t.step}.${t.slot} has no stage entry`);
  return `${runId}.${stamp.stage.index}@${stamp.stage.enteredAt}.${t.step}.${t.slot}.${t.retry}.v${stamp.version}.${sha8}`;
}

/**
 * The sampler's RNG key: the same for the same step, slot and prompt, whichever actor generates
 * it and whichever retry round it is. A slot re-issued after a timeout (a loaded machine) so
 * samples exactly what the first attempt does, and whichever copy arrives first, the step trains
 * on the same responses. (The hashed text keeps a 0 where the retry round was, so the keys and
 * with them every seeded run's numbers are unchanged.)
 */
export function sampleKey(t: TaskIdentity, promptId: string): string {
  if (t.purpose.kind === 'eval') return `eval.${t.purpose.round}.${t.purpose.dataset}.${t.slot}`;
  return createHash('sha256').update(`${t.step}.${t.slot}.0.${promptId}`).digest('hex').slice(0, 16);
}

const promptCache = new WeakMap<Prompt, Map<DatasetPrompt, Uint32Array>>();

export function promptTokens(ctx: TaskContext, prompt: Prompt): Uint32Array {
  let byTemplate = promptCache.get(prompt);
  if (!byTemplate) {
    byTemplate = new Map();
    promptCache.set(prompt, byTemplate);
  }
  let t = byTemplate.get(ctx.dataset.prompt);
  if (!t) {
    t = encodeDatasetPrompt(ctx.dataset.prompt, ctx, prompt.problem);
    byTemplate.set(ctx.dataset.prompt, t);
  }
  return t;
}

export function makeTask(ctx: TaskContext, p: { task: TaskIdentity; prompt: Prompt; version: number; sha256: string; temperature: number; stage?: StageEntry; evalAttempt?: string }): RolloutTask {
  const eos = ctx.tokenizer.eosTokenId;
  return {
    schema: SCHEMA_VERSION, kind: 'RolloutTask', runId: ctx.runId,
    id: taskMessageId(ctx.runId, p.task, { version: p.version, sha256: p.sha256, ...(p.stage ? { stage: p.stage } : {}), ...(p.evalAttempt !== undefined ? { evalAttempt: p.evalAttempt } : {}) }), createdAtMs: Date.now(),
    task: p.task, stage: ctx.stage.name, promptId: p.prompt.id, domain: ctx.stage.domain,
    promptTokens: promptTokens(ctx, p.prompt),
    groupSize: ctx.stage.groupSize,
    sampling: { temperature: p.temperature, topP: ctx.stage.topP, topK: ctx.stage.topK, maxNewTokens: ctx.stage.maxResponseTokens, stopTokens: ctx.tokenizer.stopTokenIds !== undefined ? [...ctx.tokenizer.stopTokenIds] : eos === undefined ? [] : [eos] },
    seed: ctx.seed,
    sampleKey: sampleKey(p.task, p.prompt.id),
    policyVersion: p.version, weightsSha256: p.sha256,
    reference: p.prompt.reference,
  };
}
