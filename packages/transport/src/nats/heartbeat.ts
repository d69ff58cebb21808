/**
 * Worker registry: each worker puts a Heartbeat into the workers KV bucket every `intervalMs`;
 * the bucket's TTL removes workers that stop beating. Readers list live workers by run.
 */
import type { KV } from '@nats-io/kv';
import { codecs, Keys, SCHEMA_VERSION, type Heartbeat, type Role } from '@acereason/protocol';
import type { Logger } from '../logger.js';

export interface HeartbeatSource {
  state: string;
  inFlight: number;
  processed: number;
  policyVersion?: number;
  throughput?: number;
}

export interface HeartbeatHandle {
  /** Beats once now (e.g. on a state change). */
  beat(): Promise<void>;
  /** Stops beating and removes the entry. */
  stop(): Promise<void>;
}

export function startHeartbeat(kv: KV, who: { runId: string; role: Role; workerId: string; host: string }, source: () => HeartbeatSource, opts: { intervalMs?: number; logger?: Logger } = {}): HeartbeatHandle {
  const key = Keys.worker(who.runId, who.role, who.workerId);
  let seq = 0;
  const beat = async (): Promise<void> => {
    const s = source();
    const hb: Heartbeat = {
      schema: SCHEMA_VERSION, kind: 'Heartbeat', runId: who.runId, id: `${who.workerId}-${++seq}`, createdAtMs: Date.now(),
      role: who.role, workerId: who.workerId, host: who.host, pid: process.pid, state: s.state, inFlight: s.inFlight, processed: s.processed,
      ...(s.policyVersion !== undefined ? { policyVersion: s.policyVersion } : {}),
      ...(s.throughput !== undefined ? { throughput: s.throughput } : {}),
    };
    try {
      await kv.put(key, codecs.Heartbeat.encode(hb));
    } catch (err) {
      opts.logger?.debug({ err: String(err) }, 'heartbeat failed (NATS unavailable?)');
    }
  };
  const timer = setInterval(() => void beat(), opts.intervalMs ?? 3000);
  timer.unref();
  void beat();
  return {
    beat,
    async stop() {
      clearInterval(timer);
      await kv.delete(key).catch(() => undefined);
    },
  };
}

/** Live workers of a run (entries not yet expired). Malformed entries are skipped. */
export async function listWorkers(kv: KV, runId: string): Promise<Heartbeat[]> {
  const out: Heartbeat[] = [];
  const keys = await kv.keys(Keys.workersOfRun(runId));
  for await (const k of keys) {
    const e = await kv.get(k);
    if (!e || e.operation !== 'PUT' || e.length === 0) continue;
    try {
      out.push(codecs.Heartbeat.decode(e.value));
    } catch {
      // not a heartbeat (e.g. another key type under the run prefix)
    }
  }
  return out;
}
