/**
 * The run file (YAML): model, data, stages, algorithm, cluster. `compileRunConfig` turns the raw
 * document into a fully resolved RunConfig; every error names the exact field.
 */
import { resolve } from 'node:path';
import { ValidationError, RUN_ID_PATTERN, DOMAINS, resolveOpenAIEngine, type Domain, type OpenAIEngineSpec } from '@acereason/protocol';
import { parseBool, parseBytes, parseDuration, parseEnum, parseNumber, parseString, parseTokens, section, type RawObject } from './units.js';
import type { PromptFilterConfig } from '../curriculum/filters.js';
import { parseStreams, type StreamsConfig } from './streams.js';
import type { TemperatureConfig } from '../curriculum/temperature.js';
import { compileStage } from './stage-compile.js';
import { compileDatasetPrompt, type DatasetPrompt } from './dataset-prompt.js';

export { MATH_PROMPT, CODE_PROMPT, type DatasetPrompt } from './dataset-prompt.js';
import type { EvalConfig, PlateauConfig } from '../curriculum/eval.js';

import type { OverlongPolicy } from './stage-compile.js';

export { OVERLONG_POLICIES, type OverlongPolicy } from './stage-compile.js';

export interface StageConfig {
  name: string;
  domain: Domain;
  dataset: string;
  /** Step budget. With `epochs`, the budget is computed when the stage starts from the prompts left after filtering. */
  steps: number;
  epochs: number | undefined;
  batchPrompts: number;
  groupSize: number;
  maxResponseTokens: number;
  /** The starting sampling temperature (see `temperatureControl` for how it moves). */
  temperature: number;
  temperatureControl: TemperatureConfig;
  topP: number;
  topK: number;
  /** What happens to truncated responses: masked out of the loss, reward 0, or a soft penalty. */
  overlong: OverlongPolicy;
  /** For `penalty`: the last this-many tokens before the limit are penalised linearly (DAPO). */
  overlongPenaltyTokens: number;
  learningRate: number | undefined;
  /**
   * Start the stage with a fresh optimizer (zero Adam moments, step count 0) before its first
   * update, as a separate run from the previous stage's weights would. Not inherited.
   */
  resetOptimizer: boolean;
  /** Drop groups whose rewards are all equal (they carry no signal). */
  zeroVarianceFilter: boolean;
  /** Extra prompts sampled (fraction of batchPrompts) per round while filtered groups leave the batch short. */
  oversample: number;
  /** Prompt filters from the pass-rate table. */
  filter: PromptFilterConfig;
  /** End the stage early when the watched eval metric stops improving (`steps` is then the cap). */
  plateau: PlateauConfig | undefined;
}

export interface DatasetConfig {
  name: string;
  path: string;
  domain: Domain;
  /** How problems become prompts: a `{problem}` template, or chat/raw with system and instruction. */
  prompt: DatasetPrompt;
  /** Math only: answers write decimals with a comma (`3,5` is 3.5); carried on each prompt's reference to the verifiers. */
  decimalComma: boolean;
}

export interface ModelSection {
  preset: 'demo' | undefined;
  /** A Hugging Face model directory (config.json, safetensors shards, tokenizer and generation files). */
  path: string | undefined;
  /** Hugging Face style config.json path, when not a preset. */
  configPath: string | undefined;
  /** Initial weights (safetensors); random init from the seed when absent. */
  init: string | undefined;
  /** "char" (the demo's character tokenizer) or a tokenizer.json path. */
  tokenizer: string;
}

export interface AlgorithmConfig {
  mode: 'sync' | 'async';
  /** Versions an actor may lag behind in async mode (0 in sync mode). */
  maxStaleness: number;
  advantage: 'grpo' | 'grpo-no-std';
  advantageEps: number;
  epsLow: number;
  epsHigh: number;
  klCoef: number;
  entropyCoef: number;
  aggregation: 'token-mean' | 'seq-mean-token-mean' | 'constant';
  /**
   * Optimizer updates per batch (default 1, strictly on-policy): above 1 the same rollouts are
   * trained on again, each update's ratio taken against the generating policy and clipped.
   */
  updatesPerBatch: number;
}

