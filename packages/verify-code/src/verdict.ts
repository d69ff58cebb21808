/**
 * What a code rollout earned (the wire's code vocabulary, defined once in the protocol). Only
 * `accepted` passes; `sandbox_error` is never the program's fault.
 */
import { CODE_STATUSES, type CodeStatus } from '@acereason/protocol';

export { CODE_STATUSES, type CodeStatus };

export interface CodeVerdict {
  status: CodeStatus;
  /** True only when every test passed within its limits. */
  passed: boolean;
  testsPassed: number;
  testsTotal: number;
  /** Index of the first failing test, when one failed. */
  firstFailedTest?: number;
  /** Human-readable detail (diff summary, error tail, limit hit). */
  reason: string;
  /** Wall time of each test that ran, in ms, measured inside the sandbox. */
  timingsMs?: number[];
}

export type CodeLanguage = 'python' | 'cpp';

export interface CodeTests {
  inputs: readonly unknown[];
  outputs: readonly unknown[];
  /** Present for function-call (LeetCode-style) problems. */
  fnName?: string;
}

export interface CodeSubmission {
  /** The program itself; or give `response` to extract it from a model response. */
  code?: string;
  response?: string;
  /** Defaults to the extracted block's language, else python. */
  language?: CodeLanguage;
  tests: CodeTests;
  /** CPU time limit per test (default 4 s); wall limit is derived from it. */
  timeLimitS?: number;
  /** Address-space limit per process (default 1024 MB). */
  memoryMb?: number;
  /** Run every test even after a failure (diagnostics). Default: stop at the first failure. */
  runAll?: boolean;
}
