/**
 * Which rollout engine an actor runs: the embedded ONNX engine, or an OpenAI-compatible inference
 * server named by the run spec (`engine: {kind: openai, ...}` in the run file) with the actor's
 * `--engine-*` flags overriding it field by field.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AceReasonError, codecs, ErrorCodes, Keys, resolveOpenAIEngine, ValidationError, type OpenAIEngineSpec, type RunSpec, type VersionProbe } from '@acereason/protocol';
import { Backoff, type Logger, type Topology } from '@acereason/transport';
import { createOnnxEngine, modelDirFiles, type ModelConfig, type OnnxEngine, type RolloutEngine } from '@acereason/policy';
import { OpenAIRolloutEngine } from './openai/openai-engine.js';

export interface EngineFlags {
  engine?: string | undefined;
  'engine-url'?: string | undefined;
  'engine-model'?: string | undefined;
  'engine-weights'?: string | undefined;
  'engine-api-key-env'?: string | undefined;
  'engine-max-concurrency'?: string | undefined;
  'engine-request-timeout-ms'?: string | undefined;
  'engine-weights-dir'?: string | undefined;
  'engine-retry-for-ms'?: string | undefined;
}

export const ENGINE_FLAGS = {
  engine: { type: 'string' }, 'engine-url': { type: 'string' }, 'engine-model': { type: 'string' }, 'engine-weights': { type: 'string' },
  'engine-api-key-env': { type: 'string' }, 'engine-max-concurrency': { type: 'string' }, 'engine-request-timeout-ms': { type: 'string' }, 'engine-weights-dir': { type: 'string' }, 'engine-retry-for-ms': { type: 'string' },
} as const;

export const ENGINE_USAGE = '[--engine embedded|openai] [--engine-url URL] [--engine-model NAME] [--engine-weights acereason|sglang|vllm] [--engine-api-key-env NAME] [--engine-max-concurrency N] [--engine-request-timeout-ms MS] [--engine-weights-dir DIR] [--engine-retry-for-ms MS]';

/** The inference server this actor samples from, or undefined for the embedded engine. */
export function openAIEngineOf(spec: RunSpec, f: EngineFlags): OpenAIEngineSpec | undefined {
  const kind = f.engine ?? (spec.rolloutEngine ? 'openai' : 'embedded');
  if (kind !== 'embedded' && kind !== 'openai') throw new ValidationError('--engine', `expected embedded or openai, got ${JSON.stringify(kind)}`);
  if (kind === 'embedded') return undefined;
  const base: Partial<OpenAIEngineSpec> = spec.rolloutEngine ?? {};
  return resolveOpenAIEngine({
    url: f['engine-url'] ?? base.url, model: f['engine-model'] ?? base.model, weights: f['engine-weights'] ?? base.weights,
    apiKeyEnv: f['engine-api-key-env'] ?? base.apiKeyEnv, maxConcurrency: f['engine-max-concurrency'] ?? base.maxConcurrency,
    requestTimeoutMs: f['engine-request-timeout-ms'] ?? base.requestTimeoutMs, probeTolerance: base.probeTolerance,
  }, { url: '--engine-url', model: '--engine-model', weights: '--engine-weights', apiKeyEnv: '--engine-api-key-env', maxConcurrency: '--engine-max-concurrency', requestTimeoutMs: '--engine-request-timeout-ms', probeTolerance: 'engine.probe_tolerance' });
}

/** Waits for the learner's probe of `version` in the run-state bucket. */
export function probeReader(topology: Topology, runId: string, timeoutMs = 60_000): (version: number, signal?: AbortSignal) => Promise<VersionProbe> {
  return async (version, signal) => {
    const deadline = Date.now() + timeoutMs;
    const poll = new Backoff({ initialMs: 50, maxMs: 1000 });
    for (;;) {
      const e = await topology.runState.get(Keys.probe(runId, version)).catch(() => null);
      if (e && e.operation === 'PUT' && e.length > 0) return codecs.VersionProbe.decode(e.value);
      if (Date.now() > deadline || signal?.aborted) throw new AceReasonError(ErrorCodes.UNAVAILABLE, `the learner published no probe for version ${version} (waited ${timeoutMs} ms)`, { retryable: true });
      await poll.wait(signal);
    }
  };
}

export interface RolloutEngineOptions {
  spec: RunSpec;
  /** The run's asset files (tokenizer.json, config.json ...), fetched and checked: they go into each version's directory. */
  assets: Readonly<Record<string, Uint8Array>>;
  flags: EngineFlags;
  topology: Topology;
  actorId: string;
  executionProvider: 'cpu' | 'cuda';
  threads: number;
  /** The actor's task lease: a failing server is retried about this long before the task goes back. */
  ackWaitMs: number;
  logger: Logger;
}

/** The embedded engine the run spec asks for: its model, and its generation precision (`engine.generation_dtype`). */
export function embeddedRolloutEngine(spec: RunSpec, executionProvider: 'cpu' | 'cuda', threads: number): Promise<OnnxEngine> {
  // Inference only: an actor never trains, so generation uses the engine's buffers (each loaded version's own) without a copy.
  return createOnnxEngine({ model: spec.model as ModelConfig, executionProvider, threads, inferenceOnly: true, generationDtype: spec.generationDtype ?? 'float32' });
}

export async function createRolloutEngine(o: RolloutEngineOptions): Promise<RolloutEngine> {
  const server = openAIEngineOf(o.spec, o.flags);
  if (!server) return embeddedRolloutEngine(o.spec, o.executionProvider, o.threads);
  if (server.weights === 'none') throw new ValidationError('--engine-weights', 'weights: none cannot train: the server\'s weights would not be the learner\'s (use it for acereason eval --endpoint)');
  o.logger.info({ url: server.url, model: server.model, weights: server.weights }, 'rollouts from an inference server');
  return new OpenAIRolloutEngine({
    spec: server, model: o.spec.model as ModelConfig, files: modelDirFiles(o.spec.tokenizer, o.assets),
    weightsDir: o.flags['engine-weights-dir'] ?? join(tmpdir(), 'acereason-versions', o.spec.runId, o.actorId),
    probe: probeReader(o.topology, o.spec.runId), retryForMs: retryFor(o.flags['engine-retry-for-ms'], o.ackWaitMs), logger: o.logger.child({ component: 'rollout-engine' }),
  });
}

/** How long a failing server is retried before its task goes back to the queue: default twice the lease, at least 10 s. */
function retryFor(flag: string | undefined, ackWaitMs: number): number {
  if (flag === undefined) return Math.max(10_000, 2 * ackWaitMs);
  const n = Number(flag);
  if (!Number.isInteger(n) || n < 0) throw new ValidationError('--engine-retry-for-ms', `expected a number of milliseconds >= 0, got ${JSON.stringify(flag)}`);
  return n;
}