export interface OptimizerSection {
  learningRate: number;
  weightDecay: number;
  maxGradNorm: number;
  beta1: number;
  beta2: number;
  eps: number;
  schedule: 'constant' | 'linear-warmup' | 'cosine';
  warmupSteps: number;
  microBatchTokens: number;
}

export interface ClusterConfig {
  nats: string[];
  /** Where the learner's gRPC server binds (host:port, port 0 = any). */
  grpcBind: string;
  /** The address actors use to reach it; defaults to the bound address. */
  grpcAdvertise: string | undefined;
  /** The lease of a task or group: redelivered when its holder is silent this long. */
  ackWaitMs: number;
  /** After this long waiting for a step, the learner logs the missing prompts and re-publishes them. */
  stepTimeoutMs: number;
  metricsPort: number | undefined;
}

/** The precision of the embedded engine's generation graphs (`engine.generation_dtype`); training and scoring stay float32. */
export type GenerationDtypeSetting = 'float32' | 'float16';

export interface RunConfig {
  runId: string;
  seed: number;
  outDir: string;
  model: ModelSection;
  /** The learner's embedded engine; `rollout` is the actors' engine when it is an inference server. */
  engine: { executionProvider: 'cpu' | 'cuda'; threads: number; rollout: OpenAIEngineSpec | undefined; generationDtype: GenerationDtypeSetting };
  datasets: Record<string, DatasetConfig>;
  algorithm: AlgorithmConfig;
  optimizer: OptimizerSection;
  stages: StageConfig[];
  /** `maxShardBytes`: the largest safetensors shard a checkpoint writes (weights and optimizer state); default 2 GiB. */
  checkpoint: { everySteps: number; keep: number; dir: string; maxShardBytes: number | undefined };
  cluster: ClusterConfig;
  streams: StreamsConfig;
  eval: EvalConfig | undefined;
}


