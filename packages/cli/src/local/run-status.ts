/** Everything `acereason status` shows, gathered from the learner (gRPC) and NATS (KV, consumers). */
import { Consumers, Streams, type LearnerStatus } from '@acereason/protocol';
import { connectNats, drainQuietly, ensureTopology, listWorkers, type Topology } from '@acereason/transport';
import { controlClient, GRPC_TOKEN_ENV, type RunTarget } from './target.js';

export interface WorkerRow {
  role: string;
  id: string;
  host: string;
  state: string;
  throughput: number | null;
  inFlight: number;
  processed: number;
  policyVersion: number | null;
  ageS: number;
}

export interface QueueRow {
  name: string;
  stream: string;
  consumer: string;
  pending: number | null;
  ackPending: number | null;
  redelivered: number | null;
}

export interface RunStatus {
  runId: string;
  natsUrl: string;
  learnerAddress: string;
  learner: LearnerStatus | null;
  learnerError: string | null;
  /** The error's code (PERMISSION: the learner refused the operator's call). */
  learnerErrorCode: string | null;
  workers: WorkerRow[];
  queues: QueueRow[];
  deadLetters: number | null;
  natsError: string | null;
  atMs: number;
}

async function queueRow(t: Topology, name: string, stream: string, consumer: string): Promise<QueueRow> {
  try {
    const i = await t.jsm.consumers.info(stream, consumer);
    return { name, stream, consumer, pending: i.num_pending, ackPending: i.num_ack_pending, redelivered: i.num_redelivered };
  } catch {
    // not created yet (no worker of that kind has joined)
    return { name, stream, consumer, pending: null, ackPending: null, redelivered: null };
  }
}

export async function gatherStatus(target: RunTarget): Promise<RunStatus> {
  const out: RunStatus = {
    runId: target.runId, natsUrl: target.natsUrl, learnerAddress: target.learnerAddress,
    learner: null, learnerError: null, learnerErrorCode: null, workers: [], queues: [], deadLetters: null, natsError: null, atMs: Date.now(),
  };
  const learnerPart = (async () => {
    if (!target.learnerAddress) {
      out.learnerError = 'no learner address';
      return;
    }
    const client = controlClient(target, 3000);
    try {
      out.learner = await client.getStatus({});
    } catch (err) {
      const e = err as Error & { code?: string };
      out.learnerErrorCode = e.code ?? null;
      out.learnerError = e.code === 'PERMISSION' ? `refused: ${e.message}; call it as the operator (--grpc-token or ${GRPC_TOKEN_ENV}, or the operator's client certificate)` : e.message;
    } finally {
      client.close();
    }
  })();
  const natsPart = (async () => {
    let nc;
    try {
      nc = await connectNats({ servers: target.natsUrl, name: 'acereason-status', connectTimeoutMs: 3000, ...target.nats });
      // The operator role may only read the topology; waitForMs 0: a missing stream is an error now.
      const t = await ensureTopology(nc, { verifyOnly: true, waitForMs: 0 });
      const now = Date.now();
      out.workers = (await listWorkers(t.workers, target.runId))
        .map((h) => ({
          role: h.role, id: h.workerId, host: h.host, state: h.state, throughput: h.throughput ?? null, inFlight: h.inFlight, processed: h.processed,
          policyVersion: h.policyVersion ?? null, ageS: Math.max(0, (now - h.createdAtMs) / 1000),
        }))
        .sort((a, b) => a.role.localeCompare(b.role) || a.id.localeCompare(b.id));
      out.queues = await Promise.all([
        queueRow(t, 'tasks -> actors', Streams.TASKS, Consumers.actors(target.runId)),
        queueRow(t, 'math -> verifiers', Streams.TRAJECTORIES, Consumers.verifiers(target.runId, 'math')),
        queueRow(t, 'code -> verifiers', Streams.TRAJECTORIES, Consumers.verifiers(target.runId, 'code')),
        queueRow(t, 'scored -> learner', Streams.SCORED, Consumers.learner(target.runId)),
      ]);
      out.deadLetters = (await t.jsm.streams.info(Streams.DEAD_LETTER)).state.messages;
    } catch (err) {
      out.natsError = (err as Error).message;
    } finally {
      await drainQuietly(nc);
    }
  })();
  await Promise.all([learnerPart, natsPart]);
  return out;
}

const num = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined ? '-' : digits ? v.toFixed(digits) : String(v));

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

const SHOWN = ['reward_mean', 'accuracy', 'response_len_mean', 'truncation_rate', 'entropy_mean', 'loss', 'grad_norm', 'step_s', 'wait_rollouts_s', 'train_s', 'tokens_per_s'];

export function formatStatus(s: RunStatus): string {
  const lines: string[] = [];
  const l = s.learner;
  if (l) {
    lines.push(`run ${s.runId}: ${l.state}, stage ${l.stage} (#${l.stageIndex}, step ${l.stageStep} of it), step ${l.step}, policy v${l.policyVersion} ${l.weightsSha256.slice(0, 12)}`);
  } else {
    lines.push(`run ${s.runId}: learner at ${s.learnerAddress || '?'} ${s.learnerErrorCode === 'PERMISSION' ? 'refused the status call' : 'not reachable'} (${s.learnerError ?? 'unknown'})`);
  }
  if (s.natsError) lines.push(`NATS at ${s.natsUrl}: ${s.natsError}`);
  else {
    lines.push('', 'workers:');
    if (s.workers.length === 0) lines.push('  (none alive)');
    else {
      lines.push(...table([
        ['role', 'id', 'state', 'throughput/s', 'in flight', 'processed', 'version', 'age'],
        ...s.workers.map((w) => [w.role, w.id, w.state, num(w.throughput, 1), String(w.inFlight), String(w.processed), num(w.policyVersion), `${w.ageS.toFixed(0)}s`]),
      ]).map((x) => `  ${x}`));
    }
    lines.push('', 'queues:');
    lines.push(...table([['queue', 'pending', 'unacked', 'redelivered'], ...s.queues.map((q) => [q.name, num(q.pending), num(q.ackPending), num(q.redelivered)])]).map((x) => `  ${x}`));
    lines.push(`  dead letters (all runs): ${num(s.deadLetters)}`);
  }
  const m = l?.lastStep;
  if (m) {
    lines.push('', `last step ${m.step} (${m.stage}, v${m.policyVersion}):`);
    lines.push('  ' + SHOWN.filter((k) => m.values[k] !== undefined).map((k) => `${k}=${Number(m.values[k]).toPrecision(4)}`).join('  '));
  }
  return lines.join('\n');
}
