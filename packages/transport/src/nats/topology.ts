/**
 * The JetStream topology, created idempotently: streams with file storage, and the KV buckets.
 * Calling it again with the same settings changes nothing; changed limits are applied in place.
 */
import { jetstreamManager, RetentionPolicy, StorageType, DiscardPolicy, type StreamConfig, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { AceReasonError, ErrorCodes, Streams, StreamSubjects, Buckets, type StreamName } from '@acereason/protocol';

export interface TopologySettings {
  /** Window in which a repeated msg-id is dropped (ms). Default 1 hour: covers a learner restart. */
  duplicateWindowMs?: number;
  /** Byte cap of the trajectory and scored logs (oldest dropped past it); -1 = unlimited (default). */
  maxLogBytes?: number;
  /** How long a worker's heartbeat stays in the registry (ms). Default 15 s. */
  workerTtlMs?: number;
  /** Replicas (for a NATS cluster). Default 1. */
  replicas?: number;
  /**
   * Only check that the streams and buckets exist (waiting up to `waitForMs` for whoever creates
   * them), never create or update: for roles whose NATS user may not manage streams. Default false.
   */
  verifyOnly?: boolean;
  /** With `verifyOnly`: how long to wait for the topology to appear (ms). Default 60 s. */
  waitForMs?: number;
}

export interface Topology {
  jsm: JetStreamManager;
  workers: KV;
  runState: KV;
  passRates: KV;
}

type NamedStreamConfig = Partial<StreamConfig> & { name: StreamName };

function streamConfigs(s: Required<Omit<TopologySettings, 'verifyOnly' | 'waitForMs'>>): NamedStreamConfig[] {
  const common = { storage: StorageType.File, num_replicas: s.replicas, duplicate_window: nanos(s.duplicateWindowMs) };
  return [
    { ...common, name: Streams.TASKS, subjects: StreamSubjects[Streams.TASKS], retention: RetentionPolicy.Workqueue },
    { ...common, name: Streams.TRAJECTORIES, subjects: StreamSubjects[Streams.TRAJECTORIES], retention: RetentionPolicy.Limits, max_bytes: s.maxLogBytes, discard: DiscardPolicy.Old },
    { ...common, name: Streams.SCORED, subjects: StreamSubjects[Streams.SCORED], retention: RetentionPolicy.Limits, max_bytes: s.maxLogBytes, discard: DiscardPolicy.Old },
    { ...common, name: Streams.EVENTS, subjects: StreamSubjects[Streams.EVENTS], retention: RetentionPolicy.Limits, max_msgs_per_subject: 1000 },
    { ...common, name: Streams.DEAD_LETTER, subjects: StreamSubjects[Streams.DEAD_LETTER], retention: RetentionPolicy.Limits, max_age: nanos(30 * 24 * 3600 * 1000) },
  ];
}

async function ensureStream(jsm: JetStreamManager, cfg: NamedStreamConfig): Promise<void> {
  const name = cfg.name;
  try {
    const info = await jsm.streams.info(name);
    const { retention: _r, storage: _s, ...mutable } = cfg;
    const differs = Object.entries(mutable).some(([k, v]) => JSON.stringify((info.config as unknown as Record<string, unknown>)[k]) !== JSON.stringify(v));
    if (differs) await jsm.streams.update(name, mutable);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(cfg);
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && /not found/i.test(err.message);
}

/** Waits until every stream (and bucket stream) exists; throws UNAVAILABLE after `waitForMs`. */
async function verifyStreams(jsm: JetStreamManager, names: string[], waitForMs: number): Promise<void> {
  const deadline = Date.now() + waitForMs;
  for (const name of names) {
    for (;;) {
      try {
        await jsm.streams.info(name);
        break;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        if (Date.now() > deadline) throw new AceReasonError(ErrorCodes.UNAVAILABLE, `stream ${name} does not exist (waited ${waitForMs} ms): the learner creates the topology, start it first`, { cause: err });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}

export async function ensureTopology(nc: NatsConnection, settings: TopologySettings = {}): Promise<Topology> {
  const s: Required<Omit<TopologySettings, 'verifyOnly' | 'waitForMs'>> = {
    duplicateWindowMs: settings.duplicateWindowMs ?? 3_600_000,
    maxLogBytes: settings.maxLogBytes ?? -1,
    workerTtlMs: settings.workerTtlMs ?? 15_000,
    replicas: settings.replicas ?? 1,
  };
  const jsm = await jetstreamManager(nc);
  if (settings.verifyOnly) {
    // Kvm.create below only reads the bucket's stream info when the stream exists.
    await verifyStreams(jsm, [...streamConfigs(s).map((c) => c.name), ...Object.values(Buckets).map((b) => `KV_${b}`)], settings.waitForMs ?? 60_000);
  } else {
    for (const cfg of streamConfigs(s)) await ensureStream(jsm, cfg);
  }
  const kvm = new Kvm(nc);
  const workers = await kvm.create(Buckets.WORKERS, { ttl: s.workerTtlMs, history: 1, replicas: s.replicas, storage: StorageType.File });
  const runState = await kvm.create(Buckets.RUN_STATE, { history: 5, replicas: s.replicas, storage: StorageType.File });
  const passRates = await kvm.create(Buckets.PASS_RATES, { history: 1, replicas: s.replicas, storage: StorageType.File });
  return { jsm, workers, runState, passRates };
}
