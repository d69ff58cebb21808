/**
 * The learner: runs the stages of a run, one GRPO step at a time.
 *
 * Per step: publish one RolloutTask per prompt; collect the ScoredGroups (dedup by id, any order,
 * redeliveries; re-issue prompts that time out or come back with a forged weights hash); shape
 * rewards and compute group advantages; drop zero-variance groups (over-sampling more prompts when
 * configured); run exactly one optimizer update; publish the new version over gRPC and announce
 * it on NATS; record metrics; checkpoint every N steps and only then ack the consumed groups.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  AceReasonError, ErrorCodes, codecs, Consumers, Keys, LearnerControlDefinition, SCHEMA_VERSION, Streams, Subjects, WeightServiceDefinition,
  type LearnerStatus, type ScoredGroup, type StageChanged, type WeightsAnnounced, type RunSpec,
} from '@acereason/protocol';
import {
  consume, jetstreamClient, listWorkers, makeSnapshot, publishMessage, retryTransient, service, startGrpcServer, startHeartbeat, WeightStore, weightServiceHandlers, type TlsFiles, type RunningWeightBulkServer,
  type GrpcRoleMap, type HeartbeatHandle, type Logger, type MessageConsumer, type NatsConnection, type RunningGrpcServer, type Topology,
} from '@acereason/transport';
import type { LossConfig, PolicyEngine, Tokenizer } from '@acereason/policy';
import type { RunConfig, StageConfig } from './config/run-config.js';
import type { Dataset } from './data/dataset.js';
import { PromptSampler } from './data/prompt-sampler.js';
import { StepCollector } from './loop/collector.js';
import { buildBatch } from './loop/batch.js';
import { makeTask, type TaskContext } from './loop/tasks.js';
import { saveCheckpoint, type Checkpoint, type LearnerState, type PublishedStep } from './checkpoint/checkpoint.js';
import { checkpointContents } from './checkpoint/contents.js';
import { MetricsSink } from './metrics/sink.js';
import { mean, percentile, type StepMetrics } from './metrics/step-metrics.js';
import { controlHandlers } from './service/control.js';
import { learnerAuthorizer } from './service/authz.js';
import { startLearnerWeightBulk } from './service/weight-serving.js';
import { PassRateTable } from './curriculum/pass-rates.js';
import { isFilterActive, solvedLastTime, stageStartVerdict } from './curriculum/filters.js';
import { initialTemperature, nextTemperature } from './curriculum/temperature.js';
import { plateaued, type EvalResult, type EvalTrigger } from './curriculum/eval.js';
import { runEvaluation } from './curriculum/evaluator.js';

export type LearnerPhase = 'starting' | 'running' | 'paused' | 'draining' | 'stopped' | 'failed' | 'finished';

export interface LearnerOptions {
  config: RunConfig;
  nc: NatsConnection;
  topology: Topology;
  engine: PolicyEngine;
  tokenizer: Tokenizer;
  /** Tokenizer description for workers joining the run. */
  tokenizerSpec: RunSpec['tokenizer'];
  datasets: Record<string, Dataset>;
  logger: Logger;
  /** Resume from this checkpoint (weights and optimizer state already loaded into the engine). */
  resume?: Checkpoint;
  /** Stop after this many steps in this process (tests and benchmarks). */
  maxStepsThisRun?: number;
  /** TLS of the gRPC server (with `ca`: client certificates required). Default: plaintext. */
  grpcTls?: TlsFiles;
  /** Who may call what over gRPC (client certificates and tokens to roles). Default: no authorization. */
  grpcRoles?: GrpcRoleMap;
}

const MAX_OVERSAMPLE_ROUNDS = 3;

