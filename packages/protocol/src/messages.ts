/**
 * The NATS messages of the loop. Every message carries `schema` (the wire schema version),
 * `kind`, `runId` and a unique `id` used for JetStream msg-id dedup.
 */
import * as s from './schema.js';
import { ReferenceSchema } from './references.js';

/**
 * Version 3: a code reference carries only where its tests are (`reference.tests: {dataset,
 * promptId, sha256, bytes}`, the tests themselves in the code-tests object store), not the tests;
 * the RunSpec lists the run assets (object store) by name and digest.
 * Version 2 made task identity typed fields (`task: {step, slot, retry, purpose}`). A message of
 * an older version is dead-lettered by the consumer with the version in the reason.
 */
export const SCHEMA_VERSION = 3;

export const DOMAINS = ['math', 'code'] as const;
export type Domain = (typeof DOMAINS)[number];

export const FINISH_REASONS = ['stop', 'length'] as const;
export type FinishReason = (typeof FINISH_REASONS)[number];

/**
 * Verification outcomes, one vocabulary per domain (a math check and a sandboxed run fail in
 * different ways); timeouts and sandbox failures are distinct from wrong answers everywhere.
 * A scored group's statuses must come from its domain's list.
 */
export const MATH_STATUSES = ['correct', 'wrong', 'no_answer', 'timeout', 'error'] as const;
export type MathStatus = (typeof MATH_STATUSES)[number];
export const CODE_STATUSES = ['accepted', 'wrong_answer', 'runtime_error', 'time_limit', 'memory_limit', 'output_limit', 'compile_error', 'no_code', 'sandbox_error'] as const;
export type CodeStatus = (typeof CODE_STATUSES)[number];
export const STATUSES_BY_DOMAIN: { readonly [D in Domain]: readonly string[] } = { math: MATH_STATUSES, code: CODE_STATUSES };
export const VERIFY_STATUSES = [...MATH_STATUSES, ...CODE_STATUSES] as const;
export type VerifyStatus = MathStatus | CodeStatus;

const MAX_TOKENS = 1 << 20;
const envelope = <K extends string>(kind: K) => ({
  schema: s.literal(SCHEMA_VERSION),
  kind: s.literal(kind),
  runId: s.string({ minLength: 1, maxLength: 200 }),
  id: s.string({ minLength: 1, maxLength: 500 }),
  createdAtMs: s.number({ min: 0 }),
});

/**
 * How to sample: `temperature` 0 = greedy (reported logprobs and entropy are those of
 * softmax(logits / temperature)); `topP` nucleus mass, 1 disables; `topK` 0 disables;
 * generation stops after emitting one of `stopTokens` (the stop token is part of the output).
 */
export const SamplingParamsSchema = s.object({
  temperature: s.number({ min: 0 }),
  topP: s.number({ min: 0, max: 1 }),
  topK: s.integer({ min: 0 }),
  maxNewTokens: s.integer({ min: 1, max: MAX_TOKENS }),
  stopTokens: s.array(s.integer({ min: 0 })),
});
export type SamplingParams = s.Infer<typeof SamplingParamsSchema>;


/** Why a task exists: a slot of a training step, or a prompt of one round of held-out evaluation. */
export const TaskPurposeSchema = s.discriminated('kind', {
  train: s.object({ kind: s.literal('train') }),
  eval: s.object({ kind: s.literal('eval'), dataset: s.string({ minLength: 1 }), round: s.integer({ min: 0 }) }),
});
export type TaskPurpose = s.Infer<typeof TaskPurposeSchema>;

/**
 * Who a task, its trajectory group and its scored group are: the step (for evals, the step the
 * evaluation ran at), the slot of that step (the prompt's position; for evals, the prompt's index
 * in the eval dataset), the retry round of the slot and the purpose. The run is the envelope's
 * `runId`. These fields are what routing reads; the message `id` is only a JetStream dedup key.
 */
export const TaskIdentitySchema = s.object({
  step: s.integer({ min: 0 }),
  slot: s.integer({ min: 0 }),
  retry: s.integer({ min: 0 }),
  purpose: TaskPurposeSchema,
});
export type TaskIdentity = s.Infer<typeof TaskIdentitySchema>;

export const RolloutTaskSchema = s.object({
  ...envelope('RolloutTask'),
  task: TaskIdentitySchema,
  stage: s.string(),
  promptId: s.string({ minLength: 1 }),
  domain: s.oneOf(DOMAINS),
  promptTokens: s.uint32Array({ maxLength: MAX_TOKENS }),
  groupSize: s.integer({ min: 1, max: 1024 }),
  sampling: SamplingParamsSchema,
  seed: s.integer({ min: 0 }),
  /**
   * With `seed` and the sample index, keys the sampler's RNG: the same key gives the same samples
   * whichever actor or batch generates them (it does not contain the run id, so runs with equal
   * seeds sample alike).
   */
  sampleKey: s.string({ minLength: 1 }),
  /** The version to generate with, exactly (the actor fetches it by number and checks the sha256). */
  policyVersion: s.integer({ min: 0 }),
  weightsSha256: s.string(),
  reference: ReferenceSchema,
});
export type RolloutTask = s.Infer<typeof RolloutTaskSchema>;