export function compileRunConfig(raw: unknown, baseDir = process.cwd()): RunConfig {
  const top = section(raw, '', ['run', 'model', 'engine', 'datasets', 'algorithm', 'optimizer', 'stages', 'checkpoint', 'cluster', 'streams', 'eval']);
  const run = section(top.run, 'run', ['id', 'seed', 'out_dir']);
  const runId = parseString(run.id ?? 'run', 'run.id');
  if (!RUN_ID_PATTERN.test(runId)) throw new ValidationError('run.id', `"${runId}" may only contain letters, digits, "-" and "_" (at most 64)`);
  const seed = parseNumber(run.seed ?? 1, 'run.seed', { integer: true, min: 0 });
  const outDir = resolve(baseDir, parseString(run.out_dir ?? `runs/${runId}`, 'run.out_dir'));

  const m = section(top.model, 'model', ['preset', 'path', 'config', 'init', 'tokenizer']);
  if (m.preset === undefined && m.config === undefined && m.path === undefined) throw new ValidationError('model', 'set path: <Hugging Face model directory>, preset: demo or config: <path to config.json>');
  if (m.path !== undefined) for (const k of ['preset', 'config', 'init', 'tokenizer'] as const) if (m[k] !== undefined) throw new ValidationError(`model.${k}`, 'not with model.path: the directory holds the config, weights and tokenizer');
  const model: ModelSection = {
    preset: m.preset === undefined ? undefined : parseEnum(m.preset, 'model.preset', ['demo'] as const),
    path: m.path === undefined ? undefined : resolve(baseDir, parseString(m.path, 'model.path')),
    configPath: m.config === undefined ? undefined : resolve(baseDir, parseString(m.config, 'model.config')),
    init: m.init === undefined ? undefined : resolve(baseDir, parseString(m.init, 'model.init')),
    tokenizer: m.tokenizer === undefined || m.tokenizer === 'char' ? 'char' : resolve(baseDir, parseString(m.tokenizer, 'model.tokenizer')),
  };

  const engine = compileEngine(top.engine);

  const dsRaw = section(top.datasets, 'datasets', Object.keys((top.datasets as RawObject | undefined) ?? {}));
  const datasets: Record<string, DatasetConfig> = {};
  for (const [name, v] of Object.entries(dsRaw)) {
    const d = section(v, `datasets.${name}`, ['path', 'domain', 'prompt_template', 'prompt', 'decimal_comma']);
    const domain = parseEnum(d.domain, `datasets.${name}.domain`, DOMAINS);
    const decimalComma = d.decimal_comma === undefined ? false : parseBool(d.decimal_comma, `datasets.${name}.decimal_comma`);
    if (decimalComma && domain !== 'math') throw new ValidationError(`datasets.${name}.decimal_comma`, `only applies to math datasets; "${name}" is ${domain}`);
    datasets[name] = {
      name, domain,
      path: resolve(baseDir, parseString(d.path, `datasets.${name}.path`)),
      prompt: compileDatasetPrompt(d, `datasets.${name}`, domain, model.path !== undefined),
      decimalComma,
    };
  }

  const a = section(top.algorithm, 'algorithm', ['mode', 'max_staleness', 'advantage', 'advantage_eps', 'eps_low', 'eps_high', 'kl_coef', 'entropy_coef', 'aggregation', 'updates_per_batch']);
  const mode = parseEnum(a.mode ?? 'sync', 'algorithm.mode', ['sync', 'async'] as const);
  const algorithm: AlgorithmConfig = {
    mode,
    maxStaleness: mode === 'sync' ? 0 : parseNumber(a.max_staleness ?? 1, 'algorithm.max_staleness', { integer: true, min: 1, max: 64 }),
    advantage: parseEnum(a.advantage ?? 'grpo', 'algorithm.advantage', ['grpo', 'grpo-no-std'] as const),
    advantageEps: parseNumber(a.advantage_eps ?? 1e-6, 'algorithm.advantage_eps', { min: 0 }),
    epsLow: parseNumber(a.eps_low ?? 0.2, 'algorithm.eps_low', { min: 0, max: 0.999 }),
    epsHigh: parseNumber(a.eps_high ?? 0.28, 'algorithm.eps_high', { min: 0 }),
    klCoef: parseNumber(a.kl_coef ?? 0, 'algorithm.kl_coef', { min: 0 }),
    entropyCoef: parseNumber(a.entropy_coef ?? 0, 'algorithm.entropy_coef'),
    aggregation: parseEnum(a.aggregation ?? 'token-mean', 'algorithm.aggregation', ['token-mean', 'seq-mean-token-mean', 'constant'] as const),
    updatesPerBatch: parseNumber(a.updates_per_batch ?? 1, 'algorithm.updates_per_batch', { integer: true, min: 1, max: 16 }),
  };
  if (mode === 'sync' && a.max_staleness !== undefined && a.max_staleness !== 0) throw new ValidationError('algorithm.max_staleness', 'only applies with mode: async');
  // The loss's KL term needs reference-policy logprobs per token, and the learner keeps no reference policy: refused rather than a KL against nothing.
  if (algorithm.klCoef > 0) throw new ValidationError('algorithm.kl_coef', 'must be 0: the learner keeps no reference policy to take a KL term against (the recipe uses none)');

  const o = section(top.optimizer, 'optimizer', ['lr', 'weight_decay', 'max_grad_norm', 'beta1', 'beta2', 'eps', 'schedule', 'warmup_steps', 'micro_batch_tokens']);
  const optimizer: OptimizerSection = {
    learningRate: parseNumber(o.lr ?? 1e-6, 'optimizer.lr', { min: 0 }),
    weightDecay: parseNumber(o.weight_decay ?? 0.0, 'optimizer.weight_decay', { min: 0 }),
    maxGradNorm: parseNumber(o.max_grad_norm ?? 1.0, 'optimizer.max_grad_norm', { min: 0 }),
    beta1: parseNumber(o.beta1 ?? 0.9, 'optimizer.beta1', { min: 0, max: 0.99999 }),
    beta2: parseNumber(o.beta2 ?? 0.999, 'optimizer.beta2', { min: 0, max: 0.99999999 }),
    eps: parseNumber(o.eps ?? 1e-8, 'optimizer.eps', { min: 0 }),
    schedule: parseEnum(o.schedule ?? 'constant', 'optimizer.schedule', ['constant', 'linear-warmup', 'cosine'] as const),
    warmupSteps: parseNumber(o.warmup_steps ?? 0, 'optimizer.warmup_steps', { integer: true, min: 0 }),
    microBatchTokens: parseTokens(o.micro_batch_tokens ?? 4096, 'optimizer.micro_batch_tokens'),
  };

  if (!Array.isArray(top.stages) || top.stages.length === 0) throw new ValidationError('stages', 'expected a non-empty list of stages');
  const stages: StageConfig[] = [];
  for (const [i, st] of (top.stages as unknown[]).entries()) stages.push(compileStage(st, i, datasets, stages[i - 1]));
  const names = new Set<string>();
  for (const [i, st] of stages.entries()) {
    if (names.has(st.name)) throw new ValidationError(`stages[${i}].name`, `"${st.name}" is used twice`);
    names.add(st.name);
  }

  const c = section(top.checkpoint, 'checkpoint', ['every_steps', 'keep', 'dir', 'max_shard_size']);
  const checkpoint = {
    everySteps: parseNumber(c.every_steps ?? 10, 'checkpoint.every_steps', { integer: true, min: 1 }),
    keep: parseNumber(c.keep ?? 3, 'checkpoint.keep', { integer: true, min: 1 }),
    dir: resolve(outDir, parseString(c.dir ?? 'checkpoints', 'checkpoint.dir')),
    maxShardBytes: c.max_shard_size === undefined ? undefined : parseBytes(c.max_shard_size, 'checkpoint.max_shard_size'),
  };

  const cl = section(top.cluster, 'cluster', ['nats', 'grpc_bind', 'grpc_advertise', 'ack_wait', 'step_timeout', 'metrics_port']);
  const nats = cl.nats === undefined ? ['nats://127.0.0.1:4222'] : Array.isArray(cl.nats) ? cl.nats.map((u, i) => parseString(u, `cluster.nats[${i}]`)) : [parseString(cl.nats, 'cluster.nats')];
  const cluster: ClusterConfig = {
    nats,
    grpcBind: parseString(cl.grpc_bind ?? '127.0.0.1:0', 'cluster.grpc_bind'),
    grpcAdvertise: cl.grpc_advertise === undefined ? undefined : parseString(cl.grpc_advertise, 'cluster.grpc_advertise'),
    ackWaitMs: parseDuration(cl.ack_wait ?? '30s', 'cluster.ack_wait'),
    stepTimeoutMs: parseDuration(cl.step_timeout ?? '10m', 'cluster.step_timeout'),
    metricsPort: cl.metrics_port === undefined ? undefined : parseNumber(cl.metrics_port, 'cluster.metrics_port', { integer: true, min: 0, max: 65535 }),
  };
  let evalCfg: EvalConfig | undefined;
  if (top.eval !== undefined) {
    const e = section(top.eval, 'eval', ['datasets', 'every_steps', 'at_stage_boundaries', 'k', 'temperature', 'top_p', 'max_response_tokens', 'max_prompts', 'timeout']);
    if (!Array.isArray(e.datasets) || e.datasets.length === 0) throw new ValidationError('eval.datasets', 'expected a non-empty list of dataset names');
    const names = e.datasets.map((d, i) => parseString(d, `eval.datasets[${i}]`));
    names.forEach((n, i) => {
      if (!datasets[n]) throw new ValidationError(`eval.datasets[${i}]`, `"${n}" is not one of the datasets (${Object.keys(datasets).join(', ')})`);
    });
    evalCfg = {
      datasets: names,
      everySteps: parseNumber(e.every_steps ?? 0, 'eval.every_steps', { integer: true, min: 0 }),
      atStageBoundaries: e.at_stage_boundaries === undefined ? true : parseBool(e.at_stage_boundaries, 'eval.at_stage_boundaries'),
      k: parseNumber(e.k ?? 4, 'eval.k', { integer: true, min: 1, max: 1024 }),
      temperature: parseNumber(e.temperature ?? 0.6, 'eval.temperature', { min: 0 }),
      topP: parseNumber(e.top_p ?? 0.95, 'eval.top_p', { min: 0.001, max: 1 }),
      maxResponseTokens: e.max_response_tokens === undefined ? 0 : parseTokens(e.max_response_tokens, 'eval.max_response_tokens'),
      maxPrompts: parseNumber(e.max_prompts ?? 0, 'eval.max_prompts', { integer: true, min: 0 }),
      timeoutMs: parseDuration(e.timeout ?? '30m', 'eval.timeout'),
    };
  }
  stages.forEach((st, i) => {
    if (st.plateau && !evalCfg?.datasets.includes(st.plateau.dataset)) throw new ValidationError(`stages[${i}].plateau.dataset`, `"${st.plateau.dataset}" must be one of eval.datasets`);
    if (st.plateau && !evalCfg?.everySteps) throw new ValidationError(`stages[${i}].plateau`, 'needs eval.every_steps > 0 (the plateau is measured on periodic evaluations)');
    // A reset puts the optimizer's step count (the schedule's position) back to 0: a warmup restarts with the stage, but a cosine over the whole run's steps would restart at its peak.
    if (st.resetOptimizer && optimizer.schedule === 'cosine') throw new ValidationError(`stages[${i}].reset_optimizer`, 'not with optimizer.schedule: cosine (the reset restarts the schedule, and the cosine spans the whole run); use constant or linear-warmup');
  });
  return { runId, seed, outDir, model, engine, datasets, algorithm, optimizer, stages, checkpoint, cluster, streams: parseStreams(top.streams), eval: evalCfg };
}