export class Learner {
  phase: LearnerPhase = 'starting';
  private state: LearnerState;
  private readonly store = new WeightStore(8);
  private readonly versionSha = new Map<number, string>();
  private readonly collector: StepCollector;
  private readonly metrics: MetricsSink;
  private readonly samplers = new Map<string, PromptSampler>();
  private readonly js;
  private grpc: RunningGrpcServer | undefined;
  private bulk: RunningWeightBulkServer | undefined;
  private consumer: MessageConsumer<ScoredGroup> | undefined;
  private heartbeat: HeartbeatHandle | undefined;
  private address = '';
  private readonly stopController = new AbortController();
  private paused = false;
  private resumeWaiters: (() => void)[] = [];
  private advanceTo: string | undefined;
  private checkpointWaiters: ((path: string) => void)[] = [];
  private reissued = 0;
  private readonly startedAtMs = Date.now();
  private lastCheckpointDir = '';
  private plateauEnded = false;
  /** Steps whose task ids this process has registered with the collector. */
  private readonly registered = new Set<number>();
  private readonly passRates: PassRateTable;
  private excluded = new Set<number>();

  constructor(private readonly o: LearnerOptions) {
    const c = o.config;
    this.state = o.resume?.state ?? {
      runId: c.runId, step: 0, version: 0, weightsSha256: '', stageIndex: 0, stageStep: 0, cursors: {}, pending: [],
      consumedGroups: 0, rejectedGroups: 0, createdAtMs: Date.now(),
    };
    this.collector = new StepCollector((g) => this.versionSha.get(g.group.policyVersion) === g.group.weightsSha256);
    this.collector.onGroup((g, v) => {
      if (v === 'rejected') {
        this.state.rejectedGroups++;
        o.logger.warn({ groupId: g.id, claimed: g.group.policyVersion, sha: g.group.weightsSha256.slice(0, 12) }, 'group rejected: its weights hash is not the one of the version it claims');
        this.reissueTask(g.task.step, g.task.slot);
      }
    });
    this.metrics = new MetricsSink(join(c.outDir, 'metrics.jsonl'), c.runId);
    this.js = jetstreamClient(o.nc);
    this.passRates = new PassRateTable(o.topology.passRates);
    this.excluded = new Set(this.state.stagePlan?.stageIndex === this.state.stageIndex ? this.state.stagePlan.excluded : []);
  }

  get runId(): string {
    return this.o.config.runId;
  }

  /** host:port where WeightService and LearnerControl are served. */
  get grpcAddress(): string {
    return this.address;
  }

  get collectorCounts() {
    return this.collector.counts;
  }

  get learnerState(): Readonly<LearnerState> {
    return this.state;
  }

  private stage(): StageConfig | undefined {
    return this.o.config.stages[this.state.stageIndex];
  }

  private sampler(stage: StageConfig): PromptSampler {
    let s = this.samplers.get(stage.dataset);
    if (!s) {
      const ds = this.o.datasets[stage.dataset];
      if (!ds) throw new AceReasonError(ErrorCodes.INVALID, `dataset "${stage.dataset}" is not loaded`);
      s = new PromptSampler(ds.prompts.length, `${this.o.config.seed}:${stage.dataset}`, this.state.cursors[stage.dataset]);
      this.samplers.set(stage.dataset, s);
    }
    return s;
  }

  private taskContext(stageIndex: number): TaskContext {
    const stage = this.o.config.stages[stageIndex] as StageConfig;
    return { runId: this.runId, seed: this.o.config.seed, stage, dataset: this.o.config.datasets[stage.dataset] as TaskContext['dataset'], tokenizer: this.o.tokenizer };
  }

