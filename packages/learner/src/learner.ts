/**
 * The learner: runs the stages of a run, one GRPO step at a time. It orchestrates and keeps no
 * bookkeeping of its own: the StepLedger owns the published steps and the one slot table
 * (which group filled which slot, re-issue, over-sampling), PolicyVersions the versions and their
 * hashes, the StageScheduler where the run is in its stages, the StepCollector the deliveries
 * (routed to the ledger, acked after the checkpoint that covers them).
 *
 * Per step: publish the step's tasks; collect its groups; train once on the batch; publish and
 * announce the new version; record metrics and pass rates; checkpoint every N steps and only
 * then ack the consumed groups. The checkpoint is written in the background while the next step
 * publishes and collects; that step's update waits for it (it writes the engine's buffers).
 */
import { join } from 'node:path';
import { AceReasonError, ErrorCodes, codecs, SCHEMA_VERSION, Subjects, type LearnerStatus, type StageChanged } from '@acereason/protocol';
import { jetstreamClient, Lifecycle, listWorkers, publishMessage } from '@acereason/transport';
import type { StageConfig } from './config/run-config.js';
import { StepCollector } from './loop/collector.js';
import { StepLedger, MAX_OVERSAMPLE_ROUNDS } from './loop/step-ledger.js';
import { TaskPublisher } from './loop/task-publisher.js';
import { trainStep } from './loop/train-step.js';
import type { TaskContext } from './loop/tasks.js';
import { PolicyVersions, servedVersions } from './versions/policy-versions.js';
import { StageScheduler } from './curriculum/stage-scheduler.js';
import type { LearnerState } from './checkpoint/checkpoint.js';
import { CheckpointWriter } from './checkpoint/writer.js';
import { checkpointContents } from './checkpoint/contents.js';
import { MetricsSink } from './metrics/sink.js';
import { stepMetrics } from './metrics/step-metrics.js';
import { joinRun, startGrpc, type LearnerServices } from './service/learner-services.js';
import { PassRateTable } from './curriculum/pass-rates.js';
import type { EvalResult, EvalTrigger } from './curriculum/eval.js';
import { runEvaluation } from './curriculum/evaluator.js';
import { LEARNER_TRANSITIONS, type LearnerPhase } from './lifecycle.js';
import type { LearnerOptions, Progress } from './learner-options.js';

export type { LearnerPhase } from './lifecycle.js';
export type { LearnerOptions } from './learner-options.js';

export class Learner {
  private readonly life: Lifecycle<LearnerPhase>;
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
  private readonly stopController = new AbortController();
  private resumeWaiters: (() => void)[] = [];
  private checkpointWaiters: ((path: string) => void)[] = [];
  private readonly startedAtMs = Date.now();
  private lastCheckpointDir = '';
  /** The step the last checkpoint covers (resumed: the one loaded). */
  private checkpointedStep: number;
  /** The checkpoint being written (its buffers are the engine's: nothing may train meanwhile). */
  private readonly writer: CheckpointWriter;

