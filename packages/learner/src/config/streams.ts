/**
 * The `streams:` section of the run file: how the learner lays out JetStream (it owns the
 * topology). `replicas: auto` (default) is 3 on a NATS cluster and 1 on a single server. Each
 * stream takes `max_bytes`, `max_age` and `discard`; the work streams (tasks, trajectories,
 * scored) are work queues (a message leaves when acked), take only `discard: new` and no
 * `max_age`, so at a limit publishers wait until an ack frees room instead of work being dropped.
 *
 *   streams:
 *     replicas: auto
 *     trajectories: { max_bytes: 20GB }
 *     scored:       { max_bytes: 40GB }
 *     dead_letter:  { max_bytes: 10GB, max_age: 30d }
 */
import { Streams, ValidationError, type StreamName } from '@acereason/protocol';
import { WORK_STREAMS } from '@acereason/transport';
import { parseBytes, parseDuration, parseEnum, parseNumber, section } from './units.js';

export interface StreamLimitsConfig {
  maxBytes: number;
  maxAgeMs: number;
  discard: 'old' | 'new';
}

export interface StreamsConfig {
  replicas: number | 'auto';
  /** Only the streams the run file sets; the rest keep transport's defaults. */
  limits: Partial<Record<StreamName, StreamLimitsConfig>>;
}

const KEYS: Record<string, StreamName> = {
  tasks: Streams.TASKS, trajectories: Streams.TRAJECTORIES, scored: Streams.SCORED, events: Streams.EVENTS, dead_letter: Streams.DEAD_LETTER,
};

export function parseStreams(raw: unknown): StreamsConfig {
  const s = section(raw, 'streams', ['replicas', ...Object.keys(KEYS)]);
  const replicas = s.replicas === undefined || s.replicas === 'auto' ? 'auto' : parseNumber(s.replicas, 'streams.replicas', { integer: true, min: 1, max: 5 });
  if (typeof replicas === 'number' && replicas % 2 === 0) throw new ValidationError('streams.replicas', `expected an odd number (a RAFT quorum of ${replicas} survives no more failures than ${replicas - 1}), got ${replicas}`);
  const limits: StreamsConfig['limits'] = {};
  for (const [key, name] of Object.entries(KEYS)) {
    if (s[key] === undefined) continue;
    const f = `streams.${key}`;
    const work = WORK_STREAMS.includes(name);
    const l = section(s[key], f, ['max_bytes', 'max_age', 'discard']);
    const discard = l.discard === undefined ? (work ? 'new' : 'old') : parseEnum(l.discard, `${f}.discard`, ['old', 'new'] as const);
    if (work && discard === 'old') throw new ValidationError(`${f}.discard`, '"old" would drop work the learner has not consumed yet; a work stream takes "new" (publishers wait at the limit)');
    const maxAgeMs = l.max_age === undefined ? 0 : parseDuration(l.max_age, `${f}.max_age`);
    // max_age removes a message whether it was consumed or not; a work stream's messages leave it when acked.
    if (work && maxAgeMs > 0) throw new ValidationError(`${f}.max_age`, `${key === 'tasks' ? 'tasks' : 'groups'} leave the work queue when acked; an age limit would drop ${key === 'tasks' ? 'tasks nobody has run' : 'groups nobody has consumed'} yet (size the stream with max_bytes)`);
    limits[name] = { maxBytes: l.max_bytes === undefined || l.max_bytes === -1 ? -1 : parseBytes(l.max_bytes, `${f}.max_bytes`), maxAgeMs, discard };
  }
  return { replicas, limits };
}

/** Bytes a scored group takes per generated token at most: token id, behaviour logprob and ~4 bytes of text (infra/README.md, sizing). */
export const SCORED_BYTES_PER_TOKEN = 12;

interface HoldShape {
  stages: readonly { name: string; batchPrompts: number; groupSize: number; maxResponseTokens: number }[];
  checkpoint: { everySteps: number };
  algorithm: { maxStaleness: number };
  streams: StreamsConfig;
}

/**
 * What SCORED must have room for: the learner holds each step's groups unacked until a checkpoint
 * covers the step, up to `every_steps + 1 + max_staleness` steps of a stage's batch (counted at
 * full length, without over-sampling rounds). A smaller `max_bytes` cannot lose work, but the run
 * stalls when responses are that long: the groups the learner waits for cannot be stored until it
 * acks the ones it holds. Returns the warning to log, or undefined when there is room.
 */
export function scoredRoomWarning(c: HoldShape): string | undefined {
  const limit = c.streams.limits[Streams.SCORED]?.maxBytes ?? -1;
  if (limit < 0) return undefined;
  const steps = c.checkpoint.everySteps + 1 + c.algorithm.maxStaleness;
  const worst = c.stages.map((s) => ({ name: s.name, bytes: steps * s.batchPrompts * s.groupSize * s.maxResponseTokens * SCORED_BYTES_PER_TOKEN }))
    .reduce((a, b) => (b.bytes > a.bytes ? b : a), { name: '', bytes: 0 });
  if (limit >= worst.bytes) return undefined;
  const gb = (n: number): string => `${(n / 1e9).toFixed(2)} GB`;
  return `streams.scored.max_bytes (${gb(limit)}) is below what the learner may hold unacked between checkpoints in stage ${worst.name} (${steps} steps of full-length groups: ${gb(worst.bytes)}); nothing is dropped, but the run stalls if responses get that long: raise it or lower checkpoint.every_steps`;
}
