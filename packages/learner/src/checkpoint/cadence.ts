/**
 * When the learner checkpoints, and what follows a write: after every `every_steps`-th step or at
 * an operator's request, one write at a time (CheckpointWriter, in the background of the next
 * step), the groups it covers acked only once it is on disk, the operator's requests answered with
 * its folder.
 */
import type { PolicyEngine } from '@acereason/policy';
import type { Logger } from '@acereason/transport';
import type { RunConfig } from '../config/run-config.js';
import type { LearnerState } from './checkpoint.js';
import { checkpointContents } from './contents.js';
import { CheckpointWriter } from './writer.js';

export interface CheckpointCadenceOptions {
  config: RunConfig;
  engine: PolicyEngine;
  logger: Logger;
  /** The state after the last finished step, assembled from the parts that own it. */
  state: () => Readonly<LearnerState>;
  /** Acks the held groups of every step up to `step` (inclusive); resolves with how many. */
  ackThrough: (step: number) => Promise<number>;
}

export class CheckpointCadence {
  /** The checkpoint being written (its buffers are the engine's: nothing may train meanwhile). */
  private readonly writer: CheckpointWriter;
  private waiters: ((path: string) => void)[] = [];
  private lastDir = '';
  /** The step the last checkpoint covers (resumed: the one loaded). */
  private coveredStep: number;

  constructor(private readonly o: CheckpointCadenceOptions, resumedStep = -1) {
    this.coveredStep = resumedStep;
    this.writer = new CheckpointWriter({ root: o.config.checkpoint.dir, keep: o.config.checkpoint.keep, logger: o.logger });
  }

  /** The folder of the last checkpoint written by this process ('' before the first). */
  get last(): string {
    return this.lastDir;
  }

  /** Whether the last checkpoint started covers the state after `step` steps. */
  covers(step: number): boolean {
    return this.coveredStep === step;
  }

  /** An operator's request: resolves with the folder of the checkpoint after the next step ('' if the learner closes first). */
  request(): Promise<string> {
    return new Promise<string>((resolve) => this.waiters.push(resolve));
  }

  /** After a step (`step` steps done): starts a write if one is due; the next update waits for it. */
  afterStep(step: number): void {
    if (step % this.o.config.checkpoint.everySteps === 0 || this.waiters.length > 0) void this.start();
  }

  /** Resolves once no checkpoint is being written; rejects with the error of one that failed. */
  settled(): Promise<void> {
    return this.writer.settled();
  }

  /** Writes a checkpoint of the state now (after one being written); resolves with its folder. */
  async now(): Promise<string> {
    await this.writer.settled();
    return this.start();
  }

  /** Answers the requests still waiting with no checkpoint (the learner closes). */
  release(): void {
    for (const w of this.waiters.splice(0)) w('');
  }

  /**
   * Starts writing a checkpoint of the state after the last finished step (see CheckpointWriter:
   * served meanwhile, no copy, the next update waits for it); acks the groups it covers once written.
   */
  private start(): Promise<string> {
    const state = { ...this.o.state(), createdAtMs: Date.now() };
    const step = state.step;
    this.coveredStep = step;
    return this.writer.start(checkpointContents(this.o.engine, this.o.config, state), async ({ dir, bytes, seconds }) => {
      this.lastDir = dir;
      const acked = await this.o.ackThrough(step - 1);
      this.o.logger.info({ step, dir, acked, bytes, seconds: +seconds.toFixed(3) }, 'checkpoint written');
      for (const w of this.waiters.splice(0)) w(dir);
    });
  }
}
