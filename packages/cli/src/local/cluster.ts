/**
 * A local cluster as plain processes: nats-server (started here unless a URL is given), the
 * learner, N actors and M verifiers. Used by `acereason up`, the demo and the loop benchmark.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnChild, startNatsCluster, startNatsServer, type ChildHandle, type NatsCluster, type NatsServer } from '@acereason/transport';
import { serviceBins } from './bins.js';

export interface LocalClusterOptions {
  configPath: string;
  runId: string;
  actors: number;
  verifiers: number;
  /** Use this NATS server instead of starting one. */
  natsUrl?: string;
  /** Start this many clustered nats-servers (JetStream replicated) instead of one. */
  natsNodes?: number;
  /** Where service logs go (one file per process); they are not echoed. */
  logDir: string;
  learnerArgs?: string[];
  actorArgs?: string[];
  verifierArgs?: string[];
}

export class LocalCluster implements AsyncDisposable {
  nats: NatsServer | undefined;
  /** With natsNodes > 1: the clustered servers (then `nats` is undefined). */
  natsCluster: NatsCluster | undefined;
  natsUrl = '';
  learner: ChildHandle | undefined;
  readonly actors: ChildHandle[] = [];
  readonly verifiers: ChildHandle[] = [];

  constructor(private readonly o: LocalClusterOptions) {}

  private spawn(name: string, bin: string, args: string[]): ChildHandle {
    const child = spawnChild({ name, command: process.execPath, args: [bin, ...args], env: { ...process.env, ACEREASON_LOG_PRETTY: '0' } });
    const log = createWriteStream(join(this.o.logDir, `${name}.log`));
    child.process.stdout?.pipe(log);
    child.process.stderr?.pipe(log);
    return child;
  }

  async start(): Promise<void> {
    mkdirSync(this.o.logDir, { recursive: true });
    if (this.o.natsUrl) this.natsUrl = this.o.natsUrl;
    else if ((this.o.natsNodes ?? 1) > 1) {
      this.natsCluster = await startNatsCluster({ nodes: this.o.natsNodes ?? 1 });
      this.natsUrl = this.natsCluster.url;
    } else {
      this.nats = await startNatsServer();
      this.natsUrl = this.nats.url;
    }
    this.startLearner();
    for (let i = 0; i < this.o.actors; i++) this.addActor(`actor-${i}`);
    for (let i = 0; i < this.o.verifiers; i++) this.addVerifier(`verifier-${i}`);
  }

  /** Starts (or, after it died, restarts) the learner; it resumes from its latest checkpoint. */
  startLearner(name = 'learner'): ChildHandle {
    this.learner = this.spawn(name, serviceBins.learner(), ['--config', this.o.configPath, '--nats', this.natsUrl, ...(this.o.learnerArgs ?? [])]);
    return this.learner;
  }

  addVerifier(id: string): ChildHandle {
    const v = this.spawn(id, serviceBins.verifier(), ['--run', this.o.runId, '--nats', this.natsUrl, '--id', id, ...(this.o.verifierArgs ?? [])]);
    this.verifiers.push(v);
    return v;
  }

  addActor(id: string): ChildHandle {
    const a = this.spawn(id, serviceBins.actor(), ['--run', this.o.runId, '--nats', this.natsUrl, '--id', id, ...(this.o.actorArgs ?? [])]);
    this.actors.push(a);
    return a;
  }

  /** Waits for the learner to exit (the run finished or failed). */
  async waitForLearner(): Promise<number> {
    const exit = await this.learner?.exited;
    return exit?.code ?? 1;
  }

  async stop(): Promise<void> {
    await Promise.all([this.learner, ...this.actors, ...this.verifiers].map((c) => c?.stop(5000)));
    await this.nats?.[Symbol.asyncDispose]();
    await this.natsCluster?.[Symbol.asyncDispose]();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
