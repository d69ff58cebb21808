/**
 * The steps whose tasks are out: for each, the prompt and retry round of every slot and the
 * version its tasks were stamped with (PublishedStep, checkpointed), which of them this process
 * has registered with the collector, and the work of getting every slot filled -- publishing,
 * re-issuing slots that time out or come back forged, over-sampling when too few groups carry a
 * learning signal.
 */
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import type { Logger } from '@acereason/transport';
import type { AlgorithmConfig, StageConfig } from '../config/run-config.js';
import type { Dataset } from '../data/dataset.js';
import type { PublishedStep } from '../checkpoint/checkpoint.js';
import type { StepCollector } from './collector.js';
import { extraPrompts } from './informative.js';
import { makeTask, type TaskContext } from './tasks.js';
import type { TaskPublisher } from './task-publisher.js';

/** Rounds of over-sampling per step at most. */
export const MAX_OVERSAMPLE_ROUNDS = 3;

export interface StepLedgerOptions {
  runId: string;
  collector: StepCollector;
  tasks: TaskPublisher;
  datasets: Record<string, Dataset>;
  algorithm: AlgorithmConfig;
  /** The task context of a stage (by index). */
  context: (stageIndex: number) => TaskContext;
  logger: Logger;
}

export class StepLedger {
  private pending: PublishedStep[];
  /** Steps whose tasks this process has registered with the collector. */
  private readonly registered = new Set<number>();
  private reissuedTasks = 0;

  constructor(private readonly o: StepLedgerOptions, resumed: readonly PublishedStep[] = []) {
    this.pending = structuredClone([...resumed]);
  }

  /** Tasks published again (timeouts, forged groups). */
  get reissued(): number {
    return this.reissuedTasks;
  }

  get(step: number): PublishedStep | undefined {
    return this.pending.find((p) => p.step === step);
  }

  snapshot(): PublishedStep[] {
    return structuredClone(this.pending);
  }

  /** The versions the published tasks were stamped with (their groups are checked against them). */
  stamps(): { version: number; sha256: string }[] {
    return this.pending.map((p) => ({ version: p.version, sha256: p.sha256 }));
  }

  /**
   * Makes sure the steps `from..to` have their tasks out: steps known from before a restart are
   * registered and re-published (msg-id dedup drops the copies), new ones drawn with `draw`.
   */
  async ensurePublished(from: number, to: number, make: (step: number) => PublishedStep): Promise<void> {
    for (let s = from; s <= to; s++) {
      const known = this.get(s);
      if (known) {
        if (!this.registered.has(s)) await this.publishSlots(known, known.prompts.map((_, i) => i));
        continue;
      }
      const pub = make(s);
      this.pending.push(pub);
      await this.publishSlots(pub, pub.prompts.map((_, i) => i));
    }
  }

  /** A group for (step, slot) was rejected: publish the slot again under its next retry round. */
  reissue(step: number, slot: number): void {
    const pub = this.get(step);
    if (!pub) return;
    pub.retries[slot] = (pub.retries[slot] ?? 0) + 1;
    this.reissuedTasks++;
    void this.publishSlots(pub, [slot]).catch((err: unknown) => this.o.logger.error({ err: String(err) }, 're-issue failed'));
  }

  /**
   * Waits until every slot of the step is filled, re-issuing slots that time out; then, when too
   * few groups carry a learning signal, adds prompts (up to MAX_OVERSAMPLE_ROUNDS rounds).
   */
  async collect(pub: PublishedStep, stage: StageConfig, draw: (n: number) => number[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    const c = this.o.collector;
    for (let rounds = 0; ; rounds++) {
      const want = pub.prompts.length;
      while (!(await c.waitFor(pub.step, () => c.filled(pub.step) >= want, timeoutMs, signal))) {
        if (signal.aborted) throw new AceReasonError(ErrorCodes.CANCELLED, 'learner stopping');
        const missing = c.missingSlots(pub.step, want);
        const ds = this.o.datasets[stage.dataset] as Dataset;
        this.o.logger.warn({ step: pub.step, missing: missing.length, prompts: missing.slice(0, 20).map((m) => ds.prompts[pub.prompts[m] as number]?.id) }, 'step is waiting too long: re-issuing missing prompts');
        for (const m of missing) pub.retries[m] = (pub.retries[m] ?? 0) + 1;
        this.reissuedTasks += missing.length;
        await this.publishSlots(pub, missing);
      }
      if (rounds >= MAX_OVERSAMPLE_ROUNDS) return;
      const extra = extraPrompts(c.groups(pub.step), stage, this.o.algorithm);
      if (extra === 0) return;
      const more = draw(extra);
      const first = pub.prompts.length;
      pub.prompts.push(...more);
      pub.retries.push(...more.map(() => 0));
      await this.publishSlots(pub, more.map((_, i) => first + i));
    }
  }

  /** The step is trained: forget it (its groups stay held by the collector until the checkpoint acks them). */
  finish(step: number): void {
    this.o.collector.finish(step);
    this.pending = this.pending.filter((p) => p.step !== step);
  }

  /** Abandons the steps published ahead from `step` on (a stage change): their groups will be dropped as stale. */
  dropFrom(step: number): void {
    this.pending = this.pending.filter((p) => p.step < step);
  }

  /** Publishes the tasks of a step's slots, registering them with the collector first. */
  private async publishSlots(pub: PublishedStep, slots: number[]): Promise<void> {
    const ctx = this.o.context(pub.stageIndex);
    const ds = this.o.datasets[ctx.stage.dataset] as Dataset;
    const items = slots.map((slot) => {
      const prompt = ds.prompts[pub.prompts[slot] as number] as Dataset['prompts'][number];
      return { prompt, task: makeTask(ctx, { task: { step: pub.step, slot, retry: pub.retries[slot] ?? 0, purpose: { kind: 'train' } }, prompt, version: pub.version, sha256: pub.sha256, temperature: pub.temperature }) };
    });
    this.o.collector.expect(pub.step, items.map(({ task }, i) => ({ taskId: task.id, slot: slots[i] as number })), pub.prompts.length);
    this.registered.add(pub.step);
    await this.o.tasks.publish(items);
  }
}