export const ResponseSchema = s.object({
  tokens: s.uint32Array({ maxLength: MAX_TOKENS }),
  logprobs: s.float32Array({ maxLength: MAX_TOKENS }),
  /** Mean per-token entropy of the sampling distribution (temperature-adjusted). */
  entropy: s.number(),
  finishReason: s.oneOf(FINISH_REASONS),
  text: s.string(),
});
export type Response = s.Infer<typeof ResponseSchema>;

export const TrajectoryGroupSchema = s.object({
  ...envelope('TrajectoryGroup'),
  /** The identity of the task it answers (copied unchanged). */
  task: TaskIdentitySchema,
  stage: s.string(),
  promptId: s.string({ minLength: 1 }),
  domain: s.oneOf(DOMAINS),
  promptTokens: s.uint32Array({ maxLength: MAX_TOKENS }),
  policyVersion: s.integer({ min: 0 }),
  /** The hash of the weights that actually produced the responses. */
  weightsSha256: s.string({ minLength: 1 }),
  actorId: s.string({ minLength: 1 }),
  responses: s.array(ResponseSchema, { minLength: 1 }),
  reference: ReferenceSchema,
  timings: s.object({ queuedMs: s.number({ min: 0 }), weightFetchMs: s.number({ min: 0 }), generateMs: s.number({ min: 0 }) }),
});
export type TrajectoryGroup = s.Infer<typeof TrajectoryGroupSchema>;

export const VerifyResultSchema = s.object({
  reward: s.number(),
  status: s.oneOf(VERIFY_STATUSES),
  correct: s.boolean(),
  extracted: s.optional(s.string()),
  reason: s.string(),
  latencyMs: s.number({ min: 0 }),
});
export type VerifyResult = s.Infer<typeof VerifyResultSchema>;

export const ScoredGroupSchema = s.refine(s.object({
  ...envelope('ScoredGroup'),
  /** The identity of the task, the same as `group.task`. */
  task: TaskIdentitySchema,
  group: TrajectoryGroupSchema,
  results: s.array(VerifyResultSchema, { minLength: 1 }),
  verifierId: s.string({ minLength: 1 }),
  verifyMs: s.number({ min: 0 }),
}), (v) => {
  if (!sameIdentity(v.task, v.group.task)) return { field: 'task', problem: 'differs from group.task' };
  if (v.results.length !== v.group.responses.length) return { field: 'results', problem: `has ${v.results.length} results for ${v.group.responses.length} responses` };
  const allowed = STATUSES_BY_DOMAIN[v.group.domain];
  const i = v.results.findIndex((r) => !allowed.includes(r.status));
  if (i >= 0) return { field: `results[${i}].status`, problem: `"${v.results[i]?.status}" is not a ${v.group.domain} status (${allowed.join(', ')})` };
  return undefined;
});
export type ScoredGroup = s.Infer<typeof ScoredGroupSchema>;

export const WeightsAnnouncedSchema = s.object({
  ...envelope('WeightsAnnounced'),
  version: s.integer({ min: 0 }),
  weightsSha256: s.string({ minLength: 1 }),
  /** host:port of the learner's WeightService. */
  address: s.string({ minLength: 1 }),
  totalBytes: s.integer({ min: 0 }),
});
export type WeightsAnnounced = s.Infer<typeof WeightsAnnouncedSchema>;

/**
 * The learner's logprobs of a fixed token sequence under one version's weights (teacher-forced):
 * an actor whose rollouts come from an inference server asks the server for the same logprobs
 * and stamps groups with the version only when they match.
 */
export const VersionProbeSchema = s.refine(s.object({
  ...envelope('VersionProbe'),
  version: s.integer({ min: 0 }),
  weightsSha256: s.string({ minLength: 1 }),
  tokens: s.uint32Array({ maxLength: 4096 }),
  /** logprobs[i] is the logprob of tokens[scoreFrom + i] given the tokens before it. */
  scoreFrom: s.integer({ min: 1 }),
  logprobs: s.float32Array({ maxLength: 4096 }),
}), (v) => (v.scoreFrom >= v.tokens.length || v.logprobs.length !== v.tokens.length - v.scoreFrom ? { field: 'logprobs', problem: `needs tokens.length - scoreFrom = ${v.tokens.length - v.scoreFrom} values, has ${v.logprobs.length}` } : undefined));
export type VersionProbe = s.Infer<typeof VersionProbeSchema>;

