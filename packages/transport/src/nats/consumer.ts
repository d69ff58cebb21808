/**
 * Durable pull consumers as async iterables with explicit settlement.
 *
 * - At most `maxInFlight` deliveries are held unsettled by this client (back-pressure): the next
 *   fetch waits for a slot.
 * - A held delivery's lease is extended automatically (`working`) until it is settled, so a live
 *   but slow worker keeps its message and a dead one loses it after `ackWaitMs`.
 * - A message that fails to decode or validate is copied to the dead-letter stream with the reason
 *   and settled; the iteration goes on. So is a message nak'ed on its last allowed delivery.
 */
import { AckPolicy, DeliverPolicy, jetstreamManager, type JetStreamClient, type JsMsg, type Consumer } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { toAceReasonError, type Codec, type StreamName } from '@acereason/protocol';
import { deadLetterMessage } from './dead-letter.js';
import { jetstreamClient, retryTransient } from './publish.js';
import type { Logger } from '../logger.js';
import { isNotFoundError } from './errors.js';
import { Backoff } from '../retry/backoff.js';

export interface ConsumerSettings<T> {
  stream: StreamName;
  durable: string;
  codec: Codec<T>;
  filterSubject?: string;
  /** Unsettled deliveries this client holds at most. */
  maxInFlight: number;
  /** The lease: an unacked delivery is redelivered after this long without `working`. */
  ackWaitMs?: number;
  /** Deliveries before a message is dead-lettered instead of nak'ed. */
  maxDeliver?: number;
  /** Unacked messages across all clients of this durable. */
  maxAckPending?: number;
  /** Fetch batch size upper bound. */
  batch?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

export interface Delivery<T> {
  readonly value: T;
  readonly subject: string;
  readonly streamSeq: number;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  ack(): Promise<void>;
  /** Redeliver later (or dead-letter, on the last allowed delivery). */
  nak(delayMs?: number): Promise<void>;
  /** Never redeliver; copied to the dead-letter stream with the reason. */
  deadLetter(reason: string): Promise<void>;
}

export type ConsumerEvent =
  | { type: 'dead_lettered'; subject: string; streamSeq: number; reason: string }
  | { type: 'fetch_error'; error: string };

/**
 * Creates the durable consumer or brings it to these settings. While NATS does not answer for a
 * moment (a node restarting, the stream electing a leader) it retries, up to 60 s.
 */
export async function ensureConsumer(nc: NatsConnection, s: ConsumerSettings<unknown>): Promise<void> {
  await retryTransient(() => upsertConsumer(nc, s), { retryForMs: 60_000, logger: s.logger, what: `consumer ${s.durable} on ${s.stream}`, signal: s.signal });
}

async function upsertConsumer(nc: NatsConnection, s: ConsumerSettings<unknown>): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const cfg = {
    durable_name: s.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(s.ackWaitMs ?? 30_000),
    max_deliver: -1,
    max_ack_pending: s.maxAckPending ?? 10_000,
    ...(s.filterSubject ? { filter_subject: s.filterSubject } : {}),
  };
  try {
    await jsm.consumers.info(s.stream, s.durable);
    await jsm.consumers.update(s.stream, s.durable, { ack_wait: cfg.ack_wait, max_ack_pending: cfg.max_ack_pending });
  } catch (err) {
    if (!isNotFoundError(err)) throw err;
    await jsm.consumers.add(s.stream, cfg);
  }
}

export class MessageConsumer<T> implements AsyncIterable<Delivery<T>> {
  private inFlight = 0;
  private slotWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly js: JetStreamClient;
  private readonly eventListeners = new Set<(e: ConsumerEvent) => void>();
  /** Counters for metrics and tests. */
  readonly counts = { delivered: 0, acked: 0, naked: 0, deadLettered: 0 };

