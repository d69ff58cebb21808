/**
 * The learner's lifecycle. `paused` is a phase (operator pause: the current step finishes, the
 * next waits); `finished` means every stage ran; `draining` is a stop in progress.
 */
import type { Transitions } from '@acereason/transport';

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
