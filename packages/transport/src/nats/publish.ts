import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Codec } from '@acereason/protocol';
import { Backoff } from '../retry/backoff.js';
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

/** Runs `fn`, retrying transient NATS failures with back-off for up to `retryForMs`. */
export async function retryTransient<T>(fn: () => Promise<T>, retryForMs = 120_000): Promise<T> {
  const deadline = Date.now() + retryForMs;
  const backoff = new Backoff({ initialMs: 100, maxMs: 2000 });
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const delay = backoff.next();
      if (!isTransientNatsError(err) || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export function jetstreamClient(nc: NatsConnection): JetStreamClient {
  return jetstream(nc, { timeout: 10_000 });
}