export const ROLES = ['learner', 'actor', 'verifier', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export const HeartbeatSchema = s.object({
  ...envelope('Heartbeat'),
  role: s.oneOf(ROLES),
  workerId: s.string({ minLength: 1 }),
  host: s.string(),
  pid: s.integer({ min: 0 }),
  state: s.string(),
  inFlight: s.integer({ min: 0 }),
  processed: s.integer({ min: 0 }),
  policyVersion: s.optional(s.integer({ min: 0 })),
  /** Recent throughput: tokens/s for actors, responses/s for verifiers. */
  throughput: s.optional(s.number({ min: 0 })),
});
export type Heartbeat = s.Infer<typeof HeartbeatSchema>;

export const StageChangedSchema = s.object({
  ...envelope('StageChanged'),
  fromStage: s.optional(s.string()),
  toStage: s.string(),
  stageIndex: s.integer({ min: 0 }),
  step: s.integer({ min: 0 }),
  reason: s.string(),
});
export type StageChanged = s.Infer<typeof StageChangedSchema>;

/**
 * A file of the run that workers need (tokenizer.json, tokenizer_config.json, config.json ...),
 * stored once in the assets object store under its sha256 and fetched and checked by each worker.
 */
export const RunAssetSchema = s.object({
  /** The file's name in a Hugging Face model directory, e.g. `tokenizer.json`. */
  name: s.string({ minLength: 1 }),
  /** Lowercase hex sha256 of the bytes; the object is `Objects.runAsset(sha256)` in the assets bucket. */
  sha256: s.string({ minLength: 64, maxLength: 64 }),
  bytes: s.integer({ min: 0 }),
});
export type RunAsset = s.Infer<typeof RunAssetSchema>;

/**
 * What a worker needs to join a run, kept in the run-state KV bucket under `<runId>.spec`:
 * the model architecture, the tokenizer, the run's asset files and where the learner serves weights.
 */
export const ROLLOUT_ENGINE_WEIGHTS = ['acereason', 'sglang', 'vllm', 'none'] as const;
export type RolloutEngineWeights = (typeof ROLLOUT_ENGINE_WEIGHTS)[number];

/**
 * An OpenAI-compatible inference server as the actors' rollout engine (the run file's
 * `engine: {kind: openai, ...}`): where it is, the served model's name, and how weights get into
 * it (`weights` names the server's load endpoint; `none` serves fixed weights, for evaluation).
 */
export const OpenAIEngineSpecSchema = s.object({
  kind: s.literal('openai'),
  url: s.string({ minLength: 1 }),
  model: s.string({ minLength: 1 }),
  weights: s.oneOf(ROLLOUT_ENGINE_WEIGHTS),
  /** The environment variable holding the server's API key (never the key itself). */
  apiKeyEnv: s.optional(s.string({ minLength: 1 })),
  maxConcurrency: s.integer({ min: 1, max: 1024 }),
  requestTimeoutMs: s.integer({ min: 1 }),
  /** Mean absolute difference allowed between the server's and the learner's probe logprobs. */
  probeTolerance: s.number({ min: 0 }),
});
export type OpenAIEngineSpec = s.Infer<typeof OpenAIEngineSpecSchema>;

export const RunSpecSchema = s.object({
  ...envelope('RunSpec'),
  /** The policy package's model config (validated there). */
  model: s.unknownValue(),
  /**
   * `char`: the demo's character tokenizer, inline. `hf`: built from the run's assets
   * (tokenizer.json, with tokenizer_config.json and generation_config.json when present).
   */
  tokenizer: s.discriminated('kind', {
    char: s.object({ kind: s.literal('char'), alphabet: s.string({ minLength: 1 }) }),
    hf: s.object({ kind: s.literal('hf') }),
  }),
  /** Files in the assets object store (by sha256), any size; none for the demo's inline tokenizer. */
  assets: s.optional(s.array(RunAssetSchema)),
  /** host:port of the learner's gRPC services. */
  learnerAddress: s.string({ minLength: 1 }),
  seed: s.integer({ min: 0 }),
  /** The actors' rollout engine when it is not the embedded one. */
  rolloutEngine: s.optional(OpenAIEngineSpecSchema),
  /** The embedded engine's generation graphs' precision (float32 when absent; masters stay float32). */
  generationDtype: s.optional(s.oneOf(['float32', 'float16'] as const)),
});
export type RunSpec = s.Infer<typeof RunSpecSchema>;

export const MessageSchemas = {
  RolloutTask: RolloutTaskSchema,
  TrajectoryGroup: TrajectoryGroupSchema,
  ScoredGroup: ScoredGroupSchema,
  WeightsAnnounced: WeightsAnnouncedSchema,
  Heartbeat: HeartbeatSchema,
  StageChanged: StageChangedSchema,
  RunSpec: RunSpecSchema,
  VersionProbe: VersionProbeSchema,
} as const;
export type MessageKind = keyof typeof MessageSchemas;
export type MessageOf<K extends MessageKind> = s.Infer<(typeof MessageSchemas)[K]>;
export type AnyMessage = { [K in MessageKind]: MessageOf<K> }[MessageKind];

export function sameIdentity(a: TaskIdentity, b: TaskIdentity): boolean {
  if (a.step !== b.step || a.slot !== b.slot || a.retry !== b.retry || a.purpose.kind !== b.purpose.kind) return false;
  return a.purpose.kind === 'train' || (b.purpose.kind === 'eval' && a.purpose.dataset === b.purpose.dataset && a.purpose.round === b.purpose.round);
}
