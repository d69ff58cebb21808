/**
 * Held-out evaluation through the cluster: eval tasks (k samples per prompt at evaluation
 * settings) go to the actors and verifiers like any task, their groups come back to the learner's
 * collector and are never trained on. Results go to evals.jsonl; groups that do not come back
 * within eval.timeout count as missing.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@acereason/transport';
import type { DatasetConfig, StageConfig } from '../config/run-config.js';
import type { Dataset } from '../data/dataset.js';
import type { StepCollector } from '../loop/collector.js';
import { makeTask, type TaskContext } from '../loop/tasks.js';
import type { TaskPublisher } from '../loop/task-publisher.js';
import { describeTrigger, summarizeEval, type EvalConfig, type EvalRecord, type EvalResult, type EvalTrigger } from './eval.js';

export interface EvaluationRequest {
  eval: EvalConfig;
  /** The stage the evaluation belongs to (its limits are the default). */
  stage: StageConfig;
  round: number;
  trigger: EvalTrigger;
  runId: string;
  step: number;
  version: number;
  sha256: string;
  datasets: Record<string, Dataset>;
  datasetConfigs: Record<string, DatasetConfig>;
  baseContext: TaskContext;
  collector: StepCollector;
  tasks: TaskPublisher;
  outDir: string;
  logger: Logger;
}

export async function runEvaluation(r: EvaluationRequest): Promise<EvalResult[]> {
  const ev = r.eval;
  const perDataset = new Map<string, { n: number; c: number }[]>();
  const items: Parameters<TaskPublisher['publish']>[0][number][] = [];
  // Fresh task ids for this run of the evaluation (see taskMessageId).
  const evalAttempt = randomUUID().slice(0, 8);
  for (const name of ev.datasets) {
    const ds = r.datasets[name] as Dataset;
    const prompts = ev.maxPrompts > 0 ? ds.prompts.slice(0, ev.maxPrompts) : ds.prompts;
    const evalStage: StageConfig = { ...r.stage, domain: ds.domain, dataset: name, groupSize: ev.k, topP: ev.topP, topK: 0, maxResponseTokens: ev.maxResponseTokens || r.stage.maxResponseTokens };
    const ctx: TaskContext = { ...r.baseContext, stage: evalStage, dataset: r.datasetConfigs[name] as DatasetConfig };
    perDataset.set(name, []);
    prompts.forEach((prompt, i) => {
      items.push({ prompt, task: makeTask(ctx, { task: { step: r.step, slot: i, retry: 0, purpose: { kind: 'eval', dataset: name, round: r.round } }, prompt, version: r.version, sha256: r.sha256, temperature: ev.temperature, evalAttempt }) });
    });
  }
  const tasks = items.map((x) => x.task);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  let pending = tasks.length;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const release = r.collector.expectEval(tasks.map((t) => t.id), (g) => {
    if (!byId.has(g.id) || g.task.purpose.kind !== 'eval') return;
    perDataset.get(g.task.purpose.dataset)?.push({ n: g.results.length, c: g.results.filter((x) => x.correct).length });
    if (--pending === 0) done();
  });
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await r.tasks.publish(items);
    await Promise.race([finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, ev.timeoutMs)))]);
  } finally {
    clearTimeout(timer);
    release();
  }
  const results: EvalResult[] = ev.datasets.map((name) => {
    const got = perDataset.get(name) ?? [];
    const expected = tasks.filter((t) => t.task.purpose.kind === 'eval' && t.task.purpose.dataset === name).length;
    const sum = summarizeEval(got, ev.k);
    return { dataset: name, step: r.step, stage: r.stage.name, policyVersion: r.version, prompts: got.length, k: ev.k, avgAtK: sum.avgAtK, passAtK: sum.passAtK, missing: expected - got.length };
  });
  const reason = describeTrigger(r.trigger);
  const seconds = (performance.now() - t0) / 1000;
  for (const x of results) {
    const line: EvalRecord = { reason, trigger: r.trigger, ...x, seconds };
    appendFileSync(join(r.outDir, 'evals.jsonl'), JSON.stringify(line) + '\n');
  }
  r.logger.info({ reason, results: results.map((x) => ({ dataset: x.dataset, avg: +x.avgAtK.toFixed(4), passAtK: +x.passAtK.toFixed(4), missing: x.missing })) }, 'evaluation done');
  return results;
}
