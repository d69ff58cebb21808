/**
 * Held-out evaluation through the cluster: eval tasks (k samples per prompt at evaluation
 * settings) go to the actors and verifiers like any task, their groups come back to the learner's
 * collector and are never trained on. Results go to evals.jsonl; groups that do not come back
 * within eval.timeout count as missing.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { codecs, Subjects } from '@acereason/protocol';
import { publishMessage, type jetstreamClient, type Logger } from '@acereason/transport';
import type { DatasetConfig, StageConfig } from '../config/run-config.js';
import type { Dataset } from '../data/dataset.js';
import { EVAL_MARK, type StepCollector } from '../loop/collector.js';
import { makeTask, type TaskContext } from '../loop/tasks.js';
import { summarizeEval, type EvalConfig, type EvalResult } from './eval.js';

export interface EvaluationRequest {
  eval: EvalConfig;
  /** The stage the evaluation belongs to (its limits are the default). */
  stage: StageConfig;
  round: number;
  reason: string;
  runId: string;
  step: number;
  version: number;
  sha256: string;
  datasets: Record<string, Dataset>;
  datasetConfigs: Record<string, DatasetConfig>;
  baseContext: TaskContext;
  collector: StepCollector;
  js: ReturnType<typeof jetstreamClient>;
  outDir: string;
  logger: Logger;
}

export async function runEvaluation(r: EvaluationRequest): Promise<EvalResult[]> {
  const ev = r.eval;
  const sha8 = r.sha256.slice(0, 8);
  const perDataset = new Map<string, { n: number; c: number }[]>();
  const tasks: ReturnType<typeof makeTask>[] = [];
  for (const name of ev.datasets) {
    const ds = r.datasets[name] as Dataset;
    const prompts = ev.maxPrompts > 0 ? ds.prompts.slice(0, ev.maxPrompts) : ds.prompts;
    const evalStage: StageConfig = { ...r.stage, name: `eval-${name}`, domain: ds.domain, dataset: name, groupSize: ev.k, topP: ev.topP, topK: 0, maxResponseTokens: ev.maxResponseTokens || r.stage.maxResponseTokens };
    const ctx: TaskContext = { ...r.baseContext, stage: evalStage, dataset: r.datasetConfigs[name] as DatasetConfig };
    perDataset.set(name, []);
    prompts.forEach((prompt, i) => {
      const t = makeTask(ctx, { step: r.step, slot: i, retry: 0, prompt, version: r.version, sha256: r.sha256, temperature: ev.temperature });
      tasks.push({ ...t, id: `${r.runId}${EVAL_MARK}${r.round}.${name}.${i}.${sha8}`, sampleKey: `eval.${r.round}.${name}.${i}`, stage: evalStage.name });
    });
  }
  const byId = new Map(tasks.map((t) => [t.id, t]));
  let pending = tasks.length;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const release = r.collector.expectEval(tasks.map((t) => t.id), (g) => {
    const t = byId.get(g.id);
    if (!t) return;
    perDataset.get(t.stage.slice('eval-'.length))?.push({ n: g.results.length, c: g.results.filter((x) => x.correct).length });
    if (--pending === 0) done();
  });
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    for (const t of tasks) await publishMessage(r.js, Subjects.task(r.runId, t.domain), codecs.RolloutTask, t);
    await Promise.race([finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, ev.timeoutMs)))]);
  } finally {
    clearTimeout(timer);
    release();
  }
  const results: EvalResult[] = ev.datasets.map((name) => {
    const got = perDataset.get(name) ?? [];
    const expected = tasks.filter((t) => t.stage === `eval-${name}`).length;
    const sum = summarizeEval(got, ev.k);
    return { dataset: name, step: r.step, stage: r.stage.name, policyVersion: r.version, prompts: got.length, k: ev.k, avgAtK: sum.avgAtK, passAtK: sum.passAtK, missing: expected - got.length };
  });
  for (const x of results) appendFileSync(join(r.outDir, 'evals.jsonl'), JSON.stringify({ reason: r.reason, ...x, seconds: (performance.now() - t0) / 1000 }) + '\n');
  r.logger.info({ reason: r.reason, results: results.map((x) => ({ dataset: x.dataset, avg: +x.avgAtK.toFixed(4), passAtK: +x.passAtK.toFixed(4), missing: x.missing })) }, 'evaluation done');
  return results;
}
