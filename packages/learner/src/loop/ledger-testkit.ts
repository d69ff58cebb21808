/**
 * Test support for the step loop's parts (StepLedger, StepCollector): a one-stage math run config,
 * a small dataset, a ledger publishing to a real nats-server, the tasks it published read back
 * from the stream, and scored groups answering them. Not exported from the package.
 */
import { codecs, exampleScored, Streams, type RolloutTask, type ScoredGroup } from '@acereason/protocol';
import { jetstreamClient, silentLogger } from '@acereason/transport';
import type { NatsFixture } from '@acereason/testkit';
import { CharTokenizer, DEMO_ALPHABET } from '@acereason/policy';
import { compileRunConfig, type RunConfig } from '../config/run-config.js';
import type { Dataset } from '../data/dataset.js';
import { StepLedger, type StepLedgerOptions } from './step-ledger.js';
import { TaskPublisher } from './task-publisher.js';
import type { PublishedStep } from '../checkpoint/checkpoint.js';

export const RUN = 'ledgertest';
export const SHA = 'ab'.repeat(32);

/** One math stage of 2 prompts x 4 responses (stage keys override). */
export function loopConfig(stage: Record<string, unknown> = {}): RunConfig {
  return compileRunConfig({
    run: { id: RUN, seed: 3 }, model: { preset: 'demo' }, datasets: { m: { path: 'm.jsonl', domain: 'math', prompt_template: '{problem}=' } },
    stages: [{ name: 's', dataset: 'm', steps: 4, batch_prompts: 2, group_size: 4, max_response_tokens: 8, ...stage }],
  });
}

export function loopDataset(n = 12): Dataset {
  return { name: 'm', domain: 'math', prompts: Array.from({ length: n }, (_, i) => ({ id: `p${i}`, problem: `${i}+1`, reference: { type: 'math' as const, answer: String(i + 1), decimalComma: false } })) };
}

export function makeLedger(f: NatsFixture, config: RunConfig, o: Partial<Pick<StepLedgerOptions, 'provenance' | 'onRegistered'>> = {}, resumed: PublishedStep[] = []): StepLedger {
  const dataset = loopDataset();
  const tokenizer = new CharTokenizer(DEMO_ALPHABET);
  return new StepLedger({
    runId: RUN, tasks: new TaskPublisher({ runId: RUN, js: jetstreamClient(f.nc), codeTests: f.topology.codeTests, logger: silentLogger() }), datasets: { m: dataset }, algorithm: config.algorithm, logger: silentLogger(),
    context: (i) => ({ runId: RUN, seed: config.seed, stage: config.stages[i] as RunConfig['stages'][number], dataset: config.datasets.m as RunConfig['datasets'][string], tokenizer }),
    provenance: o.provenance ?? ((g) => g.group.weightsSha256 === SHA),
    ...(o.onRegistered ? { onRegistered: o.onRegistered } : {}),
  }, resumed);
}

/** A step as the learner draws it: prompts 0..n-1, stamped version 0 with SHA. */
export function stepOf(step: number, prompts: number[]): PublishedStep {
  return { step, stageIndex: 0, stageEnteredAt: 0, prompts, version: 0, sha256: SHA, retries: prompts.map(() => 0), temperature: 1 };
}

/** Every task the ledger has published so far, in stream order. */
export async function publishedTasks(f: NatsFixture): Promise<RolloutTask[]> {
  const info = await f.topology.jsm.streams.info(Streams.TASKS);
  const out: RolloutTask[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await f.topology.jsm.streams.getMessage(Streams.TASKS, { seq }).catch(() => null);
    if (m) out.push(codecs.RolloutTask.decode(m.data));
  }
  return out;
}

/** The scored group a verifier would send back for `task`, with these rewards (and weights hash). */
export function answer(task: RolloutTask, rewards: readonly number[], sha = task.weightsSha256): ScoredGroup {
  const sg = exampleScored({ runId: RUN, id: task.id, groupSize: rewards.length, tokensPerResponse: 4 });
  sg.task = sg.group.task = task.task;
  sg.group.policyVersion = task.policyVersion;
  sg.group.weightsSha256 = sha;
  sg.group.responses.forEach((r) => (r.finishReason = 'stop'));
  sg.results = rewards.map((reward) => ({ reward, status: reward ? 'correct' : 'wrong', correct: reward === 1, reason: '', latencyMs: 0 }));
  return sg;
}
