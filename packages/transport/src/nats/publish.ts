import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Codec } from '@acereason/protocol';
import { Backoff } from '../retry/backoff.js';
import type { Logger } from '../logger.js';
import { isStreamFullError, isTransientNatsError } from './errors.js';

export interface Published {
  stream: string;
  seq: number;
  /** True when the server already had this msg-id and dropped the copy. */
  duplicate: boolean;
}

/**
 * Publishes one message to JetStream with a msg-id (the message's own `id` unless given), so a
 * retried publish after a crash or a timeout is stored once, and waits for the server's ack.
 * While the server is unreachable (a restart) or the stream is full, it retries with back-off for
 * up to `retryForMs`; a stream still full then is an UNAVAILABLE error that says so.
 */
export async function publishMessage<T extends { id: string }>(js: JetStreamClient, subject: string, codec: Codec<T>, value: T, opts: { msgId?: string; timeoutMs?: number; retryForMs?: number } = {}): Promise<Published> {
  const data = codec.encode(value);
  const deadline = Date.now() + (opts.retryForMs ?? 120_000);
  const backoff = new Backoff({ initialMs: 100, maxMs: 2000 });
  for (;;) {
    try {
      const ack = await js.publish(subject, data, { msgID: opts.msgId ?? value.id, timeout: opts.timeoutMs ?? 10_000 });
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      const full = isStreamFullError(err);
      const delay = backoff.next();
      if ((!full && !isTransientNatsError(err)) || Date.now() + delay > deadline) {
        if (full) throw new AceReasonError(ErrorCodes.UNAVAILABLE, `the stream of ${subject} is full (at its max_bytes with discard new) and stayed full for ${opts.retryForMs ?? 120_000} ms: its consumers are behind or the limit is too small (see the streams: section of the run file)`, { cause: err, retryable: true });
        throw err;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export interface TransientRetry {
  /** Give up after this long (ms); then the last failure is thrown. Default 120 s. */
  retryForMs?: number;
  /** Each retry is logged at warn with what was being done. */
  logger?: Logger | undefined;
  what?: string;
  /** Stops the retries (the last failure is thrown). */
  signal?: AbortSignal | undefined;
}

/**
 * A transient NATS failure (the server restarting, a leader being elected, a request timing out
 * meanwhile), also when wrapped as the cause of an UNAVAILABLE AceReasonError (connectNats).
 */
export function isTransientFailure(err: unknown): boolean {
  if (isTransientNatsError(err)) return true;
  return err instanceof AceReasonError && err.code === ErrorCodes.UNAVAILABLE && err.cause !== undefined && isTransientFailure(err.cause);
}

/**
 * Runs `fn`, retrying transient NATS failures with back-off for up to `retryForMs` (a number, or
 * the `retryForMs` of the options); anything else is thrown at once.
 */
export async function retryTransient<T>(fn: () => Promise<T>, o: number | TransientRetry = {}): Promise<T> {
  const opts = typeof o === 'number' ? { retryForMs: o } : o;
  const deadline = Date.now() + (opts.retryForMs ?? 120_000);
  const backoff = new Backoff({ initialMs: 100, maxMs: 2000 });
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const delay = backoff.next();
      if (!isTransientFailure(err) || Date.now() + delay > deadline || opts.signal?.aborted) throw err;
      opts.logger?.warn({ err: err instanceof Error ? err.message : String(err), attempt }, `${opts.what ?? 'NATS request'}: NATS not answering yet, retrying`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export function jetstreamClient(nc: NatsConnection): JetStreamClient {
  return jetstream(nc, { timeout: 10_000 });
}
