/**
 * The chaos benchmark's watchdog: a run under faults must keep making progress, and a worker may
 * only die when the benchmark killed it. A wait that sees no step completed for `stallMs`, or a
 * worker that exited on its own, ends the benchmark with an error saying what was pending: the
 * steps done, the learner's last warnings (the slots it is missing), the workers alive and dead,
 * and what NATS holds (per stream: messages and leader; per consumer: pending, unacked,
 * redelivered).
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { AceReasonError, ErrorCodes, Streams } from '@acereason/protocol';
import { connectNats, drainQuietly, type ChildHandle } from '@acereason/transport';
import type { LocalCluster } from '../local/cluster.js';

export interface ChaosWatchSettings {
  cluster: LocalCluster;
  /** Step completions so far (metrics lines written, a step redone after a restart counts again). */
  progress: () => number;
  /** No step completed for this long: the run is stalled (ms). */
  stallMs: number;
}

const WORK_STREAMS = [Streams.TASKS, Streams.TRAJECTORIES, Streams.SCORED] as const;

function lastLines(text: string, n: number, pattern?: RegExp): string[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && (!pattern || pattern.test(l)));
  return lines.slice(-n).map((l) => (l.length > 400 ? `${l.slice(0, 400)}...` : l));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

async function natsState(jsm: JetStreamManager): Promise<string[]> {
  const out: string[] = [];
  for (const name of WORK_STREAMS) {
    try {
      const s = await withTimeout(jsm.streams.info(name), 5000, `stream ${name}`);
      const replicas = (s.cluster?.replicas ?? []).map((r) => `${r.name}${r.current ? '' : ' (not current)'}${r.offline ? ' (offline)' : ''}`);
      out.push(`stream ${name}: ${s.state.messages} messages (seq ${s.state.first_seq}-${s.state.last_seq})${s.cluster ? `, leader ${s.cluster.leader ?? 'none'}, replicas [${replicas.join(', ')}]` : ''}`);
      for await (const c of jsm.consumers.list(name)) {
        out.push(`  consumer ${c.name}: pending ${c.num_pending}, unacked ${c.num_ack_pending}, redelivered ${c.num_redelivered}, waiting pulls ${c.num_waiting}${c.cluster ? `, leader ${c.cluster.leader ?? 'none'}` : ''}`);
      }
    } catch (err) {
      out.push(`stream ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

export class ChaosWatch {
  /** Workers the benchmark killed itself (their exit is expected). */
  private readonly killed = new Set<ChildHandle>();
  private lastProgress = 0;
  private lastProgressAt = Date.now();

  constructor(private readonly o: ChaosWatchSettings) {}

  /** Kills a worker (or the learner) as a fault: its exit is not a failure. */
  async kill(child: ChildHandle): Promise<void> {
    this.killed.add(child);
    await child.kill('SIGKILL');
  }

  private workers(): ChildHandle[] {
    return [...this.o.cluster.actors, ...this.o.cluster.verifiers];
  }

  /** Workers that exited although nobody killed them (a service must survive every fault). */
  private selfExited(): ChildHandle[] {
    return this.workers().filter((c) => !c.running && !this.killed.has(c));
  }

  /** Throws when a worker (or, unless it may, the learner) died on its own or no step completed for `stallMs`. */
  async check(waitingFor: string, learnerMayExit = false): Promise<void> {
    const done = this.o.progress();
    if (done !== this.lastProgress) {
      this.lastProgress = done;
      this.lastProgressAt = Date.now();
    }
    const learner = this.o.cluster.learner;
    if (learner && !learnerMayExit && !learner.running && !this.killed.has(learner)) {
      throw await this.failure(`the learner exited (${learner.process.exitCode ?? learner.process.signalCode}) while ${waitingFor}`);
    }
    const dead = this.selfExited();
    if (dead.length > 0) {
      const first = dead[0] as ChildHandle;
      throw await this.failure(`${first.settings.name} exited on its own (${first.process.exitCode ?? first.process.signalCode}) while ${waitingFor}`);
    }
    const idle = Date.now() - this.lastProgressAt;
    if (idle > this.o.stallMs) throw await this.failure(`no step completed for ${Math.round(idle / 1000)} s while ${waitingFor}`);
  }

  /** Waits for `pred`, checking for stalls and self-exits meanwhile. */
  async until(pred: () => boolean, waitingFor: string, learnerMayExit = false): Promise<void> {
    while (!pred()) {
      await this.check(waitingFor, learnerMayExit);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Waits for the learner to exit (the run finished or failed), checking meanwhile. */
  async learnerExit(): Promise<number> {
    const learner = this.o.cluster.learner;
    if (!learner) return 1;
    await this.until(() => !learner.running, 'waiting for the learner to finish the run', true);
    return (await learner.exited).code ?? 1;
  }

  /** The error that says what was pending: the learner's warnings, the workers, the streams and consumers. */
  async failure(what: string): Promise<AceReasonError> {
    const c = this.o.cluster;
    const lines = [`chaos run failed: ${what}`, `step completions: ${this.o.progress()}`];
    if (c.learner) {
      lines.push(`learner (${c.learner.running ? 'running' : 'exited'}), last warnings:`, ...lastLines(c.learner.output, 5, /"level":(40|50|60)/).map((l) => `  ${l}`));
      if (!c.learner.running) lines.push('learner, last lines:', ...lastLines(c.learner.output, 3).map((l) => `  ${l}`));
    }
    const alive = this.workers().filter((w) => w.running).map((w) => w.settings.name);
    lines.push(`workers alive: ${alive.join(', ') || 'none'}`);
    for (const w of this.selfExited()) lines.push(`worker ${w.settings.name} exited on its own (${w.process.exitCode ?? w.process.signalCode}):`, ...lastLines(w.output, 3).map((l) => `  ${l}`));
    const nc = await withTimeout(connectNats({ servers: c.natsUrl, name: 'chaos-diagnostics', connectTimeoutMs: 5000 }), 10_000, 'connecting to NATS').catch((err: unknown) => {
      lines.push(`NATS: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
    if (nc) {
      try {
        lines.push(...(await natsState(await jetstreamManager(nc, { checkAPI: false }))));
      } finally {
        await drainQuietly(nc);
      }
    }
    return new AceReasonError(ErrorCodes.TIMEOUT, lines.join('\n'));
  }
}
