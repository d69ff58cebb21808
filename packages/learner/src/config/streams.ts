/**
 * The `streams:` section of the run file: how the learner lays out JetStream (it owns the
 * topology). `replicas: auto` (default) is 3 on a NATS cluster and 1 on a single server.
 */
import { ValidationError } from '@acereason/protocol';
import { parseNumber, section } from './units.js';

export interface StreamsConfig {
  replicas: number | 'auto';
}

export function parseStreams(raw: unknown): StreamsConfig {
  const s = section(raw, 'streams', ['replicas']);
  const replicas = s.replicas === undefined || s.replicas === 'auto' ? 'auto' : parseNumber(s.replicas, 'streams.replicas', { integer: true, min: 1, max: 5 });
  if (typeof replicas === 'number' && replicas % 2 === 0) throw new ValidationError('streams.replicas', `expected an odd number (a RAFT quorum of ${replicas} survives no more failures than ${replicas - 1}), got ${replicas}`);
  return { replicas };
}
