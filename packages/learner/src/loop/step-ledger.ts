/**
 * The one slot table of the run: for every step whose tasks are out, each slot's prompt, its
 * retry round, the task ids published for it and the group that filled it, plus the version the
 * step's tasks were stamped with. The ledger decides what an incoming group is (it fills an open
 * slot, is a duplicate, is stale, is forged, or came before its step was registered) and does the
 * work of getting every slot filled: publishing, re-issuing slots that time out or come back
 * forged, over-sampling when too few groups carry a learning signal. Its checkpointed form is
 * `PublishedStep`; the StepCollector only routes deliveries to it and holds their acks.
 */
import { AceReasonError, ErrorCodes, type ScoredGroup } from '@acereason/protocol';
import type { Logger } from '@acereason/transport';
import type { AlgorithmConfig, RunConfig, StageConfig } from '../config/run-config.js';
import type { Dataset } from '../data/dataset.js';
import type { PublishedStep } from '../checkpoint/checkpoint.js';
import { extraPrompts } from './informative.js';
import { makeTask, type StageEntry, type TaskContext } from './tasks.js';
import type { TaskPublisher } from './task-publisher.js';

/** Rounds of over-sampling per step at most. */
export const MAX_OVERSAMPLE_ROUNDS = 3;

/**
 * The groups the StepCollector may hold unacked at most: every step until the next checkpoint
 * acks them plus the look-ahead, each over-sampled to the limit, and room for evals and early groups.
 */
export function maxHeldGroups(c: RunConfig): number {
  return (c.checkpoint.everySteps + 1 + c.algorithm.maxStaleness) * Math.max(...c.stages.map((s) => s.batchPrompts)) * (MAX_OVERSAMPLE_ROUNDS + 1) + 256;
}

/** What an incoming training group is to the ledger. */
export type Offer = 'accepted' | 'duplicate' | 'stale' | 'rejected' | 'early';

/** What the StepCollector routes training groups to. */
export interface SlotTable {
  offer(g: ScoredGroup): Offer;
}

export interface StepLedgerOptions {
  runId: string;
  tasks: TaskPublisher;
  datasets: Record<string, Dataset>;
  algorithm: AlgorithmConfig;
  /** The task context of a stage (by index). */
  context: (stageIndex: number) => TaskContext;
  /** Whether a group's weights hash is the one of the version it claims; a forged group leaves its slot open and is re-issued. */
  provenance: (g: ScoredGroup) => boolean;
  /** Called once a step's slots are registered (groups that came early can be offered again). */
  onRegistered?: () => void;
  logger: Logger;
}

interface Slot {
  /** Prompt index in the stage's dataset. */
  prompt: number;
  /** The retry round of the latest task published for the slot. */
  retry: number;
  /** Ids of every task published for the slot (any of their groups may fill it, the first wins). */
  ids: Set<string>;
  group: ScoredGroup | undefined;
}

interface StepEntry {
  step: number;
  stage: StageEntry;
  version: number;
  sha256: string;
  temperature: number;
  slots: Slot[];
  filled: number;
  /** Whether this process has published (and so knows the ids of) the step's tasks. */
  registered: boolean;
  waiters: (() => void)[];
}

export class StepLedger implements SlotTable {
  private readonly steps = new Map<number, StepEntry>();
  /** Steps below this are trained: their groups are stale. */
  private floor = 0;
  private reissuedTasks = 0;

  constructor(private readonly o: StepLedgerOptions, resumed: readonly PublishedStep[] = []) {
    for (const p of resumed) this.add(p, false);
  }

  /** Tasks published again (timeouts, forged groups). */
  get reissued(): number {
    return this.reissuedTasks;
  }

  /** A step's tasks as checkpointed. */
  get(step: number): PublishedStep | undefined {
    const e = this.steps.get(step);
    return e ? published(e) : undefined;
  }

  snapshot(): PublishedStep[] {
    return [...this.steps.values()].map(published);
  }

  /** The versions the published tasks were stamped with (their groups are checked against them). */
  stamps(): { version: number; sha256: string }[] {
    return [...this.steps.values()].map((e) => ({ version: e.version, sha256: e.sha256 }));
  }

  /** The groups that filled the step's slots, in slot order. */
  groups(step: number): ScoredGroup[] {
    return (this.steps.get(step)?.slots ?? []).flatMap((s) => (s.group ? [s.group] : []));
  }

  filled(step: number): number {
    return this.steps.get(step)?.filled ?? 0;
  }

  /** Slots of the step no group has filled yet. */
  missingSlots(step: number): number[] {
    return (this.steps.get(step)?.slots ?? []).flatMap((s, i) => (s.group ? [] : [i]));
  }

  /**
   * Makes sure the steps `from..to` have their tasks out: steps known from before a restart are
   * registered and re-published (msg-id dedup drops the copies), new ones drawn with `make`.
   */
  async ensurePublished(from: number, to: number, make: (step: number) => PublishedStep): Promise<void> {
    for (let s = from; s <= to; s++) {
      const e = this.steps.get(s) ?? this.add(make(s), false);
      if (!e.registered) await this.publishSlots(e, e.slots.map((_, i) => i));
    }
  }

