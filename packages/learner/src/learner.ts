/**
 * The learner: runs the stages of a run, one GRPO step at a time. It orchestrates and keeps no
 * bookkeeping of its own: the StepLedger owns the published steps and the one slot table
 * (which group filled which slot, re-issue, over-sampling), PolicyVersions the versions and their
 * hashes, the StageScheduler where the run is in its stages, the StepCollector the deliveries
 * (routed to the ledger, acked after the checkpoint that covers them), the CheckpointCadence when
 * a checkpoint is written and what follows it, Evaluations when the run evaluates, and the
 * LearnerLifecycle the phase with the operator's pause, resume and stop.
 *
 * Per step: publish the step's tasks; collect its groups; train once on the batch; publish and
 * announce the new version; record metrics and pass rates; checkpoint every N steps and only
 * then ack the consumed groups. The checkpoint is written in the background while the next step
 * publishes and collects; that step's update waits for it (it writes the engine's buffers).
 */
import { join } from 'node:path';
import { AceReasonError, ErrorCodes, type LearnerStatus } from '@acereason/protocol';
import { jetstreamClient, listWorkers } from '@acereason/transport';
import type { StageConfig } from './config/run-config.js';
import { StepCollector } from './loop/collector.js';
import { StepLedger, maxHeldGroups } from './loop/step-ledger.js';
import { TaskPublisher } from './loop/task-publisher.js';
import { trainStep } from './loop/train-step.js';
import { stageTaskContext } from './loop/tasks.js';
import { PolicyVersions, servedVersions } from './versions/policy-versions.js';
import { StageScheduler } from './curriculum/stage-scheduler.js';
import type { LearnerState } from './checkpoint/checkpoint.js';
import { CheckpointCadence } from './checkpoint/cadence.js';
import { MetricsSink } from './metrics/sink.js';
import { stepMetrics } from './metrics/step-metrics.js';
import { joinRun, startGrpc, type LearnerServices } from './service/learner-services.js';
import { toWireMetrics } from './service/control.js';
import { PassRateTable, stepPassRecords } from './curriculum/pass-rates.js';
import type { EvalResult, EvalTrigger } from './curriculum/eval.js';
import { Evaluations } from './curriculum/evaluations.js';
import { announceStageChange } from './curriculum/stage-announcement.js';
import { LearnerLifecycle, type LearnerPhase } from './lifecycle.js';
import { initialProgress, type LearnerOptions, type Progress } from './learner-options.js';

export type { LearnerPhase } from './lifecycle.js';
export type { LearnerOptions } from './learner-options.js';

export class Learner {
  private readonly life: LearnerLifecycle;
  private readonly progress: Progress;
  private readonly versions: PolicyVersions;
  private readonly ledger: StepLedger;
  private readonly scheduler: StageScheduler;
  private readonly collector: StepCollector;
  private readonly metrics: MetricsSink;
  private readonly passRates: PassRateTable;
  private readonly js;
  private readonly tasks: TaskPublisher;
  private services: LearnerServices | undefined;
  private readonly startedAtMs = Date.now();
  private readonly checkpoints: CheckpointCadence;
  private readonly evals: Evaluations;

  constructor(private readonly o: LearnerOptions) {
    const c = o.config;
    const s = o.resume?.state;
    this.life = new LearnerLifecycle(o.logger);
    this.progress = initialProgress(c, s);
    this.js = jetstreamClient(o.nc);
    this.versions = new PolicyVersions({ runId: c.runId, engine: o.engine, js: this.js, topology: o.topology, served: servedVersions(c.algorithm.maxStaleness) }, { version: s?.version ?? 0, sha256: s?.weightsSha256 ?? '' }, s?.pending.map((p) => ({ version: p.version, sha256: p.sha256 })));
    this.tasks = new TaskPublisher({ runId: c.runId, js: this.js, codeTests: o.topology.codeTests, logger: o.logger });
    this.ledger = new StepLedger({
      runId: c.runId, tasks: this.tasks, datasets: o.datasets, algorithm: c.algorithm, context: (i) => stageTaskContext(c, i, o), logger: o.logger,
      provenance: (g) => this.versions.isGenuine(g), onRegistered: () => this.collector.replayEarly(),
    }, s?.pending);
    this.collector = new StepCollector(this.ledger);
    this.collector.onGroup((g, v) => {
      if (v !== 'rejected') return;
      // The ledger has re-issued the slot under its next retry round.
      this.progress.rejectedGroups++;
      o.logger.warn({ groupId: g.id, claimed: g.group.policyVersion, sha: g.group.weightsSha256.slice(0, 12) }, 'group rejected: its weights hash is not the one of the version it claims');
    });
    this.metrics = new MetricsSink(join(c.outDir, 'metrics.jsonl'), c.runId);
    this.checkpoints = new CheckpointCadence({ config: c, engine: o.engine, logger: o.logger, state: () => this.learnerState, ackThrough: (step) => this.collector.ackThrough(step) }, s?.step);
    this.passRates = new PassRateTable(o.topology.passRates);
    this.scheduler = new StageScheduler({ config: c, datasets: o.datasets, passRates: this.passRates, logger: o.logger }, s);
    this.evals = new Evaluations({
      config: c, datasets: o.datasets, collector: this.collector, tasks: this.tasks, logger: o.logger, context: (i) => stageTaskContext(c, i, o),
      now: () => ({ stage: this.scheduler.current(), stageIndex: this.scheduler.index, step: this.progress.step, version: this.versions.version, sha256: this.versions.sha256 }),
    }, s?.evalRounds);
  }

