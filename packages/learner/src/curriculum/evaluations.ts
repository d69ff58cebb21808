/**
 * When the learner evaluates, and how many rounds it ran: before training and at stage ends
 * (`eval.at_stage_boundaries`), and every `eval.every_steps` steps (the StageScheduler says when
 * one is due). Each round runs through the cluster (runEvaluation); the round count is
 * checkpointed, since eval task ids carry it.
 */
import type { Logger } from '@acereason/transport';
import type { RunConfig, StageConfig } from '../config/run-config.js';
import type { Dataset } from '../data/dataset.js';
import type { StepCollector } from '../loop/collector.js';
import type { TaskPublisher } from '../loop/task-publisher.js';
import type { TaskContext } from '../loop/tasks.js';
import type { EvalResult, EvalTrigger } from './eval.js';
import { runEvaluation } from './evaluator.js';

/** Where the run is when an evaluation starts. */
export interface EvalPoint {
  /** The current stage (undefined once every stage ran). */
  stage: StageConfig | undefined;
  stageIndex: number;
  step: number;
  version: number;
  sha256: string;
}

export interface EvaluationsOptions {
  config: RunConfig;
  datasets: Record<string, Dataset>;
  collector: StepCollector;
  tasks: TaskPublisher;
  logger: Logger;
  /** The task context of a stage, which eval tasks inherit. */
  context: (stageIndex: number) => TaskContext;
  now: () => EvalPoint;
}

export class Evaluations {
  private rounds: number | undefined;

  constructor(private readonly o: EvaluationsOptions, resumedRounds?: number) {
    this.rounds = resumedRounds;
  }

  /** The checkpointed part: the rounds run so far (absent before the first). */
  snapshot(): { evalRounds?: number } {
    return this.rounds !== undefined ? { evalRounds: this.rounds } : {};
  }

  /** The baseline round of a run that evaluates at stage boundaries (not again after a resume). */
  async beforeTraining(step: number): Promise<void> {
    if (this.o.config.eval?.atStageBoundaries && step === 0 && (this.rounds ?? 0) === 0) await this.run({ kind: 'before-training' });
  }

  /** The round at the end of a stage, when the run evaluates at stage boundaries. */
  async stageEnd(stage: StageConfig): Promise<void> {
    if (this.o.config.eval?.atStageBoundaries) await this.run({ kind: 'stage-end', stage: stage.name });
  }

  /** A periodic round (the scheduler says when one is due). */
  periodic(): Promise<EvalResult[]> {
    return this.run({ kind: 'periodic', everySteps: this.o.config.eval?.everySteps ?? 0 });
  }

  /** Held-out evaluation through the cluster (see evaluator.ts), of the current stage's limits (the last stage's once every stage ran). */
  async run(trigger: EvalTrigger): Promise<EvalResult[]> {
    const c = this.o.config;
    const ev = c.eval;
    const at = this.o.now();
    const stage = at.stage ?? c.stages[c.stages.length - 1];
    if (!ev || !stage) return [];
    const round = (this.rounds = (this.rounds ?? 0) + 1);
    return runEvaluation({
      eval: ev, stage, round, trigger, runId: c.runId, step: at.step, version: at.version, sha256: at.sha256,
      datasets: this.o.datasets, datasetConfigs: c.datasets, baseContext: this.o.context(at.stageIndex),
      collector: this.o.collector, tasks: this.o.tasks, outDir: c.outDir, logger: this.o.logger,
    });
  }
}
