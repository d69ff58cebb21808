/**
 * What the learner serves and listens to: the gRPC server (WeightService from PolicyVersions'
 * store, LearnerControl for the operator) and the bulk weight endpoint beside it, the advertised address, the run spec in the run-state
 * bucket, the durable consumer of scored groups, and the heartbeat.
 */
import { hostname } from 'node:os';
import { codecs, Consumers, Keys, LearnerControlDefinition, SCHEMA_VERSION, Streams, Subjects, WeightServiceDefinition, type RunSpec, type ScoredGroup } from '@acereason/protocol';
import {
  consume, publishRunAssets, retryTransient, service, startGrpcServer, startHeartbeat, weightServiceHandlers,
  type GrpcRoleMap, type HeartbeatHandle, type HeartbeatSource, type Logger, type MessageConsumer, type NatsConnection, type RunningGrpcServer, type RunningWeightBulkServer, type TlsFiles, type Topology, type WeightStore,
} from '@acereason/transport';
import type { PolicyEngine } from '@acereason/policy';
import type { RunConfig } from '../config/run-config.js';
import type { MetricsSink } from '../metrics/sink.js';
import { controlHandlers, type ControlTarget } from './control.js';
import { learnerAuthorizer } from './authz.js';
import { startLearnerWeightBulk } from './weight-serving.js';

export interface LearnerServices {
  grpc: RunningGrpcServer;
  bulk: RunningWeightBulkServer;
  /** host:port where WeightService and LearnerControl are served. */
  address: string;
  consumer?: MessageConsumer<ScoredGroup>;
  heartbeat?: HeartbeatHandle;
}

export async function startGrpc(o: { config: RunConfig; store: WeightStore; control: ControlTarget; metrics: MetricsSink; logger: Logger; tls?: TlsFiles; roles?: GrpcRoleMap }): Promise<LearnerServices> {
  const c = o.config;
  const authorize = o.roles ? learnerAuthorizer(o.roles, o.logger, (role, method) => o.metrics.grpcDenied.inc({ role, method })) : undefined;
  const bulk = await startLearnerWeightBulk(o.store, c.cluster.grpcBind, c.cluster.grpcAdvertise, o.tls, authorize);
  const grpc = await startGrpcServer({
    address: c.cluster.grpcBind,
    ...(o.tls ? { tls: o.tls } : {}),
    ...(authorize ? { authorize } : {}),
    services: [service(WeightServiceDefinition, weightServiceHandlers(o.store, { bulk })), service(LearnerControlDefinition, controlHandlers(o.control))],
  });
  const host = c.cluster.grpcBind.slice(0, c.cluster.grpcBind.lastIndexOf(':'));
  const address = c.cluster.grpcAdvertise ?? `${host === '0.0.0.0' || host === '' ? hostname() : host}:${grpc.port}`;
  if (c.cluster.metricsPort !== undefined) await o.metrics.serve(c.cluster.metricsPort);
  return { grpc, bulk, address };
}

/** Publishes the run spec (what a worker needs to join), then starts consuming and heartbeating. */
export async function joinRun(s: LearnerServices, o: { config: RunConfig; nc: NatsConnection; topology: Topology; engine: PolicyEngine; tokenizerSpec: RunSpec['tokenizer']; assetFiles: Record<string, Uint8Array>; maxHeld: number; logger: Logger; heartbeat: () => HeartbeatSource }): Promise<MessageConsumer<ScoredGroup>> {
  const c = o.config;
  // Assets first: a worker that sees the spec finds every object it names.
  const t0 = Date.now();
  const { assets, uploadedBytes } = await retryTransient(() => publishRunAssets(o.topology.assets, o.assetFiles));
  if (assets.length > 0) o.logger.info({ assets: assets.map((a) => `${a.name}:${a.bytes}`), uploadedBytes, ms: Date.now() - t0 }, 'run assets in the object store');
  const spec: RunSpec = {
    schema: SCHEMA_VERSION, kind: 'RunSpec', runId: c.runId, id: `${c.runId}-spec`, createdAtMs: Date.now(),
    model: o.engine.model, tokenizer: o.tokenizerSpec, ...(assets.length > 0 ? { assets } : {}), learnerAddress: s.address, seed: c.seed,
    ...(c.engine.rollout ? { rolloutEngine: c.engine.rollout } : {}),
    ...(c.engine.generationDtype !== 'float32' ? { generationDtype: c.engine.generationDtype } : {}),
  };
  await retryTransient(() => o.topology.runState.put(Keys.runSpec(c.runId), codecs.RunSpec.encode(spec)));
  s.consumer = await consume(o.nc, {
    stream: Streams.SCORED, durable: Consumers.learner(c.runId), filterSubject: Subjects.scored(c.runId),
    codec: codecs.ScoredGroup, maxInFlight: o.maxHeld, maxAckPending: o.maxHeld, ackWaitMs: c.cluster.ackWaitMs, logger: o.logger, batch: 256,
  });
  s.heartbeat = startHeartbeat(o.topology.workers, { runId: c.runId, role: 'learner', workerId: 'learner', host: hostname() }, o.heartbeat, { logger: o.logger });
  return s.consumer;
}