  get runId(): string {
    return this.o.config.runId;
  }

  get phase(): LearnerPhase {
    return this.life.state;
  }

  /** host:port where WeightService and LearnerControl are served. */
  get grpcAddress(): string {
    return this.services?.address ?? '';
  }

  get collectorCounts() {
    return this.collector.counts;
  }

  /** The state a checkpoint would hold now, assembled from the parts that own it. */
  get learnerState(): Readonly<LearnerState> {
    return { ...this.progress, ...this.evals.snapshot(), version: this.versions.version, weightsSha256: this.versions.sha256, ...this.scheduler.snapshot(), pending: this.ledger.snapshot() };
  }

  get lastCheckpoint(): string {
    return this.checkpoints.last;
  }

  async start(): Promise<void> {
    const c = this.o.config;
    this.services = await startGrpc({
      config: c, store: this.versions.store, metrics: this.metrics, logger: this.o.logger, ...(this.o.grpcTls ? { tls: this.o.grpcTls } : {}), ...(this.o.grpcRoles ? { roles: this.o.grpcRoles } : {}),
      control: {
        status: () => this.status(), pause: (reason) => this.pause(reason), resume: () => this.resume(), requestAdvance: (to) => this.scheduler.requestAdvance(to),
        requestCheckpoint: () => this.checkpoints.request(),
        subscribeMetrics: (l) => this.metrics.subscribe(l), lastMetrics: () => this.metrics.last,
      },
    });
    this.versions.serveAt(this.services.address);
    // The current weights become a served version: the resumed one (its hash checked against the checkpoint's), or version 0.
    await this.versions.publish(this.versions.version, this.o.resume?.state.weightsSha256);
    const consumer = await joinRun(this.services, {
      config: c, nc: this.o.nc, topology: this.o.topology, engine: this.o.engine, tokenizerSpec: this.o.tokenizerSpec, assetFiles: this.o.assetFiles ?? {}, maxHeld: maxHeldGroups(c), logger: this.o.logger,
      heartbeat: () => ({ state: this.life.state, inFlight: this.collector.held, processed: this.progress.consumedGroups, policyVersion: this.versions.version }),
    });
    void this.collector.pump(consumer).catch((err: unknown) => this.o.logger.error({ err: String(err) }, 'scored-group pump stopped'));
    if (this.life.is('starting')) this.life.to('running', 'started');
    this.o.logger.info({ address: this.services.address, step: this.progress.step, version: this.versions.version, weightsSha256: this.versions.sha256, stage: this.scheduler.current()?.name, resumed: this.o.resume !== undefined }, 'learner started');
  }

  status(): LearnerStatus {
    const m = this.metrics.last;
    return {
      runId: this.runId, state: this.life.state, stage: this.scheduler.current()?.name ?? '', stageIndex: this.scheduler.index,
      step: this.progress.step, stageStep: this.scheduler.stageStep, policyVersion: this.versions.version, weightsSha256: this.versions.sha256,
      lastStep: m ? toWireMetrics(m) : null,
      startedAtMs: this.startedAtMs,
    };
  }

  /** Pauses before the next step (the current one finishes). */
  pause(reason: string): void {
    this.life.pause(reason);
  }

  resume(): void {
    this.life.resume();
  }

  stop(): void {
    this.life.stop();
  }

  /** Held-out evaluation through the cluster (see curriculum/evaluations.ts). */
  evaluate(trigger: EvalTrigger): Promise<EvalResult[]> {
    return this.evals.run(trigger);
  }

  private async changeStage(to: number, reason: string): Promise<void> {
    const from = this.scheduler.current();
    if (from) await this.evals.stageEnd(from);
    this.scheduler.enter(to);
    // Tasks published ahead for the old stage are abandoned: their groups will be dropped as stale.
    this.ledger.dropFrom(this.progress.step);
    await announceStageChange(this.js, { runId: this.runId, from, to, next: this.scheduler.current(), step: this.progress.step, reason }, this.o.logger);
  }

