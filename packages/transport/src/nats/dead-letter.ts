/**
 * The dead-letter stream: messages that cannot be processed (malformed, or delivered too often)
 * are copied here with the reason before they are settled in their own stream, so nothing is
 * lost and an operator can inspect or replay them.
 */
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { Streams, Subjects } from '@acereason/protocol';

export const DeadLetterHeaders = {
  reason: 'AceReason-Reason',
  stream: 'AceReason-Stream',
  subject: 'AceReason-Subject',
  seq: 'AceReason-Seq',
  deliveries: 'AceReason-Deliveries',
} as const;

export interface DeadLetter {
  reason: string;
  stream: string;
  subject: string;
  seq: number;
  deliveries: number;
  data: Uint8Array;
  /** Sequence in the dead-letter stream. */
  dlqSeq: number;
}

/**
 * Copies `m` to the dead-letter stream (idempotent per original stream+seq), then settles it in
 * its own stream. It is acked rather than termed: the copy is its handling, and on a work-queue
 * stream only an ack removes the message.
 */
export async function deadLetterMessage(js: JetStreamClient, m: JsMsg, reason: string): Promise<void> {
  const h = headers();
  const oneLine = reason.replace(/\s+/g, ' ').slice(0, 2000);
  h.set(DeadLetterHeaders.reason, oneLine);
  h.set(DeadLetterHeaders.stream, m.info.stream);
  h.set(DeadLetterHeaders.subject, m.subject);
  h.set(DeadLetterHeaders.seq, String(m.info.streamSequence));
  h.set(DeadLetterHeaders.deliveries, String(m.info.deliveryCount));
  await js.publish(Subjects.deadLetter(m.info.stream), m.data, { headers: h, msgID: `dlq:${m.info.stream}:${m.info.streamSequence}` });
  await m.ackAck();
}

/** Reads dead letters (oldest first), for `acereason status`, tests and replay tools. */
export async function readDeadLetters(nc: NatsConnection, opts: { fromStream?: string; limit?: number } = {}): Promise<DeadLetter[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(Streams.DEAD_LETTER);
  const out: DeadLetter[] = [];
  const limit = opts.limit ?? 1000;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && out.length < limit; seq++) {
    let sm;
    try {
      sm = await jsm.streams.getMessage(Streams.DEAD_LETTER, { seq });
    } catch {
      continue; // deleted
    }
    if (!sm) continue;
    const h = sm.header;
    const stream = h.get(DeadLetterHeaders.stream);
    if (opts.fromStream && stream !== opts.fromStream) continue;
    out.push({
      reason: h.get(DeadLetterHeaders.reason),
      stream,
      subject: h.get(DeadLetterHeaders.subject),
      seq: Number(h.get(DeadLetterHeaders.seq)),
      deliveries: Number(h.get(DeadLetterHeaders.deliveries)),
      data: sm.data,
      dlqSeq: sm.seq,
    });
  }
  return out;
}
