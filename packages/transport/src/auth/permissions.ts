/**
 * NATS subject permissions per role, derived from protocol's names. Least privilege that still
 * runs a cluster: each role publishes only the data it produces, acks only the stream it consumes,
 * and reaches the JetStream API only for its own consumers and for read-only stream info.
 *
 * Only the learner (and nobody else) creates or changes streams, buckets and consumers of other
 * roles; actors and verifiers verify the topology and create or update their own durable. Only
 * the learner writes object stores; verifiers read the code tests; actors and verifiers read the
 * run's assets (tokenizer and model files).
 */
import { Buckets, ObjectBuckets, Streams, type StreamName } from '@acereason/protocol';

export const ROLES = ['learner', 'actor', 'verifier', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

export interface SubjectRule {
  allow: string[];
  deny: string[];
}

export interface RolePermissions {
  publish: SubjectRule;
  subscribe: SubjectRule;
}

const PREFIX = 'acereason';
const API = '$JS.API';
const kvStream = (bucket: string): string => `KV_${bucket}`;
const objStream = (bucket: string): string => `OBJ_${bucket}`;
const ALL_STREAMS: string[] = [...Object.values(Streams), ...Object.values(Buckets).map(kvStream), ...Object.values(ObjectBuckets).map(objStream)];

/** Replies to requests (JetStream acks, API responses, pull deliveries) come to the inbox. */
const INBOX = '_INBOX.>';

/** Enough to open a JetStream context and check that the topology exists. */
function topologyReader(): string[] {
  return [`${API}.INFO`, ...ALL_STREAMS.map((s) => `${API}.STREAM.INFO.${s}`)];
}

/** Reading keys of a bucket (direct get, or message get when direct gets are off). */
function kvReader(bucket: string): string[] {
  const s = kvStream(bucket);
  return [`${API}.DIRECT.GET.${s}`, `${API}.DIRECT.GET.${s}.>`, `${API}.STREAM.MSG.GET.${s}`];
}

/** Creating/updating, reading and pulling from durables on one stream, and settling its messages. */
function pullConsumerOf(stream: StreamName): string[] {
  return [
    `${API}.CONSUMER.INFO.${stream}.*`,
    // nats.js uses CREATE.<stream>.<name>[.<filter>] on 2.9+ servers and DURABLE.CREATE on older ones.
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.DURABLE.CREATE.${stream}.*`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
    `$JS.ACK.${stream}.>`,
  ];
}

/**
 * Getting objects of a bucket: the object's info (direct or message get of its meta subject), and
 * the chunks through an ephemeral push consumer with flow control (created, answered, deleted).
 */
function objectReader(bucket: string): string[] {
  const s = objStream(bucket);
  return [`${API}.DIRECT.GET.${s}`, `${API}.DIRECT.GET.${s}.>`, `${API}.STREAM.MSG.GET.${s}`, `${API}.CONSUMER.CREATE.${s}.>`, `${API}.CONSUMER.DELETE.${s}.*`, `$JS.FC.${s}.>`];
}

/** A worker's own heartbeat key: `<run>.<role>.<id>` in the workers bucket. */
function heartbeatOf(role: 'actor' | 'verifier'): string[] {
  return [`$KV.${Buckets.WORKERS}.*.${role}.*`];
}

/** Subjects no role but the learner may publish: control of the run. */
const LEARNER_ONLY = [`${PREFIX}.tasks.>`, `${PREFIX}.events.>`, `$KV.${Buckets.RUN_STATE}.>`, `$KV.${Buckets.PASS_RATES}.>`, '$O.>'];

export function rolePermissions(role: Role): RolePermissions {
  switch (role) {
    case 'learner':
      return {
        // The learner owns the topology: it may use the whole JetStream API.
        publish: { allow: [`${PREFIX}.tasks.>`, `${PREFIX}.events.>`, `${PREFIX}.dlq.>`, `${API}.>`, `$JS.ACK.${Streams.SCORED}.>`, `$KV.${Buckets.RUN_STATE}.>`, `$KV.${Buckets.PASS_RATES}.>`, `$KV.${Buckets.WORKERS}.*.learner.*`, ...Object.values(ObjectBuckets).map((b) => `$O.${b}.>`)], deny: [`${PREFIX}.traj.>`, `${PREFIX}.scored.>`] },
        subscribe: { allow: [INBOX, `${PREFIX}.events.>`, `$KV.>`], deny: [] },
      };
    case 'actor':
      return {
        publish: {
          allow: [`${PREFIX}.traj.>`, `${PREFIX}.dlq.${Streams.TASKS}`, ...heartbeatOf('actor'), ...pullConsumerOf(Streams.TASKS), ...topologyReader(), ...kvReader(Buckets.RUN_STATE), ...kvReader(Buckets.WORKERS), ...objectReader(ObjectBuckets.ASSETS)],
          deny: [...LEARNER_ONLY, `${PREFIX}.scored.>`],
        },
        subscribe: { allow: [INBOX, `${PREFIX}.events.>`], deny: [] },
      };
    case 'verifier':
      return {
        publish: {
          allow: [`${PREFIX}.scored.>`, `${PREFIX}.dlq.${Streams.TRAJECTORIES}`, ...heartbeatOf('verifier'), ...pullConsumerOf(Streams.TRAJECTORIES), ...topologyReader(), ...kvReader(Buckets.WORKERS), ...objectReader(ObjectBuckets.CODE_TESTS), ...objectReader(ObjectBuckets.ASSETS)],
          deny: [...LEARNER_ONLY, `${PREFIX}.traj.>`],
        },
        subscribe: { allow: [INBOX, `${PREFIX}.events.>`], deny: [] },
      };
    case 'operator':
      return {
        // Read-only: stream/consumer info, KV reads (keys listing uses an ephemeral ordered consumer
        // on the bucket's stream). Control of the run goes over gRPC (LearnerControl), not NATS.
        publish: {
          allow: [
            ...topologyReader(), `${API}.STREAM.NAMES`, `${API}.STREAM.LIST`, `${API}.CONSUMER.INFO.*.*`, `${API}.CONSUMER.NAMES.*`, `${API}.CONSUMER.LIST.*`,
            `${API}.STREAM.MSG.GET.${Streams.DEAD_LETTER}`,
            ...Object.values(Buckets).flatMap((b) => [...kvReader(b), `${API}.CONSUMER.CREATE.${kvStream(b)}.>`, `${API}.CONSUMER.DELETE.${kvStream(b)}.*`]),
          ],
          deny: [...LEARNER_ONLY, `${PREFIX}.>`, '$KV.>', '$O.>'],
        },
        subscribe: { allow: [INBOX, `${PREFIX}.events.>`], deny: [] },
      };
  }
}
