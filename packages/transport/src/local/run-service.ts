/**
 * The start-up and shut-down every service main shares. `runProcess` is the bottom: the first
 * SIGTERM/SIGINT asks the service to stop (finish the work it holds), a second one exits at once,
 * and on the way out what the service opened is closed. `runService` adds what every NATS service
 * does first: connect, meet the topology (the learner owns it; workers with role credentials only
 * check it), serve the heartbeat gauges when asked, and drain the connection last.
 */
import type { Role } from '@acereason/protocol';
import type { Logger } from '../logger.js';
import { connectNats, drainQuietly, type NatsConnection, type NatsSettings } from '../nats/connection.js';
import { ensureTopology, type Topology, type TopologySettings } from '../nats/topology.js';
import { serveHeartbeatMetrics, type HeartbeatGauge } from '../metrics/http.js';
import { onShutdown } from './shutdown.js';

export interface RunningService {
  /** Runs until done or stopped; resolves with the process exit code. */
  run(): Promise<number>;
  /** Finish the work held, then let `run` return (called on the first SIGTERM/SIGINT). */
  stop(): void;
  /** Releases what the service opened (servers, engines); runs whether `run` resolved or threw. */
  close?(): Promise<void>;
}

export interface RunProcessSettings<Ctx> {
  logger: Logger;
  /** Builds the service; `signal` aborts when a shutdown comes before it exists. */
  create(ctx: Ctx & { signal: AbortSignal }): Promise<RunningService>;
}

/** Runs a service built by `create` under the process's shutdown signals; resolves with its exit code. */
export async function runProcess(s: RunProcessSettings<object>): Promise<number> {
  return runWithShutdown(s.logger, {}, s.create);
}

export interface RunServiceSettings {
  logger: Logger;
  nats: Omit<NatsSettings, 'logger'>;
  /** How to meet the topology: the learner owns it; workers with role credentials only verify it. */
  topology: TopologySettings;
  /** Prometheus gauges over this worker's heartbeat. */
  metrics?: { port: number; runId: string; role: Role; workerId: string; gauges: HeartbeatGauge[] } | undefined;
  /** Builds the service once NATS is up and the topology met. */
  create(ctx: { nc: NatsConnection; topology: Topology; signal: AbortSignal }): Promise<RunningService>;
}

export async function runService(s: RunServiceSettings): Promise<number> {
  const nc = await connectNats({ ...s.nats, logger: s.logger });
  let metrics: Awaited<ReturnType<typeof serveHeartbeatMetrics>> | undefined;
  try {
    const topology = await ensureTopology(nc, s.topology);
    if (s.metrics) metrics = await serveHeartbeatMetrics({ ...s.metrics, workers: topology.workers });
    return await runWithShutdown(s.logger, { nc, topology }, s.create);
  } finally {
    metrics?.close();
    await drainQuietly(nc);
  }
}

async function runWithShutdown<Ctx extends object>(logger: Logger, ctx: Ctx, create: (c: Ctx & { signal: AbortSignal }) => Promise<RunningService>): Promise<number> {
  const ac = new AbortController();
  let service: RunningService | undefined;
  const off = onShutdown(() => {
    ac.abort();
    service?.stop();
  }, logger);
  try {
    service = await create({ ...ctx, signal: ac.signal });
    if (ac.signal.aborted) service.stop();
    return await service.run();
  } finally {
    off();
    await service?.close?.();
  }
}
