import type { VerifyStatus } from '../types.js';

/** One verification case with the reason its verdict is the right one. */
export interface Case {
  /** A full response: extraction runs first. */
  response?: string;
  /** An already extracted answer (when `response` is absent). */
  pred?: string;
  gold: string;
  expect: VerifyStatus;
  why: string;
  /** Run with the fallback phrases ("final answer is ...") enabled. */
  fallbacks?: boolean;
  /** The answer extraction must produce, when the case is about extraction. */
  extracted?: string | null;
  /** The dataset's decimal-comma policy (off by default). */
  decimalComma?: boolean;
  /** A known limitation: the verifier is expected to get this case wrong (counted against accuracy). */
  known?: string;
}

export const yes = (pred: string, gold: string, why: string): Case => ({ pred, gold, expect: 'correct', why });
export const no = (pred: string, gold: string, why: string): Case => ({ pred, gold, expect: 'wrong', why });
export const box = (body: string): string => `<think>\nlet me think\n</think>\nThe answer is $\\boxed{${body}}$.`;

/** A case about a whole response: what is extracted, and the verdict. */
export const resp = (response: string, gold: string, expect: Case['expect'], extracted: string | null, why: string, fallbacks = false): Case => ({
  response,
  gold,
  expect,
  extracted,
  why,
  fallbacks,
});
