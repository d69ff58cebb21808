/**
 * Where the run is in its stages, and what decides the next one: the stage plan fixed when a
 * stage starts (prompts its filters drop, step budget, starting temperature), the prompt
 * samplers and their cursors, which prompts are eligible, the step budget, an operator's request
 * to advance, the plateau rule on the held-out eval, and the temperature between steps.
 */
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import type { Logger } from '@acereason/transport';
import type { RunConfig, StageConfig } from '../config/run-config.js';
import type { Dataset } from '../data/dataset.js';
import { PromptSampler, type Cursor } from '../data/prompt-sampler.js';
import type { LearnerState } from '../checkpoint/checkpoint.js';
import type { PassRateTable } from './pass-rates.js';
import type { StageEntry } from '../loop/tasks.js';
import { isFilterActive, solvedLastTime, stageStartVerdict } from './filters.js';
import { initialTemperature, nextTemperature } from './temperature.js';
import { plateaued, type EvalResult } from './eval.js';

/** The part of the learner's checkpointed state the scheduler owns. */
export type StagePosition = Pick<LearnerState, 'stageIndex' | 'stageStep' | 'stagePlan' | 'temperature' | 'plateauHistory' | 'cursors'>;

export interface StageTransition {
  to: number;
  reason: string;
}

export class StageScheduler {
  private readonly pos: StagePosition;
  private readonly samplers = new Map<string, PromptSampler>();
  private excluded: Set<number>;
  private advanceTo: { kind: 'next' } | { kind: 'named'; index: number } | undefined;
  private plateauEnded = false;

  constructor(private readonly o: { config: RunConfig; datasets: Record<string, Dataset>; passRates: PassRateTable; logger: Logger }, resumed?: StagePosition) {
    this.pos = resumed
      ? { stageIndex: resumed.stageIndex, stageStep: resumed.stageStep, cursors: { ...resumed.cursors }, ...pick(resumed) }
      : { stageIndex: 0, stageStep: 0, cursors: {} };
    this.excluded = new Set(this.pos.stagePlan?.stageIndex === this.pos.stageIndex ? this.pos.stagePlan.excluded : []);
  }

  get index(): number {
    return this.pos.stageIndex;
  }

  get stageStep(): number {
    return this.pos.stageStep;
  }

  /** The current stage entry, given the run's next step (the stage was entered `stageStep` steps before it). */
  entry(runStep: number): StageEntry {
    return { index: this.pos.stageIndex, enteredAt: runStep - this.pos.stageStep };
  }

  /** Prompts of the current stage left after its filters (0 before the stage is planned). */
  get eligibleCount(): number {
    return this.pos.stagePlan?.eligible ?? 0;
  }

  current(): StageConfig | undefined {
    return this.o.config.stages[this.pos.stageIndex];
  }

  /** The stage's step budget (fixed by the stage plan for epoch-based stages). */
  budget(stage: StageConfig): number {
    return this.pos.stagePlan?.stageIndex === this.pos.stageIndex ? this.pos.stagePlan.steps : stage.steps;
  }

  /** The temperature of the next step's tasks. */
  temperature(stage: StageConfig): number {
    return this.pos.temperature ?? stage.temperature;
  }

  snapshot(): StagePosition {
    return structuredClone(this.pos);
  }

  requestAdvance(to: string): void {
    const stages = this.o.config.stages;
    if (!to) {
      this.advanceTo = { kind: 'next' };
      return;
    }
    const index = stages.findIndex((s) => s.name === to);
    if (index < 0) throw new AceReasonError(ErrorCodes.INVALID, `no stage named "${to}" (stages: ${stages.map((s) => s.name).join(', ')})`, { field: 'to_stage' });
    this.advanceTo = { kind: 'named', index };
  }

  /** The stage change an operator asked for, once. */
  operatorTransition(): StageTransition | undefined {
    const req = this.advanceTo;
    if (!req) return undefined;
    this.advanceTo = undefined;
    return { to: req.kind === 'next' ? this.pos.stageIndex + 1 : req.index, reason: 'operator request' };
  }

  /** The end of the (planned) stage, when its budget is used up or its eval plateaued. */
  endOfStage(stage: StageConfig): StageTransition | undefined {
    if (this.pos.stageStep >= this.budget(stage) || this.plateauEnded) {
      const reason = this.plateauEnded ? `${stage.plateau?.dataset} avg@k plateaued` : `step budget of ${this.budget(stage)} reached`;
      this.plateauEnded = false;
      return { to: this.pos.stageIndex + 1, reason };
    }
    return undefined;
  }

  enter(index: number): void {
    this.pos.stageIndex = index;
    this.pos.stageStep = 0;
    this.pos.plateauHistory = [];
  }

