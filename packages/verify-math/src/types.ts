import type { MathStatus } from '@acereason/protocol';

/** The outcome of one math verification (the wire's math vocabulary). `timeout` and `error` are never folded into `wrong`. */
export type VerifyStatus = MathStatus;

export interface MathVerdict {
  status: VerifyStatus;
  /** True only when `status` is `correct`: the reward bit. */
  correct: boolean;
  /** The answer taken from the response (before normalisation), or null when there is none. */
  extracted: string | null;
  /** Why the verdict was reached, for people reading logs (not for branching). */
  reason: string;
}

export interface ExtractOptions {
  /**
   * Also accept "final answer is ..." and "Answer: ..." when there is no box. Off by default:
   * for a reward, the box is the contract with the policy.
   */
  fallbacks?: boolean;
}

export interface CompareOptions {
  /**
   * The dataset writes decimals with a comma (`1,5` is 1.5, `1.000,5` is 1000.5). Off by default:
   * then a comma between digits is a thousands separator only in groups of three inside one number
   * token (`1,000.99`), and otherwise separates elements (`(3,100)`, `\\{2,250\\}`).
   */
  decimalComma?: boolean;
  /**
   * Use the symbolic backend (compute-engine) when the built-in parser cannot read an answer.
   * On by default; it is slow to load and is best used inside the worker pool.
   */
  symbolicFallback?: boolean;
}

export type CheckOptions = ExtractOptions & CompareOptions;

export function verdict(status: VerifyStatus, extracted: string | null, reason: string): MathVerdict {
  return { status, correct: status === 'correct', extracted, reason };
}
