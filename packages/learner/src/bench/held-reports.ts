/**
 * The learner's side of the benchmark's reporting channel: collects "ready" and "holding v"
 * reports from the actor processes, stamped with the time they arrived here.
 */
import { performance } from 'node:perf_hooks';
import type { NatsConnection } from '@acereason/transport';
import { benchSubjects, decodeJson, type HeldReport, type ReadyReport, type SyncMethod } from './weight-sync-wire.js';

export interface ArrivedReport {
  report: HeldReport;
  /** performance.now() in this process when the report arrived. */
  at: number;
}

interface Waiter {
  check(): void;
}

export class HeldReports {
  private readonly held: ArrivedReport[] = [];
  private readonly ready = new Map<string, ReadyReport>();
  private readonly subs: Array<ReturnType<NatsConnection['subscribe']>>;
  private readonly waiters = new Set<Waiter>();
  private failure: Error | undefined;

  constructor(nc: NatsConnection, runId: string) {
    this.subs = [
      nc.subscribe(benchSubjects.held(runId), {
        callback: (err, m) => {
          if (err) return this.fail(err);
          this.held.push({ report: decodeJson<HeldReport>(m.data), at: performance.now() });
          this.notify();
        },
      }),
      nc.subscribe(benchSubjects.ready(runId), {
        callback: (err, m) => {
          if (err) return this.fail(err);
          const r = decodeJson<ReadyReport>(m.data);
          this.ready.set(r.actorId, r);
          this.notify();
        },
      }),
    ];
  }

  /** Makes every pending and future wait reject (an actor died, the run is aborted). */
  fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  /** Every report for one method, in arrival order (for the verification table). */
  all(method: SyncMethod): HeldReport[] {
    return this.held.filter((h) => h.report.method === method).map((h) => h.report);
  }

  async untilReady(count: number, timeoutMs: number): Promise<ReadyReport[]> {
    await this.until(() => this.ready.size >= count, timeoutMs, () => `${this.ready.size} of ${count} actors ready`);
    return [...this.ready.values()];
  }

  /** Resolves when `count` actors reported on (method, version); any failed report rejects. */
  async holding(method: SyncMethod, version: number, count: number, timeoutMs: number): Promise<ArrivedReport[]> {
    const mine = (): ArrivedReport[] => this.held.filter((h) => h.report.method === method && h.report.version === version);
    await this.until(() => {
      const bad = mine().find((h) => !h.report.ok);
      if (bad && !bad.report.ok) throw new Error(`actor ${bad.report.actorId} failed ${method} v${version}: ${bad.report.error}`);
      return mine().length >= count;
    }, timeoutMs, () => `${mine().length} of ${count} actors hold ${method} v${version}`);
    return mine();
  }

  private until(done: () => boolean, timeoutMs: number, progress: () => string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          try {
            if (this.failure) throw this.failure;
            if (!done()) return;
          } catch (err) {
            finish();
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          finish();
          resolve();
        },
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`weight-sync bench: timed out after ${timeoutMs} ms (${progress()})`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      waiter.check();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w.check();
  }

  close(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}
