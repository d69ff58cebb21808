/**
 * What a NATS failure means, told by the error's class (nats.js core and JetStream errors) and
 * JetStream API codes, never by its message text.
 */
import {
  AuthorizationError, ClosedConnectionError, ConnectionError, DrainingConnectionError, NoRespondersError, PermissionViolationError, RequestError,
  TimeoutError, UserAuthenticationExpiredError,
} from '@nats-io/nats-core';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
// The JetStream error classes not re-exported by the package's main entry.
import { JetStreamStatusError, jserrors } from '@nats-io/jetstream/internal';

const { ConsumerNotFoundError, JetStreamNotEnabled, StreamNotFoundError } = jserrors;

/** Socket errors of a server that is restarting or not reachable yet. */
const TRANSIENT_SOCKET_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/**
 * JetStream API error codes (the server's `err_code`, stable across releases) a publish is refused
 * with when the stream cannot take the message now: its store refused it (at `max_bytes` /
 * `max_msgs` with discard `new`: "maximum bytes exceeded") or the server is out of resources.
 */
export const JS_STREAM_STORE_FAILED = 10077;
export const JS_INSUFFICIENT_RESOURCES = 10023;

/**
 * The server refused a publish because the stream is at its limit with discard `new` (nothing
 * stored is dropped to make room). Space comes back as consumers ack (work queues) or old messages
 * age out, so the publisher backs off and tries again.
 */
export function isStreamFullError(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JS_STREAM_STORE_FAILED || err.code === JS_INSUFFICIENT_RESOURCES);
}

/** JetStream API / status codes of a server that is busy or without a leader for a moment. */
const TRANSIENT_STATUS: ReadonlySet<number> = new Set([408, 503]);

export function isPermissionError(err: unknown): boolean {
  if (err instanceof RequestError) return isPermissionError(err.cause);
  return err instanceof AuthorizationError || err instanceof PermissionViolationError || err instanceof UserAuthenticationExpiredError;
}

/** A stream or consumer that does not exist. */
export function isNotFoundError(err: unknown): boolean {
  if (err instanceof StreamNotFoundError || err instanceof ConsumerNotFoundError) return true;
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound);
}

/** Failures worth retrying: the server is restarting, unreachable or slow (not a refusal). */
export function isTransientNatsError(err: unknown): boolean {
  if (!(err instanceof Error) || isPermissionError(err)) return false;
  if (err instanceof TimeoutError || err instanceof NoRespondersError || err instanceof ConnectionError || err instanceof ClosedConnectionError || err instanceof DrainingConnectionError) return true;
  if (err instanceof RequestError) return err.isNoResponders() || err.cause instanceof TimeoutError;
  // No JetStream responder: the server (or the stream leader) is coming back after a restart.
  if (err instanceof JetStreamNotEnabled) return err.cause instanceof RequestError || err.cause instanceof NoRespondersError;
  if (err instanceof JetStreamStatusError) return TRANSIENT_STATUS.has(err.code);
  if (err instanceof JetStreamApiError) return TRANSIENT_STATUS.has(err.status);
  const code = (err as NodeJS.ErrnoException).code;
  return code !== undefined && TRANSIENT_SOCKET_CODES.has(code);
}
