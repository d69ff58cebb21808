/**
 * A service's lifecycle as a state union with one setter: every transition is logged, and one the
 * table does not allow is refused with an INTERNAL error (a bug in the service, caught where it
 * happens). Services keep their Lifecycle private and expose only the state.
 */
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import type { Logger } from 'pino';

export type Transitions<S extends string> = { readonly [K in S]: readonly S[] };

/** The lifecycle of a worker that pulls work until it is stopped (rollout actors, verifier workers). */
export type WorkerState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export const WORKER_TRANSITIONS: Transitions<WorkerState> = {
  starting: ['running', 'draining', 'failed', 'stopped'],
  running: ['draining', 'failed', 'stopped'],
  draining: ['failed', 'stopped'],
  stopped: [],
  failed: [],
};

export class Lifecycle<S extends string> {
  private current: S;

  constructor(private readonly component: string, initial: S, private readonly allowed: Transitions<S>, private readonly logger?: Logger) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  is(...states: S[]): boolean {
    return states.includes(this.current);
  }

  /** Moves to `next` (a no-op when already there); throws on a transition the table does not allow. */
  to(next: S, why?: string): void {
    if (next === this.current) return;
    if (!this.allowed[this.current].includes(next)) {
      throw new AceReasonError(ErrorCodes.INTERNAL, `${this.component}: illegal lifecycle transition ${this.current} -> ${next}`);
    }
    const from = this.current;
    this.current = next;
    this.logger?.info({ from, to: next, ...(why ? { why } : {}) }, `${this.component} ${next}`);
  }

  /** Moves to `next` if the table allows it from the current state; says whether it did. */
  tryTo(next: S, why?: string): boolean {
    if (next !== this.current && !this.allowed[this.current].includes(next)) return false;
    this.to(next, why);
    return true;
  }

  /**
   * Drives a service's work to its end: `end.failed` (and the error rethrown) when it throws, then
   * `end.stopped` either way, each only where the table allows it.
   */
  async runWork(work: () => Promise<void>, end: { failed: S; stopped: S }): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.tryTo(end.failed, String(err));
      throw err;
    } finally {
      this.tryTo(end.stopped);
    }
  }
}