  offer(g: ScoredGroup): Offer {
    const e = this.steps.get(g.task.step);
    if (!e?.registered) return g.task.step >= this.floor ? 'early' : 'stale';
    const slot = e.slots[g.task.slot];
    if (!slot?.ids.has(g.id)) return 'stale';
    if (slot.group) return 'duplicate';
    if (!this.o.provenance(g)) {
      this.reissue(e, g.task.slot);
      return 'rejected';
    }
    slot.group = g;
    e.filled++;
    for (const w of e.waiters.splice(0)) w();
    return 'accepted';
  }

  /**
   * Waits until every slot of the step is filled, re-issuing slots that time out; then, when too
   * few groups carry a learning signal, adds prompts (up to MAX_OVERSAMPLE_ROUNDS rounds).
   */
  async collect(step: number, stage: StageConfig, draw: (n: number) => number[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    const e = this.steps.get(step);
    if (!e?.registered) throw new AceReasonError(ErrorCodes.INTERNAL, `step ${step} has no published tasks`);
    for (let rounds = 0; ; rounds++) {
      while (!(await this.waitFilled(e, timeoutMs, signal))) {
        if (signal.aborted) throw new AceReasonError(ErrorCodes.CANCELLED, 'learner stopping');
        const missing = this.missingSlots(step);
        const ds = this.o.datasets[stage.dataset] as Dataset;
        this.o.logger.warn({ step, missing: missing.length, prompts: missing.slice(0, 20).map((m) => ds.prompts[e.slots[m]?.prompt as number]?.id) }, 'step is waiting too long: re-issuing missing prompts');
        for (const m of missing) (e.slots[m] as Slot).retry++;
        this.reissuedTasks += missing.length;
        await this.publishSlots(e, missing);
      }
      if (rounds >= MAX_OVERSAMPLE_ROUNDS) return;
      const extra = extraPrompts(this.groups(step), stage, this.o.algorithm);
      if (extra === 0) return;
      const more = draw(extra);
      const first = e.slots.length;
      e.slots.push(...more.map((prompt) => ({ prompt, retry: 0, ids: new Set<string>(), group: undefined })));
      await this.publishSlots(e, more.map((_, i) => first + i));
    }
  }

  /** The step is trained: forget it (the collector holds its deliveries until the checkpoint acks them). */
  finish(step: number): void {
    this.steps.delete(step);
    this.floor = Math.max(this.floor, step + 1);
  }

  /** Abandons the steps published ahead from `step` on (a stage change): their groups will be dropped as stale. */
  dropFrom(step: number): void {
    for (const s of [...this.steps.keys()]) if (s >= step) this.steps.delete(s);
  }

  private add(p: PublishedStep, registered: boolean): StepEntry {
    const e: StepEntry = {
      step: p.step, stage: { index: p.stageIndex, enteredAt: p.stageEnteredAt }, version: p.version, sha256: p.sha256, temperature: p.temperature,
      slots: p.prompts.map((prompt, i) => ({ prompt, retry: p.retries[i] ?? 0, ids: new Set<string>(), group: undefined })),
      filled: 0, registered, waiters: [],
    };
    this.steps.set(p.step, e);
    return e;
  }

  /** A group for the slot came back forged: publish the slot again under its next retry round. */
  private reissue(e: StepEntry, slot: number): void {
    (e.slots[slot] as Slot).retry++;
    this.reissuedTasks++;
    void this.publishSlots(e, [slot]).catch((err: unknown) => this.o.logger.error({ err: String(err) }, 're-issue failed'));
  }

  /** Publishes the tasks of a step's slots, registering their ids first (so a fast group finds its slot). */
  private async publishSlots(e: StepEntry, slots: number[]): Promise<void> {
    const ctx = this.o.context(e.stage.index);
    const ds = this.o.datasets[ctx.stage.dataset] as Dataset;
    const items = slots.map((i) => {
      const slot = e.slots[i] as Slot;
      const prompt = ds.prompts[slot.prompt] as Dataset['prompts'][number];
      const task = makeTask(ctx, { task: { step: e.step, slot: i, retry: slot.retry, purpose: { kind: 'train' } }, prompt, version: e.version, sha256: e.sha256, temperature: e.temperature, stage: e.stage });
      slot.ids.add(task.id);
      return { prompt, task };
    });
    e.registered = true;
    this.o.onRegistered?.();
    // The TaskPublisher stores a code prompt's tests in the object store before its task goes out.
    await this.o.tasks.publish(items);
  }

  /** Resolves true once every slot of the step is filled (re-checked on every accepted group), false after `timeoutMs` or on abort. */
  private async waitFilled(e: StepEntry, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (e.filled < e.slots.length) {
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        e.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }
}

function published(e: StepEntry): PublishedStep {
  return { step: e.step, stageIndex: e.stage.index, stageEnteredAt: e.stage.enteredAt, prompts: e.slots.map((s) => s.prompt), version: e.version, sha256: e.sha256, retries: e.slots.map((s) => s.retry), temperature: e.temperature };
}
