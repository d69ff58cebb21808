import { availableParallelism } from 'node:os';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import type { HarnessProcess } from './harness-client.js';
import type { LimitOptions } from './limits.js';
import { runSubmission } from './runner.js';
import { detectSandbox, probeSandbox, type SandboxStatus } from './sandbox/detect.js';
import type { SandboxChoice, SandboxKind, SandboxOptions } from './sandbox/kinds.js';
import type { CodeSubmission, CodeVerdict } from './verdict.js';

export interface CodeVerifierOptions extends SandboxOptions, LimitOptions {
  /** Submissions run at once (default: the number of cores). Each is one sandbox. */
  concurrency?: number;
  /** `auto` picks bwrap, else unshare; `none-unsafe` must be asked for by name. */
  sandbox?: SandboxChoice;
}

/** The sandbox cannot be used: no verdict can be trusted. Retryable only after an operator fixes the host. */
export class SandboxUnavailableError extends AceReasonError {
  override readonly name = 'SandboxUnavailableError';
  constructor(message: string) {
    super(ErrorCodes.UNAVAILABLE, message, { retryable: false });
  }
}

/**
 * A bounded pool of sandboxes. `verify` queues; at most `concurrency` sandboxes exist at once, and
 * each request has deadlines enforced from outside the sandbox, so a call always settles.
 */
export class CodeVerifier implements AsyncDisposable {
  readonly concurrency: number;
  private readonly options: CodeVerifierOptions;
  private readonly freeSlots: number[];
  private readonly waiters: Array<(slot: number) => void> = [];
  private readonly running = new Set<HarnessProcess>();
  private status: Promise<SandboxStatus> | undefined;
  private closed = false;

  constructor(options: CodeVerifierOptions = {}) {
    this.options = options;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? availableParallelism()));
    this.freeSlots = Array.from({ length: this.concurrency }, (_, i) => i);
  }

  /** Which sandbox this verifier uses; probes it once. */
  sandboxStatus(): Promise<SandboxStatus> {
    this.status ??= this.resolveSandbox();
    return this.status;
  }

  private async resolveSandbox(): Promise<SandboxStatus> {
    const choice = this.options.sandbox ?? 'auto';
    if (choice === 'auto') return detectSandbox(this.options);
    if (choice === 'none-unsafe') return { kind: 'none-unsafe', ok: true, reason: 'no isolation (explicitly requested)' };
    return probeSandbox(choice, this.options);
  }

  /** Resolves when the sandbox works; throws SandboxUnavailableError (naming the fix) otherwise. */
  async ready(): Promise<SandboxKind> {
    const s = await this.sandboxStatus();
    if (!s.ok || s.kind === 'none') throw new SandboxUnavailableError(s.reason);
    return s.kind;
  }

  /** Scores one submission. Never rejects for program behaviour; only for invalid tests or after close(). */
  async verify(sub: CodeSubmission): Promise<CodeVerdict> {
    if (this.closed) throw new AceReasonError(ErrorCodes.CANCELLED, 'verifier is closed');
    const s = await this.sandboxStatus();
    if (!s.ok || s.kind === 'none') {
      const total = Array.isArray(sub.tests?.inputs) ? sub.tests.inputs.length : 0;
      return { status: 'sandbox_error', passed: false, testsPassed: 0, testsTotal: total, reason: s.reason };
    }
    const kind = s.kind;
    const slot = await this.acquire();
    if (this.closed) {
      this.release(slot);
      throw new AceReasonError(ErrorCodes.CANCELLED, 'verifier is closed');
    }
    try {
      return await runSubmission(sub, {
        kind,
        slot,
        sandbox: this.options,
        limits: this.options,
        onStart: (h) => {
          this.running.add(h);
          void h.exitedPromise.then(() => this.running.delete(h));
        },
      });
    } finally {
      this.release(slot);
    }
  }

  private acquire(): Promise<number> {
    const slot = this.freeSlots.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(slot: number): void {
    const next = this.waiters.shift();
    if (next !== undefined) next(slot);
    else this.freeSlots.push(slot);
  }

  /** Kills running sandboxes; queued calls then run into a closed verifier. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.running];
    for (const h of all) h.kill();
    await Promise.all(all.map((h) => h.exitedPromise));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
