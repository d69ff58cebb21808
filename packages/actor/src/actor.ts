/**
 * A rollout actor: pulls RolloutTasks (bounded in flight), makes sure it holds the task's policy
 * weights, samples the group, publishes the TrajectoryGroup stamped with the hash of the weights
 * that produced it, and only then acks the task. Heartbeats in the workers bucket; drains on stop.
 */
import { hostname } from 'node:os';
import { AceReasonError, codecs, Consumers, ErrorCodes, Keys, SCHEMA_VERSION, Streams, Subjects, toAceReasonError, type RolloutTask, type RunSpec, type TrajectoryGroup } from '@acereason/protocol';
import { Backoff, consume, jetstreamClient, Lifecycle, publishMessage, startHeartbeat, type Delivery, type TlsFiles, type Logger, type NatsConnection, type Topology, type WorkerState, WORKER_TRANSITIONS } from '@acereason/transport';
import type { RolloutEngine, Tokenizer } from '@acereason/policy';
import { WeightsHolder } from './weights.js';

export type ActorState = WorkerState;

export interface ActorOptions {
  nc: NatsConnection;
  topology: Topology;
  spec: RunSpec;
  /** The embedded engine, or an inference server (OpenAIRolloutEngine): the actor only samples and loads versions. */
  engine: RolloutEngine;
  tokenizer: Tokenizer;
  actorId: string;
  logger: Logger;
  /** Tasks held at once (each is one group). */
  maxInFlight?: number;
  /** Tasks generated together in one engine call. */
  batchTasks?: number;
  ackWaitMs?: number;
  /** TLS of the gRPC client that fetches weights (the CA, and a client certificate for mutual TLS). */
  grpcTls?: TlsFiles;
}

export class Actor {
  private readonly life: Lifecycle<ActorState>;
  readonly weights: WeightsHolder;
  private processed = 0;
  private tokens = 0;
  private startedAt = Date.now();
  private readonly ac = new AbortController();
  private readonly js;
  /** Set while the engine is unreachable: no new task is taken until it answers again. */
  private engineDown: Promise<void> | undefined;

  constructor(private readonly o: ActorOptions) {
    this.life = new Lifecycle<ActorState>('actor', 'starting', WORKER_TRANSITIONS, o.logger);
    this.weights = new WeightsHolder(o.engine, o.spec.runId, o.logger, o.grpcTls);
    this.js = jetstreamClient(o.nc);
  }

  get state(): ActorState {
    return this.life.state;
  }

  /** Asks the actor to finish the tasks it holds and stop. */
  stop(): void {
    this.life.tryTo('draining', 'stop requested');
    this.ac.abort();
  }

  run(): Promise<void> {
    return this.life.runWork(() => this.work(), { failed: 'failed', stopped: 'stopped' });
  }

  private async work(): Promise<void> {
    const { spec, logger } = this.o;
    const consumer = await consume(this.o.nc, {
      stream: Streams.TASKS, durable: Consumers.actors(spec.runId), filterSubject: Subjects.tasksOfRun(spec.runId),
      codec: codecs.RolloutTask, maxInFlight: this.o.maxInFlight ?? 2, ackWaitMs: this.o.ackWaitMs ?? 30_000, logger, signal: this.ac.signal, batch: this.o.batchTasks ?? 1,
    });
    const hb = startHeartbeat(this.o.topology.workers, { runId: spec.runId, role: 'actor', workerId: this.o.actorId, host: hostname() }, () => ({
      state: this.state, inFlight: consumer.held, processed: this.processed,
      ...(this.weights.held ? { policyVersion: this.weights.held.version } : {}),
      throughput: this.tokens / Math.max(1, (Date.now() - this.startedAt) / 1000),
    }), { logger });
    // Prefetch announced weights so the next step's tasks find them already loaded.
    const announcements = this.o.nc.subscribe(Subjects.weights(spec.runId));
    void (async () => {
      for await (const m of announcements) {
        try {
          const a = codecs.WeightsAnnounced.decode(m.data);
          await this.weights.ensure(a.address, a.version, a.weightsSha256, this.ac.signal).catch(() => undefined);
        } catch {
          // a malformed announcement is ignored: tasks carry the version they need anyway
        }
      }
    })();
    if (this.life.is('starting')) this.life.to('running');
    logger.info({ actorId: this.o.actorId }, 'actor running');
    const running = new Set<Promise<void>>();
    try {
      for await (const d of consumer) {
        if (this.engineDown) {
          // The inference server is unreachable: the task goes back at once (another actor takes it),
          // and no more are taken until the server answers again.
          await d.nak(0);
          await this.engineDown;
          if (this.state !== 'running') break;
          continue;
        }
        const p = this.handle(d).finally(() => running.delete(p));
        running.add(p);
        if (this.state !== 'running') break;
      }
    } finally {
      consumer.stop();
      await Promise.allSettled([...running]);
      announcements.unsubscribe();
      await hb.stop();
      this.weights.close();
      logger.info({ processed: this.processed }, 'actor stopped');
    }
  }

