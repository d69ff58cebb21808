/**
 * The learner's lifecycle. `paused` is a phase (operator pause: the current step finishes, the
 * next waits); `finished` means every stage ran; `draining` is a stop in progress.
 */
import { Lifecycle, type Logger, type Transitions } from '@acereason/transport';

export type LearnerPhase = 'starting' | 'running' | 'paused' | 'draining' | 'stopped' | 'failed' | 'finished';

export const LEARNER_TRANSITIONS: Transitions<LearnerPhase> = {
  starting: ['running', 'paused', 'draining', 'failed', 'stopped'],
  running: ['paused', 'draining', 'finished', 'failed', 'stopped'],
  paused: ['running', 'draining', 'finished', 'failed', 'stopped'],
  draining: ['stopped', 'failed'],
  finished: [],
  failed: [],
  stopped: [],
};

/** The learner's phase with the operator's pause, resume and stop: what a paused loop waits on, what a stop aborts. */
export class LearnerLifecycle extends Lifecycle<LearnerPhase> {
  private readonly stopController = new AbortController();
  private resumeWaiters: (() => void)[] = [];

  constructor(private readonly log: Logger) {
    super('learner', 'starting', LEARNER_TRANSITIONS, log);
  }

  /** Aborted by stop(): the step loop ends, a step collecting its groups gives up. */
  get signal(): AbortSignal {
    return this.stopController.signal;
  }

  /** Pauses before the next step (the current one finishes). */
  pause(reason: string): void {
    if (this.tryTo('paused', reason)) return;
    this.log.info({ reason, phase: this.state }, 'pause ignored');
  }

  resume(): void {
    this.tryTo('running', 'resumed');
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  stop(): void {
    this.tryTo('draining', 'stop requested');
    this.stopController.abort();
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  /** Resolves once the learner is not paused (resumed, or stopped). */
  async whilePaused(): Promise<void> {
    while (this.is('paused') && !this.signal.aborted) await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
  }
}
