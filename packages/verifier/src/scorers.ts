/**
 * Scorers by domain: the reward functions behind the verifier service, chosen by name.
 * Each turns one response and the prompt's reference into a VerifyResult (reward 1 or 0).
 */
import { AceReasonError, ErrorCodes, type CheckableReference, type VerifyResult } from '@acereason/protocol';
import { MathVerifierPool, type MathVerifierPoolOptions } from '@acereason/verify-math';
import { CodeVerifier, type CodeVerifierOptions } from '@acereason/verify-code';

export interface Scorer {
  score(response: string, reference: CheckableReference): Promise<VerifyResult>;
  close(): Promise<void>;
}

/** The verification could not be done (not the response's fault): the group must be retried. */
export class InfrastructureError extends AceReasonError {
  override readonly name = 'InfrastructureError';
  constructor(message: string) {
    super(ErrorCodes.UNAVAILABLE, message, { retryable: true });
  }
}

export function mathScorer(opts: MathVerifierPoolOptions = {}): Scorer {
  const pool = new MathVerifierPool({ timeoutMs: 2000, ...opts });
  return {
    async score(response, reference) {
      if (reference.type !== 'math') throw new AceReasonError(ErrorCodes.INVALID, `reference: expected a math answer, got ${reference.type}`);
      const t0 = performance.now();
      const v = await pool.verify({ response, answer: reference.answer, decimalComma: reference.decimalComma });
      return { reward: v.correct ? 1 : 0, status: v.status, correct: v.correct, ...(v.extracted !== null ? { extracted: v.extracted.slice(0, 500) } : {}), reason: v.reason.slice(0, 500), latencyMs: performance.now() - t0 };
    },
    close: () => pool.close(),
  };
}

export function codeScorer(opts: CodeVerifierOptions = {}): Scorer {
  const verifier = new CodeVerifier(opts);
  return {
    async score(response, reference) {
      if (reference.type !== 'code') throw new AceReasonError(ErrorCodes.INVALID, `reference: expected code tests, got ${reference.type}`);
      const t0 = performance.now();
      const v = await verifier.verify({
        response,
        tests: { inputs: reference.tests.inputs, outputs: reference.tests.outputs, ...(reference.tests.fnName ? { fnName: reference.tests.fnName } : {}) },
        ...(reference.timeLimitS !== undefined ? { timeLimitS: reference.timeLimitS } : {}),
        ...(reference.memoryMb !== undefined ? { memoryMb: reference.memoryMb } : {}),
      });
      if (v.status === 'sandbox_error') throw new InfrastructureError(`sandbox failed: ${v.reason}`);
      return { reward: v.passed ? 1 : 0, status: v.status, correct: v.passed, reason: `${v.testsPassed}/${v.testsTotal} tests; ${v.reason}`.slice(0, 500), latencyMs: performance.now() - t0 };
    },
    close: () => verifier.close(),
  };
}
