import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Codec } from '@acereason/protocol';

export interface Published {
  stream: string;
  seq: number;
  /** True when the server already had this msg-id and dropped the copy. */
  duplicate: boolean;
}

/**
 * Publishes one message to JetStream with a msg-id (the message's own `id` unless given), so a
 * retried publish after a crash or a timeout is stored once. Waits for the server's ack.
 */
export async function publishMessage<T extends { id: string }>(js: JetStreamClient, subject: string, codec: Codec<T>, value: T, opts: { msgId?: string; timeoutMs?: number } = {}): Promise<Published> {
  const ack = await js.publish(subject, codec.encode(value), { msgID: opts.msgId ?? value.id, timeout: opts.timeoutMs ?? 10_000 });
  return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
}

export function jetstreamClient(nc: NatsConnection): JetStreamClient {
  return jetstream(nc, { timeout: 10_000 });
}
