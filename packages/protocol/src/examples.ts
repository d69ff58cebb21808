/** Example messages, valid by construction: used by tests and benchmarks across packages. */
import { SCHEMA_VERSION, type RolloutTask, type TrajectoryGroup, type ScoredGroup, type WeightsAnnounced, type Heartbeat, type StageChanged, type TaskIdentity } from './messages.js';

export interface ExampleOptions {
  runId?: string;
  groupSize?: number;
  tokensPerResponse?: number;
  id?: string;
}

function pseudoRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export function exampleIdentity(): TaskIdentity {
  return { step: 3, slot: 0, retry: 0, purpose: { kind: 'train' } };
}

export function exampleTask(o: ExampleOptions = {}): RolloutTask {
  return {
    schema: SCHEMA_VERSION, kind: 'RolloutTask', runId: o.runId ?? 'run1', id: o.id ?? 'task-1', createdAtMs: 1_700_000_000_000,
    task: exampleIdentity(), stage: 'math-8k', promptId: 'p-17', domain: 'math', promptTokens: new Uint32Array([1, 2, 3, 4]),
    groupSize: o.groupSize ?? 8,
    sampling: { temperature: 0.6, topP: 1, topK: 0, maxNewTokens: 8192, stopTokens: [0] },
    seed: 42, sampleKey: '3.0.0', policyVersion: 3, weightsSha256: 'ab'.repeat(32),
    reference: { type: 'math', answer: '\\frac{1}{2}' },
  };
}

export function exampleGroup(o: ExampleOptions = {}): TrajectoryGroup {
  const g = o.groupSize ?? 16;
  const n = o.tokensPerResponse ?? 64;
  const rnd = pseudoRandom(7);
  const responses = Array.from({ length: g }, (_, i) => {
    const tokens = new Uint32Array(n);
    const logprobs = new Float32Array(n);
    for (let t = 0; t < n; t++) {
      tokens[t] = Math.floor(rnd() * 151_000);
      logprobs[t] = -rnd() * 5;
    }
    return { tokens, logprobs, entropy: 0.3, finishReason: (i % 5 === 0 ? 'length' : 'stop') as 'stop' | 'length', text: `response ${i} \\boxed{${i}}` };
  });
  return {
    schema: SCHEMA_VERSION, kind: 'TrajectoryGroup', runId: o.runId ?? 'run1', id: o.id ?? 'task-1', createdAtMs: 1_700_000_000_000,
    task: exampleIdentity(), stage: 'math-8k', promptId: 'p-17', domain: 'math', promptTokens: new Uint32Array([1, 2, 3, 4]),
    policyVersion: 3, weightsSha256: 'ab'.repeat(32), actorId: 'actor-a', responses,
    reference: { type: 'math', answer: '\\frac{1}{2}' },
    timings: { queuedMs: 1, weightFetchMs: 0, generateMs: 1234 },
  };
}

export function exampleScored(o: ExampleOptions = {}): ScoredGroup {
  const group = exampleGroup(o);
  return {
    schema: SCHEMA_VERSION, kind: 'ScoredGroup', runId: group.runId, id: group.id, createdAtMs: 1_700_000_000_001,
    task: exampleIdentity(), group,
    results: group.responses.map((_, i) => ({ reward: i % 2, status: i % 2 ? 'correct' : 'wrong', correct: i % 2 === 1, extracted: String(i), reason: 'checked', latencyMs: 0.2 })),
    verifierId: 'verifier-a', verifyMs: 3,
  };
}

export function exampleWeightsAnnounced(o: ExampleOptions = {}): WeightsAnnounced {
  return { schema: SCHEMA_VERSION, kind: 'WeightsAnnounced', runId: o.runId ?? 'run1', id: o.id ?? 'w-4', createdAtMs: 1, version: 4, weightsSha256: 'cd'.repeat(32), address: '127.0.0.1:5000', totalBytes: 1024 };
}

export function exampleHeartbeat(o: ExampleOptions = {}): Heartbeat {
  return { schema: SCHEMA_VERSION, kind: 'Heartbeat', runId: o.runId ?? 'run1', id: o.id ?? 'hb-1', createdAtMs: 1, role: 'actor', workerId: 'actor-a', host: 'localhost', pid: 123, state: 'running', inFlight: 2, processed: 10, policyVersion: 4, throughput: 100.5 };
}

export function exampleStageChanged(o: ExampleOptions = {}): StageChanged {
  return { schema: SCHEMA_VERSION, kind: 'StageChanged', runId: o.runId ?? 'run1', id: o.id ?? 'stage-1', createdAtMs: 1, fromStage: 'math-8k', toStage: 'math-16k', stageIndex: 1, step: 100, reason: 'step budget reached' };
}
