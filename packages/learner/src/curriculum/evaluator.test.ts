/**
 * Held-out evaluation on a real nats-server: eval tasks out through the TaskPublisher, their
 * groups back through a real durable consumer and the StepCollector. An evaluation run again with
 * the same round, step and weights (what a learner restarted from the checkpoint before it does)
 * publishes new tasks: the first run's groups were acked as they came, so copies the server drops
 * as duplicates would leave the second run with nothing but missing prompts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, Consumers, Streams, Subjects } from '@acereason/protocol';
import { consume, jetstreamClient, publishMessage, silentLogger } from '@acereason/transport';
import { natsFixture, tempDir } from '@acereason/testkit';
import { CharTokenizer, DEMO_ALPHABET } from '@acereason/policy';
import { StepCollector } from '../loop/collector.js';
import { TaskPublisher } from '../loop/task-publisher.js';
import { answer, loopConfig, loopDataset, makeLedger, publishedTasks, RUN, SHA } from '../loop/ledger-testkit.js';
import type { EvalConfig } from './eval.js';
import { runEvaluation, type EvaluationRequest } from './evaluator.js';

test('an evaluation run again after a restart (same round, step and weights) publishes fresh tasks and gets every group back', async () => {
  await using f = await natsFixture();
  await using dir = await tempDir();
  const config = loopConfig();
  const stage = config.stages[0] as (typeof config.stages)[number];
  const js = jetstreamClient(f.nc);
  const collector = new StepCollector(makeLedger(f, config));
  const consumer = await consume(f.nc, { stream: Streams.SCORED, durable: Consumers.learner(RUN), filterSubject: Subjects.scored(RUN), codec: codecs.ScoredGroup, maxInFlight: 64, maxAckPending: 64, ackWaitMs: 5000 });
  const pumping = collector.pump(consumer);
  // Verifiers stand-in: every eval task that appears is answered once, half its samples correct.
  const answered = new Set<string>();
  const answering = setInterval(() => void (async () => {
    for (const t of await publishedTasks(f)) {
      if (t.task.purpose.kind !== 'eval' || answered.has(t.id)) continue;
      answered.add(t.id);
      await publishMessage(js, Subjects.scored(RUN), codecs.ScoredGroup, answer(t, [1, 0]));
    }
  })(), 100);
  try {
    const ev: EvalConfig = { datasets: ['m'], everySteps: 0, atStageBoundaries: true, k: 2, temperature: 1, topP: 1, maxResponseTokens: 0, maxPrompts: 3, timeoutMs: 5000 };
    const request: EvaluationRequest = {
      eval: ev, stage, round: 1, trigger: { kind: 'before-training' }, runId: RUN, step: 0, version: 0, sha256: SHA,
      datasets: { m: loopDataset() }, datasetConfigs: config.datasets,
      baseContext: { runId: RUN, seed: config.seed, stage, dataset: config.datasets.m as (typeof config.datasets)[string], tokenizer: new CharTokenizer(DEMO_ALPHABET) },
      collector, tasks: new TaskPublisher({ runId: RUN, js, codeTests: f.topology.codeTests, logger: silentLogger() }), outDir: dir.path, logger: silentLogger(),
    };
    const first = await runEvaluation(request);
    assert.deepEqual(first.map((r) => [r.prompts, r.missing, r.avgAtK]), [[3, 0, 0.5]]);
    const again = await runEvaluation(request);
    assert.deepEqual(again.map((r) => [r.prompts, r.missing, r.avgAtK]), [[3, 0, 0.5]], 'the second run is not left with missing prompts');
    const evalTasks = (await publishedTasks(f)).filter((t) => t.task.purpose.kind === 'eval');
    assert.equal(evalTasks.length, 6);
    assert.equal(new Set(evalTasks.map((t) => t.id)).size, 6);
  } finally {
    clearInterval(answering);
    consumer.stop();
    await pumping;
  }
});