  /**
   * Fixed once when a stage starts: the prompts its filters drop (from the pass-rate table), the
   * step budget (from epochs, when given) and the starting temperature.
   */
  async plan(stage: StageConfig): Promise<void> {
    if (this.pos.stagePlan?.stageIndex === this.pos.stageIndex) return;
    const ds = this.dataset(stage);
    const excluded: number[] = [];
    const counts = { too_easy: 0, never_solved: 0 };
    if (isFilterActive(stage.filter)) {
      const table = await this.o.passRates.loadAll(stage.dataset, ds.prompts.map((p) => p.id));
      ds.prompts.forEach((p, i) => {
        const v = stageStartVerdict(table.get(p.id), stage.filter);
        if (v !== 'keep') {
          excluded.push(i);
          counts[v]++;
        }
      });
    }
    const eligible = ds.prompts.length - excluded.length;
    if (eligible === 0) throw new AceReasonError(ErrorCodes.INVALID, `stage ${stage.name}: the filters leave no prompt of dataset "${stage.dataset}" (${counts.too_easy} too easy, ${counts.never_solved} never solved)`);
    const steps = stage.epochs !== undefined ? Math.max(1, Math.ceil((stage.epochs * eligible) / stage.batchPrompts)) : stage.steps;
    this.pos.stagePlan = { stageIndex: this.pos.stageIndex, steps, excluded, eligible };
    this.pos.temperature = initialTemperature(stage.temperatureControl);
    this.excluded = new Set(excluded);
    this.o.logger.info({ stage: stage.name, prompts: ds.prompts.length, eligible, dropped: counts, steps, temperature: this.pos.temperature }, 'stage planned');
  }

  /** The next `n` eligible prompts (indices into the stage's dataset); the cursor moves on. */
  draw(stage: StageConfig, n: number): number[] {
    const sampler = this.sampler(stage);
    const ds = this.dataset(stage);
    // Not filtered out at stage start, and not solved by every rollout of its last visit in this stage.
    const eligible = (i: number): boolean => !this.excluded.has(i) && !(stage.filter.dropSolvedEachEpoch && solvedLastTime(this.o.passRates.peek(stage.dataset, ds.prompts[i]?.id ?? ''), stage.name));
    const picked = sampler.take(n, eligible);
    this.pos.cursors[stage.dataset] = sampler.cursor;
    return picked;
  }

  /** A step of the stage is done: count it and move the temperature (entropy control or schedule). */
  stepDone(stage: StageConfig, usedTemperature: number, entropyMean: number): void {
    this.pos.temperature = nextTemperature(stage.temperatureControl, usedTemperature, this.pos.stageStep + 1, this.budget(stage), entropyMean);
    this.pos.stageStep++;
  }

  /** Whether a periodic evaluation is due after the step just done (none on the stage's last step: the boundary eval covers it). */
  periodicEvalDue(stage: StageConfig): boolean {
    const every = this.o.config.eval?.everySteps ?? 0;
    return every > 0 && this.pos.stageStep % every === 0 && this.pos.stageStep < this.budget(stage);
  }

  /** Feeds a periodic evaluation to the plateau rule; the stage ends before the next step when it fires. */
  recordEval(stage: StageConfig, results: readonly EvalResult[]): void {
    if (!stage.plateau) return;
    const watched = results.find((r) => r.dataset === stage.plateau?.dataset);
    if (watched) (this.pos.plateauHistory ??= []).push(watched.avgAtK);
    if (plateaued(this.pos.plateauHistory ?? [], stage.plateau)) {
      this.o.logger.info({ stage: stage.name, history: this.pos.plateauHistory }, 'eval metric plateaued: ending the stage');
      this.plateauEnded = true;
    }
  }

  dataset(stage: StageConfig): Dataset {
    const ds = this.o.datasets[stage.dataset];
    if (!ds) throw new AceReasonError(ErrorCodes.INVALID, `dataset "${stage.dataset}" is not loaded`);
    return ds;
  }

  private sampler(stage: StageConfig): PromptSampler {
    let s = this.samplers.get(stage.dataset);
    if (!s) {
      s = new PromptSampler(this.dataset(stage).prompts.length, `${this.o.config.seed}:${stage.dataset}`, this.pos.cursors[stage.dataset] as Cursor | undefined);
      this.samplers.set(stage.dataset, s);
    }
    return s;
  }
}

function pick(p: StagePosition): Partial<StagePosition> {
  return {
    ...(p.stagePlan ? { stagePlan: p.stagePlan } : {}),
    ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
    ...(p.plateauHistory ? { plateauHistory: [...p.plateauHistory] } : {}),
  };
}