  /** Runs steps until every stage is done (or `maxStepsThisRun`, or stop()). */
  async run(): Promise<void> {
    if (this.life.is('starting')) await this.start();
    let stepsThisRun = 0;
    try {
      await this.evals.beforeTraining(this.progress.step);
      while (!this.life.signal.aborted) {
        const stage = this.scheduler.current();
        if (!stage) {
          this.life.to('finished', 'every stage done');
          break;
        }
        const operator = this.scheduler.operatorTransition();
        if (operator) {
          await this.changeStage(operator.to, operator.reason);
          continue;
        }
        await this.scheduler.plan(stage);
        const due = this.scheduler.endOfStage(stage);
        if (due) {
          await this.changeStage(due.to, due.reason);
          continue;
        }
        if (this.o.maxStepsThisRun !== undefined && stepsThisRun >= this.o.maxStepsThisRun) break;
        await this.life.whilePaused();
        if (this.life.signal.aborted) break;
        await this.runStep(stage);
        stepsThisRun++;
      }
      // The last step's checkpoint may already be written (every_steps divides the run's length).
      if (this.life.is('finished') && !this.checkpoints.covers(this.progress.step)) await this.checkpoint();
      // A checkpoint still being written finishes (or fails the run) before run() returns.
      await this.checkpoints.settled();
    } catch (err) {
      if (!(err instanceof AceReasonError && err.code === ErrorCodes.CANCELLED)) {
        this.life.to('failed', String(err));
        throw err;
      }
    } finally {
      // Whatever ended the run, the engine (disposed after run and close) is not written from any more.
      await this.checkpoints.settled().catch(() => undefined);
    }
  }

  private async runStep(stage: StageConfig): Promise<void> {
    const c = this.o.config;
    const step = this.progress.step;
    const start = performance.now();
    const lastOfStage = step + (this.scheduler.budget(stage) - this.scheduler.stageStep) - 1;
    await this.ledger.ensurePublished(step, Math.min(step + c.algorithm.maxStaleness, lastOfStage), (s) => {
      const prompts = this.scheduler.draw(stage, stage.batchPrompts);
      const entry = this.scheduler.entry(step);
      return { step: s, stageIndex: entry.index, stageEnteredAt: entry.enteredAt, prompts, version: this.versions.version, sha256: this.versions.sha256, retries: prompts.map(() => 0), temperature: this.scheduler.temperature(stage) };
    });
    const pub = this.ledger.get(step);
    if (!pub) throw new AceReasonError(ErrorCodes.INTERNAL, `step ${step} has no published tasks`);
    await this.ledger.collect(step, stage, (n) => this.scheduler.draw(stage, n), c.cluster.stepTimeoutMs, this.life.signal);
    const collected = performance.now();
    const groups = this.ledger.groups(step);
    const version = this.versions.version;
    // The update changes the weights and the optimizer state in place: the checkpoint of the last
    // step, written from those buffers while this step's groups were collected, finishes first (a
    // failed one fails the run here), and the served current version stops being a view of them.
    await this.checkpoints.settled();
    this.versions.beforeUpdate();
    const { batch, train } = await trainStep(this.o.engine, groups, stage, c.algorithm, version, pub.temperature, this.scheduler.stageStep);
    const trained = performance.now();
    const publishS = await this.versions.publish(version + 1);
    const published = performance.now();

    const workers = await listWorkers(this.o.topology.workers, this.runId).catch(() => []);
    const m = stepMetrics({
      step, stage: stage.name, stageIndex: this.scheduler.index, stageStep: this.scheduler.stageStep, version: this.versions.version, temperature: pub.temperature, promptsEligible: this.scheduler.eligibleCount,
      groups, batch, train, marks: { start, collected, trained, published }, publishS, timeMs: Date.now(),
      counts: { rejected: this.collector.counts.rejected, duplicates: this.collector.counts.duplicates, reissued: this.ledger.reissued },
      workers: { actors: workers.filter((w) => w.role === 'actor').length, verifiers: workers.filter((w) => w.role === 'verifier').length },
    });
    this.metrics.record(m);
    this.o.logger.info({ step: m.step, stage: m.stage, reward: +m.reward_mean.toFixed(3), acc: +m.accuracy.toFixed(3), len: Math.round(m.response_len_mean), s: +m.step_s.toFixed(2), version: this.versions.version, weightsSha256: this.versions.sha256 }, 'step done');

    await this.passRates.record(stage.dataset, stepPassRecords(stage.name, step, groups)).catch((err: unknown) => this.o.logger.warn({ err: String(err) }, 'pass-rate table update failed'));
    this.scheduler.stepDone(stage, pub.temperature, m.entropy_mean);
    this.ledger.finish(step);
    this.progress.consumedGroups += groups.length;
    this.progress.step++;
    if (this.scheduler.periodicEvalDue(stage)) this.scheduler.recordEval(stage, await this.evals.periodic());
    // Written while the next step publishes and collects; that step's update waits for it.
    this.checkpoints.afterStep(this.progress.step);
  }

  /** Writes a checkpoint of the state after the last finished step (after one being written), then acks the groups it covers. */
  checkpoint(): Promise<string> {
    return this.checkpoints.now();
  }

  /** Stops serving. Unacked groups stay in the stream for the next learner. */
  async close(): Promise<void> {
    this.stop();
    // A checkpoint in flight finishes first (the engine is disposed after close).
    await this.checkpoints.settled().catch(() => undefined);
    this.services?.consumer?.stop();
    this.checkpoints.release();
    await this.services?.heartbeat?.stop();
    await this.services?.grpc.close(1000);
    await this.services?.bulk.close();
    await this.metrics.close();
    this.life.tryTo('stopped', 'closed');
  }
}
