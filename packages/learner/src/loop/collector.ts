/**
 * Routes ScoredGroups from the learner's durable consumer: eval groups to the evaluation waiting
 * for them, training groups to the StepLedger (the slot table, which says what each one is). It
 * owns the deliveries, not the slots: an accepted group's delivery is held unacked until the
 * learner has checkpointed its step, so a learner crash loses nothing; a group that came before
 * its step was registered (after a restart, or in async mode) is held and offered again when a
 * step registers; everything else is acked at once.
 */
import type { ScoredGroup } from '@acereason/protocol';
import type { Delivery, MessageConsumer } from '@acereason/transport';
import type { SlotTable } from './step-ledger.js';

export type Verdict = 'accepted' | 'duplicate' | 'stale' | 'rejected';

export interface CollectorCounts {
  accepted: number;
  duplicates: number;
  stale: number;
  rejected: number;
}

export class StepCollector {
  /** Deliveries of accepted groups by step, to ack once the step is checkpointed. */
  private readonly byStep = new Map<number, Delivery<ScoredGroup>[]>();
  /** Stream sequences of held deliveries, by step: a redelivery of one is held with it. */
  private readonly heldSeqs = new Map<number, number>();
  /** Groups that arrived before their step registered. */
  private readonly early = new Map<string, Delivery<ScoredGroup>>();
  /** Eval tasks: a handler per id; their groups are acked at once (they are never trained on). */
  private readonly evalIds = new Map<string, (g: ScoredGroup) => void>();
  readonly counts: CollectorCounts = { accepted: 0, duplicates: 0, stale: 0, rejected: 0 };
  private readonly listeners = new Set<(g: ScoredGroup, v: Verdict) => void>();

  constructor(private readonly table: SlotTable) {}

  onGroup(l: (g: ScoredGroup, v: Verdict) => void): void {
    this.listeners.add(l);
  }

  /** Pumps deliveries until the consumer stops. */
  async pump(consumer: MessageConsumer<ScoredGroup>): Promise<void> {
    for await (const d of consumer) this.route(d);
  }

  expectEval(ids: readonly string[], onGroup: (g: ScoredGroup) => void): () => void {
    for (const id of ids) this.evalIds.set(id, onGroup);
    return () => {
      for (const id of ids) this.evalIds.delete(id);
    };
  }

  /** A step registered its slots: offer the groups that came early again. */
  replayEarly(): void {
    const early = [...this.early.values()];
    this.early.clear();
    for (const d of early) this.route(d);
  }

  private route(d: Delivery<ScoredGroup>): void {
    const g = d.value;
    const heldStep = this.heldSeqs.get(d.streamSeq);
    if (heldStep !== undefined) {
      // The server redelivered a message we hold (e.g. its lease lapsed while NATS restarted):
      // acking it now would let a crash before the checkpoint lose it, so it waits with the original.
      this.byStep.get(heldStep)?.push(d);
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
    const offer = this.table.offer(g);
    if (offer === 'early') {
      // Its step has not been registered yet: hold it (and its delivery) until then. A
      // redelivery of the held message (its lease lapsed) replaces it; another copy is a duplicate.
      const held = this.early.get(g.id);
      if (held && held.streamSeq !== d.streamSeq) {
        this.counts.duplicates++;
        void d.ack();
      } else this.early.set(g.id, d);
      return;
    }
    if (offer === 'accepted') {
      const list = this.byStep.get(g.task.step) ?? [];
      list.push(d);
      this.byStep.set(g.task.step, list);
      this.heldSeqs.set(d.streamSeq, g.task.step);
      this.counts.accepted++;
    } else {
      if (offer === 'duplicate') this.counts.duplicates++;
      else if (offer === 'stale') this.counts.stale++;
      else this.counts.rejected++;
      void d.ack();
    }
    this.emit(g, offer);
  }

  private emit(g: ScoredGroup, v: Verdict): void {
    for (const l of this.listeners) l(g, v);
  }

  /** Acks the held deliveries of every step up to `step` (called after a checkpoint covers them). */
  async ackThrough(step: number): Promise<number> {
    let n = 0;
    for (const [s, list] of this.byStep) {
      if (s > step) continue;
      for (const d of list) {
        await d.ack().catch(() => undefined);
        this.heldSeqs.delete(d.streamSeq);
      }
      n += list.length;
      this.byStep.delete(s);
    }
    return n;
  }

  /** Deliveries held unacked (for metrics and bounding). */
  get held(): number {
    let n = this.early.size;
    for (const list of this.byStep.values()) n += list.length;
    return n;
  }
}
