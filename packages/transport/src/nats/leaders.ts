/**
 * Waiting for a clustered stream to answer: its RAFT group has a leader (and, after a node came
 * back, every replica is current again). Transient failures (no responders while a node restarts,
 * 503 without a leader, timeouts) and a missing leader are retried with a jittered backoff up to a
 * deadline; anything else (a permission error, a stream that does not exist) is thrown at once.
 */
import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { Backoff } from '../retry/backoff.js';
import { isTransientNatsError } from './errors.js';

export interface LeaderWait {
  /** Give up after this long (ms). */
  timeoutMs: number;
  /** Also wait until every replica reports itself current (a restarted node has caught up). */
  replicasCurrent?: boolean;
}

/** Resolves with the stream's info once it has a leader (and current replicas when asked). */
export async function waitForStreamLeader(jsm: JetStreamManager, stream: string, o: LeaderWait): Promise<StreamInfo> {
  const deadline = Date.now() + o.timeoutMs;
  const poll = new Backoff({ initialMs: 100, maxMs: 1000 });
  let last = 'no answer yet';
  for (;;) {
    try {
      const info = await jsm.streams.info(stream);
      const c = info.cluster;
      const lagging = (c?.replicas ?? []).filter((r) => !r.current || r.offline === true).map((r) => r.name);
      if (c?.leader && (!o.replicasCurrent || lagging.length === 0)) return info;
      last = c?.leader ? `replicas not current: ${lagging.join(', ')}` : 'no leader';
    } catch (err) {
      if (!isTransientNatsError(err)) throw err;
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new AceReasonError(ErrorCodes.UNAVAILABLE, `stream ${stream}: ${last} after ${o.timeoutMs} ms (is a quorum of the NATS cluster up?)`, { retryable: true });
    await poll.wait();
  }
}
