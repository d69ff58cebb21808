/** Subject, stream, consumer and bucket names: the one place they are spelled. */
import type { Domain } from './messages.js';

const PREFIX = 'acereason';

export const Streams = {
  TASKS: 'ACEREASON_TASKS',
  TRAJECTORIES: 'ACEREASON_TRAJECTORIES',
  SCORED: 'ACEREASON_SCORED',
  EVENTS: 'ACEREASON_EVENTS',
  DEAD_LETTER: 'ACEREASON_DLQ',
} as const;
export type StreamName = (typeof Streams)[keyof typeof Streams];

export const Buckets = {
  WORKERS: 'acereason_workers',
  RUN_STATE: 'acereason_runs',
  PASS_RATES: 'acereason_passrates',
} as const;

/**
 * NATS object stores (each is a stream `OBJ_<bucket>`). Only the learner writes them.
 * CODE_TESTS: a prompt's code tests, named by `Objects.codeTests(sha256)` (content-addressed, so
 * an object never changes once written and the same tests are stored once).
 * ASSETS: a run's asset files (tokenizer.json, config.json ...), named by `Objects.runAsset(sha256)`
 * and listed in the RunSpec; actors and verifiers read them.
 */
export const ObjectBuckets = {
  CODE_TESTS: 'acereason_tests',
  ASSETS: 'acereason_assets',
} as const;
export type ObjectBucketName = (typeof ObjectBuckets)[keyof typeof ObjectBuckets];

export const Objects = {
  codeTests: (sha256: string) => `code-tests/${sha256}`,
  runAsset: (sha256: string) => `run-assets/${sha256}`,
} as const;

/** Subject wildcards each stream captures. */
export const StreamSubjects: Record<StreamName, string[]> = {
  [Streams.TASKS]: [`${PREFIX}.tasks.>`],
  [Streams.TRAJECTORIES]: [`${PREFIX}.traj.>`],
  [Streams.SCORED]: [`${PREFIX}.scored.>`],
  [Streams.EVENTS]: [`${PREFIX}.events.>`],
  [Streams.DEAD_LETTER]: [`${PREFIX}.dlq.>`],
};

/** Run ids become subject tokens: only these characters are allowed. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const Subjects = {
  task: (runId: string, domain: Domain) => `${PREFIX}.tasks.${runId}.${domain}`,
  tasksOfRun: (runId: string) => `${PREFIX}.tasks.${runId}.>`,
  trajectory: (runId: string, domain: Domain) => `${PREFIX}.traj.${runId}.${domain}`,
  trajectoriesOfDomain: (runId: string, domain: Domain) => `${PREFIX}.traj.${runId}.${domain}`,
  scored: (runId: string) => `${PREFIX}.scored.${runId}`,
  weights: (runId: string) => `${PREFIX}.events.${runId}.weights`,
  stage: (runId: string) => `${PREFIX}.events.${runId}.stage`,
  heartbeat: (runId: string) => `${PREFIX}.events.${runId}.heartbeat`,
  /** Dead letters keep the stream they came from in the subject. */
  deadLetter: (fromStream: string) => `${PREFIX}.dlq.${fromStream}`,
} as const;

/** Keys in the KV buckets (dots separate tokens; run ids never contain dots). */
export const Keys = {
  runSpec: (runId: string) => `${runId}.spec`,
  latestWeights: (runId: string) => `${runId}.weights`,
  /** The learner's probe logprobs of one version (see VersionProbe). */
  probe: (runId: string, version: number) => `${runId}.probe.${version}`,
  learnerStatus: (runId: string) => `${runId}.status`,
  worker: (runId: string, role: string, workerId: string) => `${runId}.${role}.${workerId}`,
  workersOfRun: (runId: string) => `${runId}.>`,
} as const;

export const Consumers = {
  actors: (runId: string) => `actors_${runId}`,
  verifiers: (runId: string, domain: Domain) => `verifiers_${runId}_${domain}`,
  learner: (runId: string) => `learner_${runId}`,
} as const;
