/**
 * JSON over HTTP to an inference server, with the retries a long run needs: 429, 5xx, timeouts,
 * refused or reset connections (a server restarting) are retried with the project's jittered
 * Backoff until `retryForMs` has passed; other 4xx answers are final. At most `maxConcurrency`
 * requests are in flight at once.
 */
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { Backoff, type Logger } from '@acereason/transport';
import type { HttpCall } from './dialect.js';

export interface ServerClientOptions {
  url: string;
  apiKey?: string;
  maxConcurrency: number;
  requestTimeoutMs: number;
  /** How long retryable failures are retried before the call fails (UNAVAILABLE, retryable). */
  retryForMs: number;
  logger: Logger;
}

/** Why a call failed: retryable when the server may answer later. */
export class ServerError extends AceReasonError {
  override readonly name = 'ServerError';
  constructor(message: string, readonly status: number | undefined, retryable: boolean) {
    super(retryable ? ErrorCodes.UNAVAILABLE : ErrorCodes.INVALID, message, { retryable });
  }
}

export class ServerClient {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly o: ServerClientOptions) {}

  get url(): string {
    return this.o.url;
  }

  private async slot(): Promise<() => void> {
    while (this.active >= this.o.maxConcurrency) await new Promise<void>((r) => this.waiters.push(r));
    this.active++;
    return () => {
      this.active--;
      this.waiters.shift()?.();
    };
  }

  /** One attempt. */
  async once(call: HttpCall, signal?: AbortSignal): Promise<unknown> {
    const release = await this.slot();
    const timeout = AbortSignal.timeout(this.o.requestTimeoutMs);
    try {
      let res: Response;
      try {
        res = await fetch(this.o.url + call.path, {
          method: call.method,
          headers: { ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(this.o.apiKey ? { authorization: `Bearer ${this.o.apiKey}` } : {}) },
          ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (err) {
        if (signal?.aborted) throw new AceReasonError(ErrorCodes.CANCELLED, `${call.path}: cancelled`, { cause: err });
        const why = timeout.aborted ? `no answer within ${this.o.requestTimeoutMs} ms` : connectionProblem(err);
        throw new ServerError(`${call.method} ${this.o.url}${call.path}: ${why}`, undefined, true);
      }
      const text = await res.text().catch(() => '');
      if (!res.ok) {
        const retryable = res.status === 429 || res.status >= 500;
        throw new ServerError(`${call.method} ${this.o.url}${call.path}: HTTP ${res.status} ${text.slice(0, 300)}`, res.status, retryable);
      }
      if (text === '') return {};
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // Some control endpoints answer plain text ("OK").
        return { text };
      }
    } finally {
      release();
    }
  }

  /** Retries retryable failures with jittered back-off for up to `retryForMs`. */
  async call(call: HttpCall, signal?: AbortSignal): Promise<unknown> {
    const deadline = Date.now() + this.o.retryForMs;
    const backoff = new Backoff({ initialMs: 100, maxMs: 2000 });
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(call, signal);
      } catch (err) {
        if (!(err instanceof ServerError) || !err.retryable || signal?.aborted || Date.now() >= deadline) throw err;
        if (attempt === 1 || attempt % 10 === 0) this.o.logger.warn({ attempt, err: err.message }, 'inference server call failed, retrying');
        await backoff.wait(signal);
      }
    }
  }
}

function connectionProblem(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