  async start(): Promise<void> {
    const c = this.o.config;
    const authorize = this.o.grpcRoles ? learnerAuthorizer(this.o.grpcRoles, this.o.logger, (role, method) => this.metrics.grpcDenied.inc({ role, method })) : undefined;
    this.bulk = await startLearnerWeightBulk(this.store, c.cluster.grpcBind, c.cluster.grpcAdvertise, this.o.grpcTls, authorize);
    this.grpc = await startGrpcServer({
      address: c.cluster.grpcBind,
      ...(this.o.grpcTls ? { tls: this.o.grpcTls } : {}),
      ...(authorize ? { authorize } : {}),
      services: [
        service(WeightServiceDefinition, weightServiceHandlers(this.store, { bulk: this.bulk })),
        service(LearnerControlDefinition, controlHandlers({
          status: () => this.status(),
          pause: (reason) => this.pause(reason),
          resume: () => this.resume(),
          requestAdvance: (to) => this.requestAdvance(to),
          requestCheckpoint: () => new Promise<string>((resolve) => this.checkpointWaiters.push(resolve)),
          subscribeMetrics: (l) => this.metrics.subscribe(l),
          lastMetrics: () => this.metrics.last,
        })),
      ],
    });
    const host = c.cluster.grpcBind.slice(0, c.cluster.grpcBind.lastIndexOf(':'));
    this.address = c.cluster.grpcAdvertise ?? `${host === '0.0.0.0' || host === '' ? hostname() : host}:${this.grpc.port}`;
    if (c.cluster.metricsPort !== undefined) await this.metrics.serve(c.cluster.metricsPort);

    // The current weights become a served version: the resumed one, or version 0.
    for (const p of this.state.pending) this.versionSha.set(p.version, p.sha256);
    await this.publishWeights(this.state.version);
    const spec: RunSpec = {
      schema: SCHEMA_VERSION, kind: 'RunSpec', runId: this.runId, id: `${this.runId}-spec`, createdAtMs: Date.now(),
      model: this.o.engine.model, tokenizer: this.o.tokenizerSpec, learnerAddress: this.address, seed: c.seed,
    };
    await retryTransient(() => this.o.topology.runState.put(Keys.runSpec(this.runId), codecs.RunSpec.encode(spec)));

    const maxHeld = (c.checkpoint.everySteps + 1 + c.algorithm.maxStaleness) * Math.max(...c.stages.map((s) => s.batchPrompts)) * (MAX_OVERSAMPLE_ROUNDS + 1) + 256;
    this.consumer = await consume(this.o.nc, {
      stream: Streams.SCORED, durable: Consumers.learner(this.runId), filterSubject: Subjects.scored(this.runId),
      codec: codecs.ScoredGroup, maxInFlight: maxHeld, maxAckPending: maxHeld, ackWaitMs: c.cluster.ackWaitMs, logger: this.o.logger, batch: 256,
    });
    void this.collector.pump(this.consumer).catch((err: unknown) => this.o.logger.error({ err: String(err) }, 'scored-group pump stopped'));
    this.heartbeat = startHeartbeat(this.o.topology.workers, { runId: this.runId, role: 'learner', workerId: 'learner', host: hostname() }, () => ({
      state: this.phase, inFlight: this.collector.held, processed: this.state.consumedGroups, policyVersion: this.state.version,
    }), { logger: this.o.logger });
    this.phase = 'running';
    this.o.logger.info({ address: this.address, step: this.state.step, version: this.state.version, stage: this.stage()?.name, resumed: this.o.resume !== undefined }, 'learner started');
  }

