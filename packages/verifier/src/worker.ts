/**
 * A verifier worker: pulls trajectory groups of its domains (bounded in flight), scores every
 * response, publishes the ScoredGroup, then acks. A check over its budget is a `timeout` verdict;
 * an infrastructure failure (the sandbox broke) naks the group for a retry instead of scoring 0.
 */
import { hostname } from 'node:os';
import { AceReasonError, codecs, Consumers, ErrorCodes, SCHEMA_VERSION, Streams, Subjects, toAceReasonError, type Domain, type ScoredGroup, type TrajectoryGroup } from '@acereason/protocol';
import { consume, jetstreamClient, Lifecycle, publishMessage, startHeartbeat, type Delivery, type Logger, type MessageConsumer, type NatsConnection, type Topology, type WorkerState, WORKER_TRANSITIONS } from '@acereason/transport';
import { InfrastructureError, type Scorer } from './scorers.js';
import { CodeTestsSource } from './code-tests.js';

export type VerifierState = WorkerState;

export interface VerifierWorkerOptions {
  nc: NatsConnection;
  topology: Topology;
  runId: string;
  workerId: string;
  scorers: Partial<Record<Domain, Scorer>>;
  logger: Logger;
  /** Groups scored at once per domain. */
  maxInFlight?: number;
  ackWaitMs?: number;
  /** Bytes of code tests kept in memory (default 256 MiB). */
  testsCacheBytes?: number;
}

export class VerifierWorker {
  private readonly life: Lifecycle<VerifierState>;
  private processed = 0;
  private responses = 0;
  private readonly startedAt = Date.now();
  private readonly ac = new AbortController();
  private readonly js;
  private readonly tests: CodeTestsSource;

  constructor(private readonly o: VerifierWorkerOptions) {
    this.js = jetstreamClient(o.nc);
    this.tests = new CodeTestsSource({ store: o.topology.codeTests, ...(o.testsCacheBytes !== undefined ? { cacheBytes: o.testsCacheBytes } : {}) });
    this.life = new Lifecycle<VerifierState>('verifier', 'starting', WORKER_TRANSITIONS, o.logger);
  }

  /** The code-tests cache: hits, misses (fetches), evictions, bytes held. */
  get codeTests(): { hits: number; misses: number; evictions: number; bytes: number } {
    return this.tests.counts;
  }

  get state(): VerifierState {
    return this.life.state;
  }

  stop(): void {
    this.life.tryTo('draining', 'stop requested');
    this.ac.abort();
  }

  run(): Promise<void> {
    return this.life.runWork(() => this.work(), { failed: 'failed', stopped: 'stopped' });
  }

  private async work(): Promise<void> {
    const domains = Object.keys(this.o.scorers) as Domain[];
    const consumers: MessageConsumer<TrajectoryGroup>[] = [];
    for (const domain of domains) {
      consumers.push(await consume(this.o.nc, {
        stream: Streams.TRAJECTORIES, durable: Consumers.verifiers(this.o.runId, domain), filterSubject: Subjects.trajectoriesOfDomain(this.o.runId, domain),
        codec: codecs.TrajectoryGroup, maxInFlight: this.o.maxInFlight ?? 2, ackWaitMs: this.o.ackWaitMs ?? 30_000, logger: this.o.logger, signal: this.ac.signal,
      }));
    }
    const hb = startHeartbeat(this.o.topology.workers, { runId: this.o.runId, role: 'verifier', workerId: this.o.workerId, host: hostname() }, () => ({
      state: this.state, inFlight: consumers.reduce((a, c) => a + c.held, 0), processed: this.processed,
      throughput: this.responses / Math.max(1, (Date.now() - this.startedAt) / 1000),
    }), { logger: this.o.logger });
    if (this.life.is('starting')) this.life.to('running');
    this.o.logger.info({ domains }, 'verifier running');
    const running = new Set<Promise<void>>();
    try {
      await Promise.all(consumers.map(async (c) => {
        for await (const d of c) {
          const p = this.handle(d).finally(() => running.delete(p));
          running.add(p);
        }
      }));
    } finally {
      await Promise.allSettled([...running]);
      await hb.stop();
      for (const s of Object.values(this.o.scorers)) await s?.close();
      this.o.logger.info({ processed: this.processed, codeTests: this.tests.counts }, 'verifier stopped');
    }
  }

  private async handle(d: Delivery<TrajectoryGroup>): Promise<void> {
    const g = d.value;
    const scorer = this.o.scorers[g.domain];
    try {
      if (!scorer) throw new InfrastructureError(`no scorer for domain ${g.domain}`);
      if (g.reference.type !== g.domain) throw new AceReasonError(ErrorCodes.INVALID, `reference: a ${g.domain} group with a ${g.reference.type} reference`, { field: 'reference' });
      const t0 = performance.now();
      const reference = await this.tests.resolve(g.reference);
      const results = await Promise.all(g.responses.map((r) => scorer.score(r.text, reference)));
      const scored: ScoredGroup = {
        schema: SCHEMA_VERSION, kind: 'ScoredGroup', runId: g.runId, id: g.id, createdAtMs: Date.now(),
        task: g.task, group: g, results, verifierId: this.o.workerId, verifyMs: performance.now() - t0,
      };
      await publishMessage(this.js, Subjects.scored(g.runId), codecs.ScoredGroup, scored);
      await d.ack();
      this.processed++;
      this.responses += results.length;
    } catch (err) {
      const e = toAceReasonError(err);
      if (e.code === ErrorCodes.INVALID) {
        await d.deadLetter(`cannot score: ${e.message}`);
        return;
      }
      this.o.logger.warn({ groupId: g.id, err: e.message }, 'scoring failed, group will be retried');
      await d.nak(2000);
    }
  }
}