  constructor(private readonly o: LearnerOptions) {
    const c = o.config;
    const s = o.resume?.state;
    this.checkpointedStep = s?.step ?? -1;
    this.life = new Lifecycle<LearnerPhase>('learner', 'starting', LEARNER_TRANSITIONS, o.logger);
    this.progress = s
      ? { runId: s.runId, step: s.step, consumedGroups: s.consumedGroups, rejectedGroups: s.rejectedGroups, createdAtMs: s.createdAtMs, ...(s.evalRounds !== undefined ? { evalRounds: s.evalRounds } : {}) }
      : { runId: c.runId, step: 0, consumedGroups: 0, rejectedGroups: 0, createdAtMs: Date.now() };
    this.js = jetstreamClient(o.nc);
    this.versions = new PolicyVersions({ runId: c.runId, engine: o.engine, js: this.js, topology: o.topology, served: servedVersions(c.algorithm.maxStaleness) }, { version: s?.version ?? 0, sha256: s?.weightsSha256 ?? '' }, s?.pending.map((p) => ({ version: p.version, sha256: p.sha256 })));
    this.tasks = new TaskPublisher({ runId: c.runId, js: this.js, codeTests: o.topology.codeTests, logger: o.logger });
    this.ledger = new StepLedger({
      runId: c.runId, tasks: this.tasks, datasets: o.datasets, algorithm: c.algorithm, context: (i) => this.taskContext(i), logger: o.logger,
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
    this.writer = new CheckpointWriter({ root: c.checkpoint.dir, keep: c.checkpoint.keep, logger: o.logger });
    this.passRates = new PassRateTable(o.topology.passRates);
    this.scheduler = new StageScheduler({ config: c, datasets: o.datasets, passRates: this.passRates, logger: o.logger }, s);
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
    return { ...this.progress, version: this.versions.version, weightsSha256: this.versions.sha256, ...this.scheduler.snapshot(), pending: this.ledger.snapshot() };
  }

  get lastCheckpoint(): string {
    return this.lastCheckpointDir;
  }

  private taskContext(stageIndex: number): TaskContext {
    const stage = this.o.config.stages[stageIndex] as StageConfig;
    return { runId: this.runId, seed: this.o.config.seed, stage, dataset: this.o.config.datasets[stage.dataset] as TaskContext['dataset'], tokenizer: this.o.tokenizer, ...(this.o.chatTemplate ? { chatTemplate: this.o.chatTemplate } : {}) };
  }

  async start(): Promise<void> {
    const c = this.o.config;
    this.services = await startGrpc({
      config: c, store: this.versions.store, metrics: this.metrics, logger: this.o.logger, ...(this.o.grpcTls ? { tls: this.o.grpcTls } : {}), ...(this.o.grpcRoles ? { roles: this.o.grpcRoles } : {}),
      control: {
        status: () => this.status(), pause: (reason) => this.pause(reason), resume: () => this.resume(), requestAdvance: (to) => this.scheduler.requestAdvance(to),
        requestCheckpoint: () => new Promise<string>((resolve) => this.checkpointWaiters.push(resolve)),
        subscribeMetrics: (l) => this.metrics.subscribe(l), lastMetrics: () => this.metrics.last,
      },
    });
    this.versions.serveAt(this.services.address);
    // The current weights become a served version: the resumed one (its hash checked against the checkpoint's), or version 0.
    await this.versions.publish(this.versions.version, this.o.resume?.state.weightsSha256);
    const maxHeld = (c.checkpoint.everySteps + 1 + c.algorithm.maxStaleness) * Math.max(...c.stages.map((s) => s.batchPrompts)) * (MAX_OVERSAMPLE_ROUNDS + 1) + 256;
    const consumer = await joinRun(this.services, {
      config: c, nc: this.o.nc, topology: this.o.topology, engine: this.o.engine, tokenizerSpec: this.o.tokenizerSpec, assetFiles: this.o.assetFiles ?? {}, maxHeld, logger: this.o.logger,
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
      lastStep: m ? { step: m.step, stage: m.stage, policyVersion: m.policy_version, values: Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === 'number')) as Record<string, number>, timeMs: m.time_ms } : null,
      startedAtMs: this.startedAtMs,
    };
  }

  /** Pauses before the next step (the current one finishes). */
  pause(reason: string): void {
    if (this.life.tryTo('paused', reason)) return;
    this.o.logger.info({ reason, phase: this.life.state }, 'pause ignored');
  }

  resume(): void {
    this.life.tryTo('running', 'resumed');
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  stop(): void {
    this.life.tryTo('draining', 'stop requested');
    this.stopController.abort();
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  /** Held-out evaluation through the cluster (see curriculum/evaluator.ts). */
  async evaluate(trigger: EvalTrigger): Promise<EvalResult[]> {
    const ev = this.o.config.eval;
    const stage = this.scheduler.current() ?? this.o.config.stages[this.o.config.stages.length - 1];
    if (!ev || !stage) return [];
    const round = (this.progress.evalRounds = (this.progress.evalRounds ?? 0) + 1);
    return runEvaluation({
      eval: ev, stage, round, trigger, runId: this.runId, step: this.progress.step, version: this.versions.version, sha256: this.versions.sha256,
      datasets: this.o.datasets, datasetConfigs: this.o.config.datasets, baseContext: this.taskContext(this.scheduler.index),
      collector: this.collector, tasks: this.tasks, outDir: this.o.config.outDir, logger: this.o.logger,
    });
  }

  private async changeStage(to: number, reason: string): Promise<void> {
    const from = this.scheduler.current();
    if (from && this.o.config.eval?.atStageBoundaries) await this.evaluate({ kind: 'stage-end', stage: from.name });
    this.scheduler.enter(to);
    // Tasks published ahead for the old stage are abandoned: their groups will be dropped as stale.
    this.ledger.dropFrom(this.progress.step);
    const next = this.scheduler.current();
    const msg: StageChanged = {
      schema: SCHEMA_VERSION, kind: 'StageChanged', runId: this.runId, id: `${this.runId}.stage.${to}.${this.progress.step}`, createdAtMs: Date.now(),
      ...(from ? { fromStage: from.name } : {}), toStage: next?.name ?? 'finished', stageIndex: to, step: this.progress.step, reason,
    };
    await publishMessage(this.js, Subjects.stage(this.runId), codecs.StageChanged, msg);
    this.o.logger.info({ from: from?.name, to: next?.name ?? 'finished', step: this.progress.step, reason }, 'stage changed');
  }

  /** Runs steps until every stage is done (or `maxStepsThisRun`, or stop()). */
  async run(): Promise<void> {
    if (this.life.is('starting')) await this.start();
    let stepsThisRun = 0;
    try {
      if (this.o.config.eval?.atStageBoundaries && this.progress.step === 0 && (this.progress.evalRounds ?? 0) === 0) await this.evaluate({ kind: 'before-training' });
      while (!this.stopController.signal.aborted) {
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
        await this.waitWhilePaused();
        if (this.stopController.signal.aborted) break;
        await this.runStep(stage);
        stepsThisRun++;
      }
      // The last step's checkpoint may already be written (every_steps divides the run's length).
      if (this.life.is('finished') && this.checkpointedStep !== this.progress.step) await this.checkpoint();
      // A checkpoint still being written finishes (or fails the run) before run() returns.
      await this.writer.settled();
    } catch (err) {
      if (!(err instanceof AceReasonError && err.code === ErrorCodes.CANCELLED)) {
        this.life.to('failed', String(err));
        throw err;
      }
    } finally {
      // Whatever ended the run, the engine (disposed after run and close) is not written from any more.
      await this.writer.settled().catch(() => undefined);
    }
  }

  private async waitWhilePaused(): Promise<void> {
    while (this.life.is('paused') && !this.stopController.signal.aborted) await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
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
    await this.ledger.collect(step, stage, (n) => this.scheduler.draw(stage, n), c.cluster.stepTimeoutMs, this.stopController.signal);
    const collected = performance.now();
    const groups = this.ledger.groups(step);
    const version = this.versions.version;
    // The update changes the weights and the optimizer state in place: the checkpoint of the last
    // step, written from those buffers while this step's groups were collected, finishes first (a
    // failed one fails the run here), and the served current version stops being a view of them.
    await this.writer.settled();
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

    await this.passRates.record(stage.dataset, groups.map((g) => ({
      promptId: g.group.promptId,
      record: { stage: stage.name, step, version: g.group.policyVersion, attempts: g.results.length, passes: g.results.filter((r) => r.correct).length },
    }))).catch((err: unknown) => this.o.logger.warn({ err: String(err) }, 'pass-rate table update failed'));
    this.scheduler.stepDone(stage, pub.temperature, m.entropy_mean);
    this.ledger.finish(step);
    this.progress.consumedGroups += groups.length;
    this.progress.step++;
    if (this.scheduler.periodicEvalDue(stage)) this.scheduler.recordEval(stage, await this.evaluate({ kind: 'periodic', everySteps: c.eval?.everySteps ?? 0 }));
    // Written while the next step publishes and collects; that step's update waits for it.
    if (this.progress.step % c.checkpoint.everySteps === 0 || this.checkpointWaiters.length > 0) void this.startCheckpoint();
  }

  /** Writes a checkpoint of the state after the last finished step (after one being written), then acks the groups it covers. */
  async checkpoint(): Promise<string> {
    await this.writer.settled();
    return this.startCheckpoint();
  }

  /**
   * Starts writing a checkpoint of the state after the last finished step (see CheckpointWriter:
   * served meanwhile, no copy, the next update waits for it); acks the groups it covers once written.
   */
  private startCheckpoint(): Promise<string> {
    const step = this.progress.step;
    this.checkpointedStep = step;
    return this.writer.start(checkpointContents(this.o.engine, this.o.config, { ...this.learnerState, createdAtMs: Date.now() }), async ({ dir, bytes, seconds }) => {
      this.lastCheckpointDir = dir;
      const acked = await this.collector.ackThrough(step - 1);
      this.o.logger.info({ step, dir, acked, bytes, seconds: +seconds.toFixed(3) }, 'checkpoint written');
      for (const w of this.checkpointWaiters.splice(0)) w(dir);
    });
  }

  /** Stops serving. Unacked groups stay in the stream for the next learner. */
  async close(): Promise<void> {
    this.stop();
    // A checkpoint in flight finishes first (the engine is disposed after close).
    await this.writer.settled().catch(() => undefined);
    this.services?.consumer?.stop();
    for (const w of this.checkpointWaiters.splice(0)) w('');
    await this.services?.heartbeat?.stop();
    await this.services?.grpc.close(1000);
    await this.services?.bulk.close();
    await this.metrics.close();
    this.life.tryTo('stopped', 'closed');
  }
}
