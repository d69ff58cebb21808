/**
 * Prompt filters from the pass-rate table, applied when a stage starts (and, for `drop_solved`,
 * whenever a prompt comes round again within a stage): the recipe drops prompts the policy
 * already solves often (pass rate above `max_pass_rate`, e.g. 6/16 before the 24K and 32K math
 * stages), prompts never solved, and for code, problems solved by every rollout of the last epoch.
 */
import { recentPassRate, type PromptPassRates } from './pass-rates.js';

export interface PromptFilterConfig {
  /** Drop prompts whose recent pass rate is above this (1 = keep all). */
  maxPassRate: number;
  /** Drop prompts with at least `minAttempts` recent attempts and no pass. */
  dropNeverSolved: boolean;
  /** Inside the stage: drop a prompt whose latest record in this stage solved every rollout. */
  dropSolvedEachEpoch: boolean;
  /** Attempts considered "recent" (newest first). */
  window: number;
  /** Prompts with fewer recent attempts are kept (no evidence yet). */
  minAttempts: number;
}

export const NO_FILTER: PromptFilterConfig = { maxPassRate: 1, dropNeverSolved: false, dropSolvedEachEpoch: false, window: 16, minAttempts: 1 };

export function isFilterActive(f: PromptFilterConfig): boolean {
  return f.maxPassRate < 1 || f.dropNeverSolved || f.dropSolvedEachEpoch;
}

export type FilterVerdict = 'keep' | 'too_easy' | 'never_solved';

/** The stage-start verdict for one prompt. */
export function stageStartVerdict(p: PromptPassRates | undefined, f: PromptFilterConfig): FilterVerdict {
  const { attempts, passes } = recentPassRate(p, f.window);
  if (attempts < f.minAttempts) return 'keep';
  if (f.dropNeverSolved && passes === 0) return 'never_solved';
  if (passes / attempts > f.maxPassRate) return 'too_easy';
  return 'keep';
}

/** The within-stage verdict: solved by every rollout the last time it was sampled in this stage. */
export function solvedLastTime(p: PromptPassRates | undefined, stage: string): boolean {
  const last = p?.records.filter((r) => r.stage === stage).at(-1);
  return last !== undefined && last.attempts > 0 && last.passes === last.attempts;
}
