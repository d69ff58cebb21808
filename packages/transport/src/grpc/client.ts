/**
 * A typed gRPC client from protocol method definitions: unary calls return promises, server
 * streams are async iterables (`break` cancels the call). Every call has a deadline; failures are
 * AceReasonErrors with a retryable flag.
 */
import { Client, Metadata, type ServiceError, type ClientReadableStream } from '@grpc/grpc-js';
import { TimeoutError, type MethodDefinition } from '@acereason/protocol';
import { statusToError } from './status.js';
import type { AnyMethod } from './server.js';
import { channelCredentials, type TlsFiles } from './tls.js';

export interface CallOptions {
  /** Deadline for the whole call in ms (default: the client's default). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

type ClientMethod<M> =
  M extends MethodDefinition<infer Req, infer Res, true> ? (req: Req, opts?: CallOptions) => AsyncIterable<Res>
  : M extends MethodDefinition<infer Req, infer Res, false> ? (req: Req, opts?: CallOptions) => Promise<Res>
  : never;

export type TypedClient<D> = { [K in keyof D]: ClientMethod<D[K]> } & { close(): void; waitForReady(timeoutMs: number): Promise<void> };

export interface GrpcClientSettings {
  address: string;
  tls?: TlsFiles;
  /** A bearer token sent with every call (`authorization` metadata); use it over TLS only. */
  token?: string;
  /** Default deadline per call (ms); streams get `streamTimeoutMs`. */
  timeoutMs?: number;
  streamTimeoutMs?: number;
  maxMessageBytes?: number;
  /**
   * HTTP/2 receive window of each stream and of the connection (default 8 MiB). With the protocol's
   * 64 KiB a large server stream (weights) stalls for a window update every 64 KiB: measured ~25%
   * slower weight sync to 4 actors at 10 MB.
   */
  flowControlWindowBytes?: number;
}

function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number';
}

export function createGrpcClient<D extends Record<string, AnyMethod>>(definition: D, settings: GrpcClientSettings): TypedClient<D> {
  const max = settings.maxMessageBytes ?? 64 * 1024 * 1024;
  const client = new Client(settings.address, channelCredentials(settings.tls), {
    'grpc.max_receive_message_length': max,
    'grpc.max_send_message_length': max,
    'grpc.keepalive_time_ms': 30_000,
    'grpc-node.flow_control_window': settings.flowControlWindowBytes ?? 8 * 1024 * 1024,
  });
  const metadata = (): Metadata => {
    const m = new Metadata();
    if (settings.token !== undefined) m.set('authorization', `Bearer ${settings.token}`);
    return m;
  };
  const out: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(definition)) {
    const def = d as unknown as MethodDefinition<unknown, unknown, boolean>;
    if (def.responseStream) {
      out[name] = (req: unknown, opts: CallOptions = {}) => streamCall(client, def, req, metadata(), opts.timeoutMs ?? settings.streamTimeoutMs ?? 300_000, opts.signal);
    } else {
      out[name] = (req: unknown, opts: CallOptions = {}) =>
        new Promise((resolve, reject) => {
          const call = client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, req, metadata(), { deadline: Date.now() + (opts.timeoutMs ?? settings.timeoutMs ?? 10_000) }, (err, res) => {
            if (err) reject(statusToError(err));
            else resolve(res);
          });
          opts.signal?.addEventListener('abort', () => call.cancel(), { once: true });
        });
    }
  }
  out.close = () => client.close();
  out.waitForReady = (timeoutMs: number) =>
    new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(new TimeoutError(`gRPC server at ${settings.address} not ready after ${timeoutMs} ms`, { cause: err })) : resolve())));
  return out as TypedClient<D>;
}

async function* streamCall(client: Client, def: MethodDefinition<unknown, unknown, boolean>, req: unknown, metadata: Metadata, timeoutMs: number, signal: AbortSignal | undefined): AsyncGenerator<unknown> {
  const call: ClientReadableStream<unknown> = client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, req, metadata, { deadline: Date.now() + timeoutMs });
  const onAbort = (): void => call.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const item of call) yield item;
  } catch (err) {
    throw isServiceError(err) ? statusToError(err) : err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    call.cancel();
  }
}
