/**
 * Routes ScoredGroups from the learner's durable consumer to the steps waiting for them.
 *
 * Each step registers the task ids it published, by slot (one slot per prompt). The first group
 * for a slot wins; any other copy (a redelivery, a retried task) is a duplicate. Groups for steps
 * not registered yet (after a restart, or in async mode) are held until their step registers;
 * groups for steps already done are dropped. Deliveries are acked only when the learner says so
 * (after the checkpoint that covers their step), so a learner crash loses nothing.
 */
import type { ScoredGroup } from '@acereason/protocol';
import type { Delivery, MessageConsumer } from '@acereason/transport';

export interface SlotRef {
  step: number;
  slot: number;
}

export type Verdict = 'accepted' | 'duplicate' | 'stale' | 'rejected';

export interface CollectorCounts {
  accepted: number;
  duplicates: number;
  stale: number;
  rejected: number;
}

interface StepState {
  slots: (ScoredGroup | undefined)[];
  filled: number;
  waiters: (() => void)[];
  /** Deliveries to ack once this step is checkpointed. */
  deliveries: Delivery<ScoredGroup>[];
}

export class StepCollector {
  private readonly ids = new Map<string, SlotRef>();
  private readonly steps = new Map<number, StepState>();
  /** Groups that arrived before their step registered. */
  private readonly early = new Map<string, Delivery<ScoredGroup>>();
  /** Steps below this are finished: their groups are duplicates. */
  private floor = 0;
  readonly counts: CollectorCounts = { accepted: 0, duplicates: 0, stale: 0, rejected: 0 };
  private readonly listeners = new Set<(g: ScoredGroup, v: Verdict) => void>();

  /**
   * @param provenance says whether a group's weights hash is the one of the version it claims;
   *   a group that fails is rejected (counted, acked, its slot stays open for a re-issued task).
   */
  constructor(private readonly provenance: (g: ScoredGroup) => boolean) {}

  onGroup(l: (g: ScoredGroup, v: Verdict) => void): void {
    this.listeners.add(l);
  }

  /** Pumps deliveries until the consumer stops. */
  async pump(consumer: MessageConsumer<ScoredGroup>): Promise<void> {
    for await (const d of consumer) this.route(d);
  }

  private emit(g: ScoredGroup, v: Verdict): void {
    for (const l of this.listeners) l(g, v);
  }

  /** Eval tasks: a handler per id; their groups are acked at once (they are never trained on). */
  private readonly evalIds = new Map<string, (g: ScoredGroup) => void>();

  expectEval(ids: readonly string[], onGroup: (g: ScoredGroup) => void): () => void {
    for (const id of ids) this.evalIds.set(id, onGroup);
    return () => {
      for (const id of ids) this.evalIds.delete(id);
    };
  }

  /** Stream sequences of accepted groups not yet acked, by step: a redelivery of one is held with it. */
  private readonly heldSeqs = new Map<number, number>();

  private route(d: Delivery<ScoredGroup>): void {
    const g = d.value;
    const heldStep = this.heldSeqs.get(d.streamSeq);
    if (heldStep !== undefined) {
      // The server redelivered a message we hold (e.g. its lease lapsed while NATS restarted):
      // acking it now would let a crash before the checkpoint lose it, so it waits with the original.
      this.steps.get(heldStep)?.deliveries.push(d);
      return;
    }
    const evalHandler = this.evalIds.get(g.id);
    if (evalHandler) {
      this.evalIds.delete(g.id);
      void d.ack();
      evalHandler(g);
      return;
    }
    if (g.task.purpose.kind === 'eval') {
      // An evaluation nobody waits for any more (finished, or from before a restart).
      void d.ack();
      return;
    }
    const ref = this.ids.get(g.id);
    if (!ref) {
      if (g.task.step >= this.floor && !this.steps.has(g.task.step)) {
        // Its step has not been registered yet: hold it (and its delivery) until then.
        if (this.early.has(g.id)) {
          this.counts.duplicates++;
          void d.ack();
        } else this.early.set(g.id, d);
        return;
      }
      this.counts.stale++;
      this.emit(g, 'stale');
      void d.ack();
      return;
    }
    const st = this.steps.get(ref.step);
    if (!st || st.slots[ref.slot] !== undefined) {
      this.counts.duplicates++;
      this.emit(g, 'duplicate');
      void d.ack();
      return;
    }
    if (!this.provenance(g)) {
      this.counts.rejected++;
      this.emit(g, 'rejected');
      void d.ack();
      return;
    }
    st.slots[ref.slot] = g;
    st.filled++;
    st.deliveries.push(d);
    this.heldSeqs.set(d.streamSeq, ref.step);
    this.counts.accepted++;
    this.emit(g, 'accepted');
    for (const w of st.waiters.splice(0)) w();
  }

  /** Registers (or extends) a step's slots and the task ids that may fill them. */
  expect(step: number, entries: { taskId: string; slot: number }[], slotCount: number): void {
    let st = this.steps.get(step);
    if (!st) {
      st = { slots: [], filled: 0, waiters: [], deliveries: [] };
      this.steps.set(step, st);
    }
    while (st.slots.length < slotCount) st.slots.push(undefined);
    for (const e of entries) this.ids.set(e.taskId, { step, slot: e.slot });
    for (const e of entries) {
      const d = this.early.get(e.taskId);
      if (d) {
        this.early.delete(e.taskId);
        this.route(d);
      }
    }
  }

  filled(step: number): number {
    return this.steps.get(step)?.filled ?? 0;
  }

  groups(step: number): (ScoredGroup | undefined)[] {
    return this.steps.get(step)?.slots ?? [];
  }

  missingSlots(step: number, upTo: number): number[] {
    const slots = this.steps.get(step)?.slots ?? [];
    const out: number[] = [];
    for (let i = 0; i < upTo; i++) if (slots[i] === undefined) out.push(i);
    return out;
  }

  /** Resolves when `predicate` holds for the step, re-checking on every accepted group, or after `timeoutMs`. */
  async waitFor(step: number, predicate: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const st = this.steps.get(step);
    if (!st) throw new Error(`step ${step} is not registered`);
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        st.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** The step is trained: drop its groups from memory (keep the deliveries for the ack). */
  finish(step: number): void {
    const st = this.steps.get(step);
    if (!st) return;
    st.slots = st.slots.map(() => undefined);
    this.floor = Math.max(this.floor, step + 1);
    for (const [id, ref] of this.ids) if (ref.step === step) this.ids.delete(id);
  }

  /** Acks the deliveries of every finished step up to `step` (called after a checkpoint). */
  async ackThrough(step: number): Promise<number> {
    let n = 0;
    for (const [s, st] of this.steps) {
      if (s > step || s >= this.floor) continue;
      for (const d of st.deliveries) {
        await d.ack().catch(() => undefined);
        this.heldSeqs.delete(d.streamSeq);
      }
      n += st.deliveries.length;
      this.steps.delete(s);
    }
    return n;
  }

  /** Deliveries held unacked (for metrics and bounding). */
  get held(): number {
    let n = this.early.size;
    for (const st of this.steps.values()) n += st.deliveries.length;
    return n;
  }
}
