/**
 * The JetStream topology, created idempotently: streams with file storage, and the KV buckets.
 * Calling it again with the same settings changes nothing; changed limits are applied in place.
 *
 * The work streams (TASKS, TRAJECTORIES, SCORED) are work queues: a message leaves the stream when
 * its one consumer acks it, and stays (whether a consumer exists yet or not) until then. So the
 * store holds only work not yet consumed, an ack frees room in a full stream, and no limit ever
 * drops unconsumed work (they take discard `new` and no `max_age`). Interest retention would drop
 * a message published while no consumer exists (an actor started before any verifier); the work
 * queue's price is that each message has one consumer: a second consumer whose filter overlaps
 * is refused by the server (observers read stream and consumer info, never consume). Streams made
 * by an older version with limits retention are migrated by the owner (retention.ts).
 */
import { jetstreamManager, RetentionPolicy, StorageType, DiscardPolicy, type StreamConfig, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { AceReasonError, ErrorCodes, Streams, StreamSubjects, Buckets, ObjectBuckets, type StreamName } from '@acereason/protocol';
import { isNotFoundError } from './errors.js';
import { Backoff } from '../retry/backoff.js';
import { objectStream, openObjectStore, type ObjectStore } from './object-store.js';
import { waitForStreamLeader } from './leaders.js';
import { migrateRetention } from './retention.js';
import type { Logger } from '../logger.js';

export interface TopologySettings {
  /** Window in which a repeated msg-id is dropped (ms). Default 1 hour: covers a learner restart. */
  duplicateWindowMs?: number;
  /**
   * Limits per stream (max_bytes, max_age, discard). Work streams (tasks, trajectories, scored)
   * only take discard `new` and no `max_age`: at the limit a publish is refused (and retried)
   * until an ack frees room, instead of dropping work nobody consumed yet. Unset: unlimited,
   * discard new for work, old for events/dead letters.
   */
  limits?: Partial<Record<StreamName, StreamLimits>>;
  /** How long a worker's heartbeat stays in the registry (ms). Default 15 s. */
  workerTtlMs?: number;
  /**
   * Replicas of every stream and bucket. `auto` (the default): 3 when the server is part of a
   * cluster (its INFO names one), else 1. A cluster needs at least that many JetStream nodes.
   */
  replicas?: number | 'auto';
  /**
   * The owner of the topology (the learner): it also brings existing streams to these settings
   * (limits, replicas) and migrates work streams made with another retention (retention.ts).
   * Others only create what is missing and leave existing streams as they are, so a worker
   * started with defaults never undoes the run's settings. Default false.
   */
  owner?: boolean;
  /** Where the owner says what it migrated. */
  logger?: Logger;
  /**
   * Only check that the streams and buckets exist (waiting up to `waitForMs` for whoever creates
   * them), never create or update: for roles whose NATS user may not manage streams. Default false.
   */
  verifyOnly?: boolean;
  /** With `verifyOnly`: how long to wait for the topology to appear (ms). Default 60 s. */
  waitForMs?: number;
}

export interface StreamLimits {
  /** Bytes the stream may hold; -1 = unlimited. */
  maxBytes: number;
  /** How long a message is kept (ms); 0 = forever. */
  maxAgeMs: number;
  discard: 'old' | 'new';
}

/** Streams whose messages are work someone has still to consume: never discard-old. */
export const WORK_STREAMS: readonly StreamName[] = [Streams.TASKS, Streams.TRAJECTORIES, Streams.SCORED];

const DEFAULT_LIMITS: Record<StreamName, StreamLimits> = {
  [Streams.TASKS]: { maxBytes: -1, maxAgeMs: 0, discard: 'new' },
  [Streams.TRAJECTORIES]: { maxBytes: -1, maxAgeMs: 0, discard: 'new' },
  [Streams.SCORED]: { maxBytes: -1, maxAgeMs: 0, discard: 'new' },
  [Streams.EVENTS]: { maxBytes: -1, maxAgeMs: 0, discard: 'old' },
  [Streams.DEAD_LETTER]: { maxBytes: -1, maxAgeMs: 30 * 24 * 3600 * 1000, discard: 'old' },
};

/** The limits of every stream: the defaults overlaid with `given`; discard-old or an age limit on a work stream is refused. */
export function resolveLimits(given: Partial<Record<StreamName, StreamLimits>> = {}): Record<StreamName, StreamLimits> {
  const out = { ...DEFAULT_LIMITS };
  for (const [name, l] of Object.entries(given) as [StreamName, StreamLimits][]) {
    if (WORK_STREAMS.includes(name) && l.discard === 'old') throw new AceReasonError(ErrorCodes.INVALID, `${name}: discard "old" would drop work not yet consumed; work streams take discard "new" (publishers wait at the limit)`, { field: name });
    if (WORK_STREAMS.includes(name) && l.maxAgeMs > 0) throw new AceReasonError(ErrorCodes.INVALID, `${name}: max_age would drop work not yet consumed; a work stream's messages leave it when acked, so it takes no age limit`, { field: name });
    out[name] = l;
  }
  return out;
}

export interface Topology {
  jsm: JetStreamManager;
  workers: KV;
  runState: KV;
  passRates: KV;
  /** Code tests by sha256 (the learner writes them once; verifiers read them). */
  codeTests: ObjectStore;
  /** Run assets (tokenizer files, model config) by sha256 (the learner writes them; workers read them). */
  assets: ObjectStore;
}

type NamedStreamConfig = Partial<StreamConfig> & { name: StreamName };

type ResolvedTopology = Required<Omit<TopologySettings, 'verifyOnly' | 'waitForMs' | 'owner' | 'replicas' | 'limits' | 'logger'>> & { replicas: number; limits: Record<StreamName, StreamLimits> };

function streamConfigs(s: ResolvedTopology): NamedStreamConfig[] {
  const common = { storage: StorageType.File, num_replicas: s.replicas, duplicate_window: nanos(s.duplicateWindowMs) };
  const limits = (n: StreamName): Partial<StreamConfig> => {
    const l = s.limits[n];
    return { max_bytes: l.maxBytes, max_age: nanos(l.maxAgeMs), discard: l.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old };
  };
  return [
    { ...common, ...limits(Streams.TASKS), name: Streams.TASKS, subjects: StreamSubjects[Streams.TASKS], retention: RetentionPolicy.Workqueue },
    { ...common, ...limits(Streams.TRAJECTORIES), name: Streams.TRAJECTORIES, subjects: StreamSubjects[Streams.TRAJECTORIES], retention: RetentionPolicy.Workqueue },
    { ...common, ...limits(Streams.SCORED), name: Streams.SCORED, subjects: StreamSubjects[Streams.SCORED], retention: RetentionPolicy.Workqueue },
    { ...common, ...limits(Streams.EVENTS), name: Streams.EVENTS, subjects: StreamSubjects[Streams.EVENTS], retention: RetentionPolicy.Limits, max_msgs_per_subject: 1000 },
    { ...common, ...limits(Streams.DEAD_LETTER), name: Streams.DEAD_LETTER, subjects: StreamSubjects[Streams.DEAD_LETTER], retention: RetentionPolicy.Limits },
  ];
}

async function ensureStream(jsm: JetStreamManager, cfg: NamedStreamConfig, owner: boolean, logger?: Logger): Promise<void> {
  const name = cfg.name;
  try {
    const info = await jsm.streams.info(name);
    if (!owner) return;
    // Retention cannot change in place: made again when all it holds was consumed, else refused.
    if (info.config.retention !== cfg.retention) return await migrateRetention(jsm, cfg, info, logger);
    const { retention: _r, storage: _s, ...mutable } = cfg;
    const differs = Object.entries(mutable).some(([k, v]) => JSON.stringify((info.config as unknown as Record<string, unknown>)[k]) !== JSON.stringify(v));
    if (differs) await jsm.streams.update(name, mutable);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(cfg);
  }
}

const isNotFound = isNotFoundError;

/** Waits until every stream (and bucket stream) exists; throws UNAVAILABLE after `waitForMs`. */
async function verifyStreams(jsm: JetStreamManager, names: string[], waitForMs: number): Promise<void> {
  const deadline = Date.now() + waitForMs;
  const poll = new Backoff({ initialMs: 250, maxMs: 1000 });
  for (const name of names) {
    for (;;) {
      try {
        await jsm.streams.info(name);
        break;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        if (Date.now() > deadline) throw new AceReasonError(ErrorCodes.UNAVAILABLE, `stream ${name} does not exist (waited ${waitForMs} ms): the learner creates the topology, start it first`, { cause: err });
        await poll.wait();
      }
    }
  }
}

export async function ensureTopology(nc: NatsConnection, settings: TopologySettings = {}): Promise<Topology> {
  const s: ResolvedTopology = {
    duplicateWindowMs: settings.duplicateWindowMs ?? 3_600_000,
    limits: resolveLimits(settings.limits),
    workerTtlMs: settings.workerTtlMs ?? 15_000,
    replicas: resolveReplicas(nc, settings.replicas),
  };
  const jsm = await jetstreamManager(nc);
  if (settings.verifyOnly) {
    // Kvm.create below only reads the bucket's stream info when the stream exists.
    await verifyStreams(jsm, allStreamNames(s), settings.waitForMs ?? 60_000);
  } else {
    for (const cfg of streamConfigs(s)) await ensureStream(jsm, cfg, settings.owner === true, settings.logger);
  }
  const kvm = new Kvm(nc);
  const workers = await kvm.create(Buckets.WORKERS, { ttl: s.workerTtlMs, history: 1, replicas: s.replicas, storage: StorageType.File });
  const runState = await kvm.create(Buckets.RUN_STATE, { history: 5, replicas: s.replicas, storage: StorageType.File });
  const passRates = await kvm.create(Buckets.PASS_RATES, { history: 1, replicas: s.replicas, storage: StorageType.File });
  const codeTests = await openObjectStore(nc, ObjectBuckets.CODE_TESTS, { create: !settings.verifyOnly, replicas: s.replicas });
  const assets = await openObjectStore(nc, ObjectBuckets.ASSETS, { create: !settings.verifyOnly, replicas: s.replicas });
  // On a cluster a stream answers (direct gets, consumers) only once its RAFT group has a leader.
  if (s.replicas > 1) await waitForLeaders(jsm, allStreamNames(s), settings.waitForMs ?? 60_000);
  if (settings.owner && !settings.verifyOnly) {
    // Buckets made before (with other replicas) are scaled to the run's setting.
    for (const name of [...Object.values(Buckets).map((b) => `KV_${b}`), ...Object.values(ObjectBuckets).map(objectStream)]) {
      const info = await jsm.streams.info(name);
      if (info.config.num_replicas !== s.replicas) await jsm.streams.update(name, { num_replicas: s.replicas });
    }
  }
  return { jsm, workers, runState, passRates, codeTests, assets };
}

/** Every stream of the topology: the work and event streams, the KV buckets' and the object stores'. */
function allStreamNames(s: ResolvedTopology): string[] {
  return [...streamConfigs(s).map((c) => c.name), ...Object.values(Buckets).map((b) => `KV_${b}`), ...Object.values(ObjectBuckets).map(objectStream)];
}

async function waitForLeaders(jsm: JetStreamManager, names: string[], waitForMs: number): Promise<void> {
  const deadline = Date.now() + waitForMs;
  for (const name of names) await waitForStreamLeader(jsm, name, { timeoutMs: Math.max(0, deadline - Date.now()) });
}

/** `auto`: 3 replicas on a clustered server, 1 on a single one. */
export function resolveReplicas(nc: NatsConnection, replicas: number | 'auto' | undefined): number {
  if (typeof replicas === 'number') {
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new AceReasonError(ErrorCodes.INVALID, `replicas must be an integer from 1 to 5, got ${replicas}`, { field: 'replicas' });
    return replicas;
  }
  return nc.info?.cluster !== undefined ? 3 : 1;
}