  private async handle(d: Delivery<RolloutTask>): Promise<void> {
    const task = d.value;
    const log = this.o.logger.child({ taskId: task.id, step: task.task.step, slot: task.task.slot, policyVersion: task.policyVersion });
    const queuedMs = Math.max(0, Date.now() - task.createdAtMs);
    try {
      const t0 = performance.now();
      const before = this.weights.held?.sha256;
      const held = await this.weights.ensure(this.o.spec.learnerAddress, task.policyVersion, task.weightsSha256, this.ac.signal);
      const weightFetchMs = before === held.sha256 ? 0 : performance.now() - t0;
      const g0 = performance.now();
      const samples = await this.o.engine.generate([{ sampleKey: task.sampleKey, promptTokens: task.promptTokens, numSamples: task.groupSize, sampling: task.sampling, seed: task.seed }]);
      // The weights may have been swapped by a concurrent fetch: stamp the hash actually used.
      if (this.weights.held?.sha256 !== held.sha256) {
        await d.nak(0);
        return;
      }
      const generateMs = performance.now() - g0;
      const group: TrajectoryGroup = {
        schema: SCHEMA_VERSION, kind: 'TrajectoryGroup', runId: task.runId, id: task.id, createdAtMs: Date.now(),
        task: task.task, stage: task.stage, promptId: task.promptId, domain: task.domain, promptTokens: task.promptTokens,
        // held.sha256 === task.weightsSha256 here: the weights used are exactly the task's version.
        policyVersion: task.policyVersion, weightsSha256: held.sha256, actorId: this.o.actorId,
        responses: samples.sort((a, b) => a.sampleIndex - b.sampleIndex).map((s) => ({
          tokens: s.tokens, logprobs: s.logprobs, finishReason: s.finishReason,
          entropy: s.entropy.length ? s.entropy.reduce((a, b) => a + b, 0) / s.entropy.length : 0,
          text: this.o.tokenizer.decode(s.tokens),
        })),
        reference: task.reference,
        timings: { queuedMs, weightFetchMs, generateMs },
      };
      await publishMessage(this.js, Subjects.trajectory(task.runId, task.domain), codecs.TrajectoryGroup, group);
      await d.ack();
      this.processed++;
      this.tokens += group.responses.reduce((a, r) => a + r.tokens.length, 0);
      log.debug({ ms: Math.round(generateMs) }, 'group published');
    } catch (err) {
      const e = toAceReasonError(err);
      if (e.code === ErrorCodes.CONFLICT || (e.code === ErrorCodes.NOT_FOUND && !e.retryable)) {
        // The task names weights the learner no longer serves: it is stale, and the learner re-issues what it needs.
        log.warn({ err: e.message }, 'stale task dropped');
        await d.ack();
        return;
      }
      if (this.ac.signal.aborted) {
        await d.nak(0);
        return;
      }
      log.error({ err: e.message, code: e.code }, 'task failed, will be redelivered');
      await d.nak(e.retryable ? 1000 : 5000);
      if (e.code === ErrorCodes.UNAVAILABLE && this.o.engine.ready && !this.engineDown) {
        this.engineDown = this.o.engine.ready(this.ac.signal).finally(() => {
          this.engineDown = undefined;
          log.info('rollout engine answers again');
        });
      }
    }
  }
}

/** Reads the run spec a learner published, waiting for it when the learner is not up yet. */
export async function waitForRunSpec(topology: Topology, runId: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RunSpec> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const poll = new Backoff({ initialMs: 250, maxMs: 2000 });
  for (;;) {
    const e = await topology.runState.get(Keys.runSpec(runId)).catch(() => null);
    if (e && e.operation === 'PUT' && e.length > 0) return codecs.RunSpec.decode(e.value);
    if (Date.now() > deadline || opts.signal?.aborted) throw new AceReasonError(ErrorCodes.TIMEOUT, `no learner has published run "${runId}" (waited ${opts.timeoutMs ?? 120_000} ms): start \`acereason run\` first`);
    await poll.wait(opts.signal);
  }
}