  private async publishWeights(version: number): Promise<number> {
    const t0 = performance.now();
    const tensors = this.o.engine.exportWeights().map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) }));
    const snap = makeSnapshot(this.runId, version, tensors);
    this.store.put(snap);
    this.versionSha.set(version, snap.manifest.weightsSha256);
    for (const v of [...this.versionSha.keys()]) if (v < version - 16) this.versionSha.delete(v);
    this.state.version = version;
    this.state.weightsSha256 = snap.manifest.weightsSha256;
    const a: WeightsAnnounced = {
      schema: SCHEMA_VERSION, kind: 'WeightsAnnounced', runId: this.runId, id: `${this.runId}.w.${version}.${snap.manifest.weightsSha256.slice(0, 8)}`, createdAtMs: Date.now(),
      version, weightsSha256: snap.manifest.weightsSha256, address: this.address, totalBytes: snap.manifest.totalBytes,
    };
    await publishMessage(this.js, Subjects.weights(this.runId), codecs.WeightsAnnounced, a);
    await retryTransient(() => this.o.topology.runState.put(Keys.latestWeights(this.runId), codecs.WeightsAnnounced.encode(a)));
    return (performance.now() - t0) / 1000;
  }

  status(): LearnerStatus {
    const st = this.stage();
    const m = this.metrics.last;
    return {
      runId: this.runId, state: this.paused && this.phase === 'running' ? 'paused' : this.phase, stage: st?.name ?? '', stageIndex: this.state.stageIndex,
      step: this.state.step, stageStep: this.state.stageStep, policyVersion: this.state.version, weightsSha256: this.state.weightsSha256,
      lastStep: m ? { step: m.step, stage: m.stage, policyVersion: m.policy_version, values: Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === 'number')) as Record<string, number>, timeMs: m.time_ms } : null,
      startedAtMs: this.startedAtMs,
    };
  }

  pause(reason: string): void {
    this.paused = true;
    this.o.logger.info({ reason }, 'pause requested');
  }

  resume(): void {
    this.paused = false;
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  requestAdvance(to: string): void {
    if (to && !this.o.config.stages.some((s) => s.name === to)) throw new AceReasonError(ErrorCodes.INVALID, `no stage named "${to}" (stages: ${this.o.config.stages.map((s) => s.name).join(', ')})`);
    this.advanceTo = to || '__next__';
  }

  stop(): void {
    this.phase = this.phase === 'running' ? 'draining' : this.phase;
    this.stopController.abort();
    this.resume();
  }

  /** Publishes the tasks of a step (or the missing slots of one), registering their ids. */
  private async publishSlots(pub: PublishedStep, slots: number[]): Promise<void> {
    const ctx = this.taskContext(pub.stageIndex);
    const ds = this.o.datasets[ctx.stage.dataset] as Dataset;
    const tasks = slots.map((slot) => makeTask(ctx, { task: { step: pub.step, slot, retry: pub.retries[slot] ?? 0, purpose: { kind: 'train' } }, prompt: ds.prompts[pub.prompts[slot] as number] as Dataset['prompts'][number], version: pub.version, sha256: pub.sha256, temperature: pub.temperature }));
    this.collector.expect(pub.step, tasks.map((t, i) => ({ taskId: t.id, slot: slots[i] as number })), pub.prompts.length);
    this.registered.add(pub.step);
    for (const t of tasks) await publishMessage(this.js, Subjects.task(this.runId, t.domain), codecs.RolloutTask, t);
  }

  private reissueTask(step: number, slot: number): void {
    for (const pub of this.state.pending) {
      if (step !== pub.step) continue;
      pub.retries[slot] = (pub.retries[slot] ?? 0) + 1;
      this.reissued++;
      void this.publishSlots(pub, [slot]).catch((err: unknown) => this.o.logger.error({ err: String(err) }, 're-issue failed'));
      return;
    }
  }

  /** The stage's step budget (fixed by the stage plan for epoch-based stages). */
  private stageBudget(stage: StageConfig): number {
    return this.state.stagePlan?.stageIndex === this.state.stageIndex ? this.state.stagePlan.steps : stage.steps;
  }

  /** Which prompts the sampler may pick: not filtered out at stage start, not solved by every rollout last time. */
  private eligible(stage: StageConfig): (index: number) => boolean {
    const ds = this.o.datasets[stage.dataset] as Dataset;
    return (i) => !this.excluded.has(i) && !(stage.filter.dropSolvedEachEpoch && solvedLastTime(this.passRates.peek(stage.dataset, ds.prompts[i]?.id ?? ''), stage.name));
  }

  /** Held-out evaluation through the cluster (see curriculum/evaluator.ts). */
  async evaluate(trigger: EvalTrigger): Promise<EvalResult[]> {
    const ev = this.o.config.eval;
    const stage = this.stage() ?? this.o.config.stages[this.o.config.stages.length - 1];
    if (!ev || !stage) return [];
    const round = (this.state.evalRounds = (this.state.evalRounds ?? 0) + 1);
    return runEvaluation({
      eval: ev, stage, round, trigger, runId: this.runId, step: this.state.step, version: this.state.version, sha256: this.state.weightsSha256,
      datasets: this.o.datasets, datasetConfigs: this.o.config.datasets, baseContext: this.taskContext(this.state.stageIndex),
      collector: this.collector, js: this.js, outDir: this.o.config.outDir, logger: this.o.logger,
    });
  }

  /**
   * Fixed once when a stage starts: the prompts its filters drop (from the pass-rate table), the
   * step budget (from epochs, when given) and the starting temperature.
   */
  private async planStage(stage: StageConfig): Promise<void> {
    if (this.state.stagePlan?.stageIndex === this.state.stageIndex) return;
    const ds = this.o.datasets[stage.dataset] as Dataset;
    const excluded: number[] = [];
    const counts = { too_easy: 0, never_solved: 0 };
    if (isFilterActive(stage.filter)) {
      const table = await this.passRates.loadAll(stage.dataset, ds.prompts.map((p) => p.id));
      ds.prompts.forEach((p, i) => {
        const v = stageStartVerdict(table.get(p.id), stage.filter);
        if (v !== 'keep') {
          excluded.push(i);
          counts[v]++;
        }
      });
    }
    const eligible = ds.prompts.length - excluded.length;
    if (eligible === 0) throw new AceReasonError(ErrorCodes.INVALID, `stage ${stage.name}: the filters leave no prompt of dataset "${stage.dataset}" (${counts.too_easy} too easy, ${counts.never_solved} never solved)`);
    const steps = stage.epochs !== undefined ? Math.max(1, Math.ceil((stage.epochs * eligible) / stage.batchPrompts)) : stage.steps;
    this.state.stagePlan = { stageIndex: this.state.stageIndex, steps, excluded, eligible };
    this.state.temperature = initialTemperature(stage.temperatureControl);
    this.excluded = new Set(excluded);
    this.o.logger.info({ stage: stage.name, prompts: ds.prompts.length, eligible, dropped: counts, steps, temperature: this.state.temperature }, 'stage planned');
  }

  /** Makes sure steps step..step+lookahead of the current stage have their tasks out. */
  private async ensurePublished(stage: StageConfig): Promise<void> {
    const lookahead = this.o.config.algorithm.maxStaleness;
    const lastOfStage = this.state.step + (this.stageBudget(stage) - this.state.stageStep) - 1;
    for (let s = this.state.step; s <= Math.min(this.state.step + lookahead, lastOfStage); s++) {
      const known = this.state.pending.find((p) => p.step === s);
      if (known) {
        // Published before a restart: register its ids and re-publish (msg-id dedup drops copies).
        if (!this.registered.has(s)) await this.publishSlots(known, known.prompts.map((_, i) => i));
        continue;
      }
      const prompts = this.sampler(stage).take(stage.batchPrompts, this.eligible(stage));
      const pub: PublishedStep = { step: s, stageIndex: this.state.stageIndex, prompts, version: this.state.version, sha256: this.state.weightsSha256, retries: prompts.map(() => 0), temperature: this.state.temperature ?? stage.temperature };
      this.state.pending.push(pub);
      this.state.cursors[stage.dataset] = this.sampler(stage).cursor;
      await this.publishSlots(pub, prompts.map((_, i) => i));
    }
  }


  /** Waits until every slot of the step is filled, re-issuing slots that time out. */
  private async collect(pub: PublishedStep, stage: StageConfig): Promise<void> {
    const c = this.o.config;
    let rounds = 0;
    for (;;) {
      const want = pub.prompts.length;
      while (!(await this.collector.waitFor(pub.step, () => this.collector.filled(pub.step) >= want, c.cluster.stepTimeoutMs, this.stopController.signal))) {
        if (this.stopController.signal.aborted) throw new AceReasonError(ErrorCodes.CANCELLED, 'learner stopping');
        const missing = this.collector.missingSlots(pub.step, want);
        const ds = this.o.datasets[stage.dataset] as Dataset;
        this.o.logger.warn({ step: pub.step, missing: missing.length, prompts: missing.slice(0, 20).map((m) => ds.prompts[pub.prompts[m] as number]?.id) }, 'step is waiting too long: re-issuing missing prompts');
        for (const m of missing) pub.retries[m] = (pub.retries[m] ?? 0) + 1;
        this.reissued += missing.length;
        await this.publishSlots(pub, missing);
      }
      if (!stage.zeroVarianceFilter || stage.oversample <= 0 || rounds >= MAX_OVERSAMPLE_ROUNDS) return;
      const informative = this.collector.groups(pub.step).filter((g) => g && !isZeroVariance(g)).length;
      if (informative >= stage.batchPrompts) return;
      const extra = Math.ceil((stage.batchPrompts - informative) * (1 + stage.oversample));
      const more = this.sampler(stage).take(extra, this.eligible(stage));
      this.state.cursors[stage.dataset] = this.sampler(stage).cursor;
      const first = pub.prompts.length;
      pub.prompts.push(...more);
      pub.retries.push(...more.map(() => 0));
      await this.publishSlots(pub, more.map((_, i) => first + i));
      rounds++;
    }
  }

  private async waitWhilePaused(): Promise<void> {
    while (this.paused && !this.stopController.signal.aborted) {
      this.o.logger.info('paused');
      await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
    }
  }

  private async changeStage(to: number, reason: string): Promise<void> {
    const from = this.stage();
    if (from && this.o.config.eval?.atStageBoundaries) await this.evaluate({ kind: 'stage-end', stage: from.name });
    this.state.stageIndex = to;
    this.state.stageStep = 0;
    this.state.plateauHistory = [];
    // Tasks published ahead for the old stage are abandoned: their groups will be dropped as stale.
    this.state.pending = this.state.pending.filter((p) => p.step < this.state.step);
    const next = this.stage();
    const msg: StageChanged = {
      schema: SCHEMA_VERSION, kind: 'StageChanged', runId: this.runId, id: `${this.runId}.stage.${to}.${this.state.step}`, createdAtMs: Date.now(),
      ...(from ? { fromStage: from.name } : {}), toStage: next?.name ?? 'finished', stageIndex: to, step: this.state.step, reason,
    };
    await publishMessage(this.js, Subjects.stage(this.runId), codecs.StageChanged, msg);
    this.o.logger.info({ from: from?.name, to: next?.name ?? 'finished', step: this.state.step, reason }, 'stage changed');
  }

  /** Runs steps until every stage is done (or `maxStepsThisRun`, or stop()). */
  async run(): Promise<void> {
    if (this.phase === 'starting') await this.start();
    let stepsThisRun = 0;
    try {
      if (this.o.config.eval?.atStageBoundaries && this.state.step === 0 && (this.state.evalRounds ?? 0) === 0) await this.evaluate({ kind: 'before-training' });
      while (!this.stopController.signal.aborted) {
        const stage = this.stage();
        if (!stage) {
          this.phase = 'finished';
          break;
        }
        if (this.advanceTo !== undefined) {
          const target = this.advanceTo === '__next__' ? this.state.stageIndex + 1 : this.o.config.stages.findIndex((s) => s.name === this.advanceTo);
          this.advanceTo = undefined;
          await this.changeStage(target, 'operator request');
          continue;
        }
        await this.planStage(stage);
        if (this.state.stageStep >= this.stageBudget(stage) || this.plateauEnded) {
          const why = this.plateauEnded ? `${stage.plateau?.dataset} avg@k plateaued` : `step budget of ${this.stageBudget(stage)} reached`;
          this.plateauEnded = false;
          await this.changeStage(this.state.stageIndex + 1, why);
          continue;
        }
        if (this.o.maxStepsThisRun !== undefined && stepsThisRun >= this.o.maxStepsThisRun) break;
        await this.waitWhilePaused();
        if (this.stopController.signal.aborted) break;
        await this.runStep(stage);
        stepsThisRun++;
      }
      if (this.phase === 'finished') await this.checkpoint();
    } catch (err) {
      if (!(err instanceof AceReasonError && err.code === ErrorCodes.CANCELLED)) {
        this.phase = 'failed';
        throw err;
      }
    }
  }

  private async runStep(stage: StageConfig): Promise<void> {
    const c = this.o.config;
    const t0 = performance.now();
    await this.ensurePublished(stage);
    const pub = this.state.pending.find((p) => p.step === this.state.step);
    if (!pub) throw new AceReasonError(ErrorCodes.INTERNAL, `step ${this.state.step} has no published tasks`);
    await this.collect(pub, stage);
    const tCollected = performance.now();
    const all = this.collector.groups(pub.step).filter((g): g is ScoredGroup => g !== undefined);
    // Canonical order (by slot) so training does not depend on arrival order; over-sampled groups
    // beyond the batch are left out once the batch has enough informative ones.
    const built = buildBatch(all, stage, c.algorithm, this.state.version);
    const used = built.used.slice(0, stage.batchPrompts);
    const sequences = used === built.used ? built.sequences : buildBatch(used, stage, c.algorithm, this.state.version).sequences;
    const async = c.algorithm.mode === 'async';
    const loss: LossConfig = {
      kind: 'pg', epsLow: c.algorithm.epsLow, epsHigh: c.algorithm.epsHigh, klCoef: c.algorithm.klCoef, entropyCoef: c.algorithm.entropyCoef,
      aggregation: c.algorithm.aggregation, constantNormalizer: stage.maxResponseTokens, temperature: pub.temperature > 0 ? pub.temperature : 1,
    };
    // Strictly on-policy: pi_old is the current policy (ratio exactly 1). Async: the behaviour policy's logprobs.
    const seqs = async ? sequences : sequences.map(({ oldLogprobs: _o, ...rest }) => rest);
    let train = { loss: 0, gradNorm: 0, tokens: 0, learningRate: 0, seconds: 0 };
    if (seqs.length > 0) train = await this.o.engine.trainStep({ sequences: seqs, loss, ...(stage.learningRate !== undefined ? { learningRate: stage.learningRate } : {}) });
    const tTrained = performance.now();
    const publishS = await this.publishWeights(this.state.version + 1);
    const tPublished = performance.now();

    const workers = await listWorkers(this.o.topology.workers, this.runId).catch(() => []);
    const m: StepMetrics = {
      step: this.state.step, stage: stage.name, stage_index: this.state.stageIndex, stage_step: this.state.stageStep,
      policy_version: this.state.version, time_ms: Date.now(),
      reward_mean: mean(built.rawRewards), accuracy: built.responses ? built.correct / built.responses : 0,
      zero_variance_frac: all.length ? built.zeroVarianceGroups / all.length : 0, groups: all.length, groups_used: used.length,
      response_len_mean: mean(built.lengths), response_len_p95: percentile(built.lengths, 0.95), response_len_max: built.lengths.reduce((a, b) => Math.max(a, b), 0),
      truncation_rate: built.responses ? built.truncated / built.responses : 0, entropy_mean: mean(built.entropies),
      temperature: pub.temperature, prompts_eligible: this.state.stagePlan?.eligible ?? 0,
      loss: train.loss, grad_norm: train.gradNorm, learning_rate: train.learningRate, train_tokens: train.tokens,
      tokens_per_s: built.lengths.reduce((a, b) => a + b, 0) / Math.max(1e-9, (tCollected - t0) / 1000),
      step_s: (tPublished - t0) / 1000, wait_rollouts_s: (tCollected - t0) / 1000,
      verify_s: mean(all.map((g) => g.verifyMs)) / 1000, train_s: (tTrained - tCollected) / 1000, publish_s: publishS,
      staleness_mean: mean(built.staleness), staleness_max: built.staleness.reduce((a, b) => Math.max(a, b), 0),
      staleness_counts: built.staleness.reduce<Record<string, number>>((acc, x) => ({ ...acc, [x]: (acc[x] ?? 0) + 1 }), {}),
      rejected_groups: this.collector.counts.rejected, duplicate_groups: this.collector.counts.duplicates, reissued_tasks: this.reissued,
      actors: workers.filter((w) => w.role === 'actor').length, verifiers: workers.filter((w) => w.role === 'verifier').length,
    };
    this.metrics.record(m);
    this.o.logger.info({ step: m.step, stage: m.stage, reward: +m.reward_mean.toFixed(3), acc: +m.accuracy.toFixed(3), len: Math.round(m.response_len_mean), s: +m.step_s.toFixed(2) }, 'step done');

    await this.passRates.record(stage.dataset, all.map((g) => ({
      promptId: g.group.promptId,
      record: { stage: stage.name, step: pub.step, version: g.group.policyVersion, attempts: g.results.length, passes: g.results.filter((r) => r.correct).length },
    }))).catch((err: unknown) => this.o.logger.warn({ err: String(err) }, 'pass-rate table update failed'));
    this.state.temperature = nextTemperature(stage.temperatureControl, pub.temperature, this.state.stageStep + 1, this.stageBudget(stage), m.entropy_mean);

    this.collector.finish(pub.step);
    this.state.pending = this.state.pending.filter((p) => p.step !== pub.step);
    this.state.consumedGroups += all.length;
    this.state.step++;
    this.state.stageStep++;
    const ev = c.eval;
    if (ev && ev.everySteps > 0 && this.state.stageStep % ev.everySteps === 0 && this.state.stageStep < this.stageBudget(stage)) {
      const results = await this.evaluate({ kind: 'periodic', everySteps: ev.everySteps });
      if (stage.plateau) {
        const watched = results.find((r) => r.dataset === stage.plateau?.dataset);
        if (watched) (this.state.plateauHistory ??= []).push(watched.avgAtK);
        if (plateaued(this.state.plateauHistory ?? [], stage.plateau)) {
          this.o.logger.info({ stage: stage.name, history: this.state.plateauHistory }, 'eval metric plateaued: ending the stage');
          this.plateauEnded = true;
        }
      }
    }
    if (this.state.step % c.checkpoint.everySteps === 0 || this.checkpointWaiters.length > 0) await this.checkpoint();
  }

  /** Writes a checkpoint of the state after the last finished step, then acks the groups it covers. */
  async checkpoint(): Promise<string> {
    const contents = checkpointContents(this.o.engine, this.o.config, { ...this.state, createdAtMs: Date.now() });
    const dir = saveCheckpoint(this.o.config.checkpoint.dir, contents, this.o.config.checkpoint.keep);
    this.lastCheckpointDir = dir;
    const acked = await this.collector.ackThrough(this.state.step - 1);
    this.o.logger.info({ step: this.state.step, dir, acked }, 'checkpoint written');
    for (const w of this.checkpointWaiters.splice(0)) w(dir);
    return dir;
  }

  get lastCheckpoint(): string {
    return this.lastCheckpointDir;
  }

  /** Stops serving. Unacked groups stay in the stream for the next learner. */
  async close(): Promise<void> {
    this.stop();
    this.consumer?.stop();
    for (const w of this.checkpointWaiters.splice(0)) w('');
    await this.heartbeat?.stop();
    await this.grpc?.close(1000);
    await this.bulk?.close();
    await this.metrics.close();
    if (this.phase !== 'finished' && this.phase !== 'failed') this.phase = 'stopped';
  }
}

function isZeroVariance(g: ScoredGroup): boolean {
  return g.results.every((r) => r.reward === g.results[0]?.reward);
}