  constructor(private readonly nc: NatsConnection, private readonly s: ConsumerSettings<T>) {
    this.js = jetstreamClient(nc);
    s.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  get held(): number {
    return this.inFlight;
  }

  /** Stops fetching; deliveries already handed out can still be settled. */
  stop(): void {
    this.stopped = true;
    for (const w of this.slotWaiters.splice(0)) w();
  }

  onEvent(listener: (e: ConsumerEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private emit(e: ConsumerEvent): void {
    for (const l of this.eventListeners) l(e);
  }

  private async waitForSlot(): Promise<void> {
    while (!this.stopped && this.inFlight >= this.s.maxInFlight) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
  }

  private release(): void {
    this.inFlight--;
    const w = this.slotWaiters.shift();
    if (w) w();
  }

  private async deadLetter(m: JsMsg, reason: string): Promise<void> {
    await deadLetterMessage(this.js, m, reason);
    this.counts.deadLettered++;
    this.s.logger?.warn({ subject: m.subject, seq: m.info.streamSequence, reason }, 'message dead-lettered');
    this.emit({ type: 'dead_lettered', subject: m.subject, streamSeq: m.info.streamSequence, reason });
  }

  private wrap(m: JsMsg, value: T): Delivery<T> {
    const ackWait = this.s.ackWaitMs ?? 30_000;
    const keepAlive = setInterval(() => m.working(), Math.max(200, Math.floor(ackWait / 3)));
    keepAlive.unref();
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearInterval(keepAlive);
      this.release();
      return true;
    };
    const maxDeliver = this.s.maxDeliver ?? 20;
    return {
      value,
      subject: m.subject,
      streamSeq: m.info.streamSequence,
      deliveryCount: m.info.deliveryCount,
      ack: async () => {
        if (!settle()) return;
        await m.ackAck();
        this.counts.acked++;
      },
      nak: async (delayMs?: number) => {
        if (!settle()) return;
        if (m.info.deliveryCount >= maxDeliver) {
          await this.deadLetter(m, `failed ${m.info.deliveryCount} deliveries (max ${maxDeliver})`);
          return;
        }
        m.nak(delayMs);
        this.counts.naked++;
      },
      deadLetter: async (reason: string) => {
        if (!settle()) return;
        await this.deadLetter(m, reason);
      },
    };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Delivery<T>> {
    let consumer: Consumer | undefined;
    const batchMax = this.s.batch ?? 64;
    const backoff = new Backoff({ initialMs: 100, maxMs: 2000 });
    while (!this.stopped) {
      await this.waitForSlot();
      if (this.stopped) break;
      try {
        consumer ??= await this.js.consumers.get(this.s.stream, this.s.durable);
        const want = Math.max(1, Math.min(batchMax, this.s.maxInFlight - this.inFlight));
        const batch = await consumer.fetch({ max_messages: want, expires: 1000 });
        for await (const m of batch) {
          let value: T;
          try {
            value = this.s.codec.decode(m.data);
          } catch (err) {
            await this.deadLetter(m, `${this.s.codec.kind}: ${toAceReasonError(err).message}`);
            continue;
          }
          this.inFlight++;
          this.counts.delivered++;
          yield this.wrap(m, value);
        }
        backoff.reset();
      } catch (err) {
        if (this.stopped) break;
        consumer = undefined;
        // The durable is gone (its stream was made again, e.g. migrated to another retention): make it again.
        if (isNotFoundError(err)) await ensureConsumer(this.nc, this.s as ConsumerSettings<unknown>).catch(() => undefined);
        const error = err instanceof Error ? err.message : String(err);
        this.emit({ type: 'fetch_error', error });
        this.s.logger?.debug({ err: error }, 'fetch failed, retrying');
        await backoff.wait();
      }
    }
  }
}

/** Creates (idempotently) the durable consumer and returns an iterable over its deliveries. */
export async function consume<T>(nc: NatsConnection, settings: ConsumerSettings<T>): Promise<MessageConsumer<T>> {
  await ensureConsumer(nc, settings as ConsumerSettings<unknown>);
  return new MessageConsumer(nc, settings);
}
