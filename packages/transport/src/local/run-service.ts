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
import { isTransientFailure, retryTransient } from '../nats/publish.js';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';

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
  /**
   * How long the start-up waits for NATS (connecting, meeting the topology) while it is not
   * answering (a node restarting, a leader being elected) before the service gives up (ms).
   * Default 60 s. Anything but a transient failure ends the start-up at once.
   */
  startupTimeoutMs?: number;
  /** Builds the service once NATS is up and the topology met. */
  create(ctx: { nc: NatsConnection; topology: Topology; signal: AbortSignal }): Promise<RunningService>;
}

export async function runService(s: RunServiceSettings): Promise<number> {
  const retryForMs = s.startupTimeoutMs ?? 60_000;
  const startup = <T>(what: string, fn: () => Promise<T>): Promise<T> => retryTransient(fn, { retryForMs, logger: s.logger, what }).catch((err: unknown) => {
    if (err instanceof AceReasonError || !isTransientFailure(err)) throw err;
    throw new AceReasonError(ErrorCodes.UNAVAILABLE, `${what}: ${(err as Error).message} (NATS did not answer for ${retryForMs} ms: is it up, and a quorum of its cluster?)`, { cause: err, retryable: true });
  });
  const nc = await startup('connecting to NATS', () => connectNats({ ...s.nats, logger: s.logger }));
  let metrics: Awaited<ReturnType<typeof serveHeartbeatMetrics>> | undefined;
  try {
    const topology = await startup('meeting the JetStream topology', () => ensureTopology(nc, s.topology));
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
