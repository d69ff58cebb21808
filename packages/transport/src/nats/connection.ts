import { connect, type NatsConnection, type ConnectionOptions } from '@nats-io/transport-node';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import type { Logger } from '../logger.js';
import { isPermissionError } from './errors.js';

export type { NatsConnection } from '@nats-io/transport-node';

export interface NatsSettings {
  /** One or more server URLs, e.g. nats://127.0.0.1:4222, as a list or comma-separated (every node of a cluster: the client fails over). */
  servers: string | string[];
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** PEM file paths for TLS; `ca` alone enables server verification, cert+key add client auth. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** Give up connecting at start-up after this long (ms). Reconnects after that are unlimited. */
  connectTimeoutMs?: number;
  logger?: Logger;
}

/** `a,b,c` or a list: the URLs of every node, so the client can fail over to any of them. */
export function serverList(servers: string | string[]): string[] {
  return [servers].flat().flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

/**
 * Connects with reconnection on (forever, with jitter), so a NATS restart is survived by every
 * service; status changes are logged.
 */
export async function connectNats(settings: NatsSettings): Promise<NatsConnection> {
  const opts: ConnectionOptions = {
    servers: serverList(settings.servers),
    name: settings.name ?? 'acereason',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    timeout: settings.connectTimeoutMs ?? 5000,
    waitOnFirstConnect: false,
    pingInterval: 10_000,
  };
  if (settings.user !== undefined) opts.user = settings.user;
  if (settings.pass !== undefined) opts.pass = settings.pass;
  if (settings.token !== undefined) opts.token = settings.token;
  if (settings.tls) {
    opts.tls = {};
    if (settings.tls.ca) opts.tls.caFile = settings.tls.ca;
    if (settings.tls.cert) opts.tls.certFile = settings.tls.cert;
    if (settings.tls.key) opts.tls.keyFile = settings.tls.key;
  }
  let nc: NatsConnection;
  try {
    nc = await connect(opts);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const permission = isPermissionError(err);
    throw new AceReasonError(permission ? ErrorCodes.PERMISSION : ErrorCodes.UNAVAILABLE,
      `cannot connect to NATS at ${[settings.servers].flat().join(', ')}: ${message}` +
      (permission ? '' : ' (is nats-server running with -js? `acereason doctor` checks)'), { cause: err });
  }
  const log = settings.logger;
  if (log) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnecting') log.warn({ nats: s.type }, 'NATS connection lost, reconnecting');
        else if (s.type === 'reconnect') log.info({ nats: s.type }, 'NATS reconnected');
        else if (s.type === 'error') log.error({ nats: s.type, err: String(s.error) }, 'NATS error');
      }
    })();
  }
  return nc;
}

/** Drains (flushes pending work, then closes) and never throws: for shutdown paths. */
export async function drainQuietly(nc: NatsConnection | undefined): Promise<void> {
  if (!nc || nc.isClosed()) return;
  try {
    await nc.drain();
  } catch {
    await nc.close().catch(() => undefined);
  }
}