const OPENAI_KEYS = ['url', 'model', 'weights', 'api_key_env', 'max_concurrency', 'request_timeout', 'probe_tolerance'] as const;

/** `engine:` the learner's threads and execution provider; with `kind: openai` also the actors' inference server. */
function compileEngine(raw: unknown): RunConfig['engine'] {
  const e = section(raw, 'engine', ['kind', 'execution_provider', 'threads', 'generation_dtype', ...OPENAI_KEYS]);
  const kind = parseEnum(e.kind ?? 'embedded', 'engine.kind', ['embedded', 'openai'] as const);
  if (kind === 'embedded') for (const k of OPENAI_KEYS) if (e[k] !== undefined) throw new ValidationError(`engine.${k}`, 'only with engine.kind: openai (an OpenAI-compatible server as the actors\' rollout engine)');
  const rollout = kind === 'embedded' ? undefined : resolveOpenAIEngine({
    url: e.url, model: e.model, weights: e.weights, apiKeyEnv: e.api_key_env, maxConcurrency: e.max_concurrency,
    requestTimeoutMs: e.request_timeout === undefined ? undefined : parseDuration(e.request_timeout, 'engine.request_timeout'), probeTolerance: e.probe_tolerance,
  }, { url: 'engine.url', model: 'engine.model', weights: 'engine.weights', apiKeyEnv: 'engine.api_key_env', maxConcurrency: 'engine.max_concurrency', requestTimeoutMs: 'engine.request_timeout', probeTolerance: 'engine.probe_tolerance' });
  return {
    executionProvider: parseEnum(e.execution_provider ?? 'cpu', 'engine.execution_provider', ['cpu', 'cuda'] as const),
    threads: parseNumber(e.threads ?? 1, 'engine.threads', { integer: true, min: 1, max: 256 }),
    rollout,
    generationDtype: compileGenerationDtype(e.generation_dtype, kind),
  };
}

/**
 * `engine.generation_dtype`: float32 (default) or float16 copies of the weights for the actors'
 * generation graphs. bfloat16 is refused: ONNX Runtime's CPU provider has no bfloat16 kernels for
 * these graphs and onnxruntime-node cannot feed bfloat16 tensors.
 */
function compileGenerationDtype(raw: unknown, kind: 'embedded' | 'openai'): GenerationDtypeSetting {
  if (raw === undefined) return 'float32';
  if (kind === 'openai') throw new ValidationError('engine.generation_dtype', 'only with the embedded engine: an inference server chooses its own precision');
  if (raw === 'bfloat16') throw new ValidationError('engine.generation_dtype', 'bfloat16 is not supported (ONNX Runtime\'s CPU provider has no bfloat16 kernels for the generation graphs, and onnxruntime-node cannot feed bfloat16 tensors); use float16 or float32');
  return parseEnum(raw, 'engine.generation_dtype', ['float32', 'float16'] as const);
}
