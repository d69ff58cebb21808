/**
 * A gRPC server from protocol method definitions and typed async handlers. Unary handlers return
 * a promise; server-stream handlers return an async iterable (back-pressure respected). Thrown
 * errors become gRPC statuses carrying our stable error code.
 */
import { Server, type Metadata, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type UntypedServiceImplementation, type ServiceDefinition } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { MethodDefinition } from '@acereason/protocol';
import type { GrpcAuthorizer, GrpcCaller } from '../auth/grpc-authz.js';
import { errorToStatus } from './status.js';
import { serverCredentials, type TlsFiles } from './tls.js';

export interface CallContext {
  /** Aborted when the client cancels or the deadline passes. */
  signal: AbortSignal;
  peer: string;
}

/** The structural minimum of a method definition (variance-free, for generic constraints). */
export interface AnyMethod {
  readonly path: string;
  readonly responseStream: boolean;
}

/**
 * A response message serialized ahead of time. A server-stream handler may yield one in place of
 * the message: bytes shared by many streams (the same weights to every actor) are then encoded once.
 */
export class EncodedMessage<T> {
  declare private readonly brand: T;
  constructor(readonly bytes: Buffer) {}
}

type HandlerFor<M> =
  M extends MethodDefinition<infer Req, infer Res, true> ? (req: Req, ctx: CallContext) => AsyncIterable<Res | EncodedMessage<Res>>
  : M extends MethodDefinition<infer Req, infer Res, false> ? (req: Req, ctx: CallContext) => Promise<Res>
  : never;

export type ServiceHandlers<D> = { [K in keyof D]: HandlerFor<D[K]> };

export interface ServiceBinding {
  definition: Record<string, MethodDefinition<never, never>>;
  handlers: Record<string, (req: never, ctx: CallContext) => unknown>;
}

/** Pairs a definition with its handlers, checked against each other at compile time. */
export function service<D extends Record<string, AnyMethod>>(definition: D, handlers: ServiceHandlers<D>): ServiceBinding {
  return { definition: definition as unknown as ServiceBinding['definition'], handlers: handlers as unknown as ServiceBinding['handlers'] };
}

export interface GrpcServerSettings {
  /** host:port; port 0 picks a free port. */
  address: string;
  services: ServiceBinding[];
  tls?: TlsFiles;
  /** Largest message in bytes (default 64 MiB). */
  maxMessageBytes?: number;
  /** Runs before every handler; a throw (PERMISSION) refuses the call. Default: every call is served. */
  authorize?: GrpcAuthorizer;
}

export interface RunningGrpcServer extends AsyncDisposable {
  readonly port: number;
  readonly address: string;
  /** Stops accepting calls, waits up to `graceMs` for in-flight calls, then forces. */
  close(graceMs?: number): Promise<void>;
}

function contextOf(call: { getPeer(): string; on(event: 'cancelled', cb: () => void): unknown }): { ctx: CallContext; done: () => void } {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  return { ctx: { signal: ac.signal, peer: call.getPeer() }, done: () => undefined };
}

/** The definition grpc-js gets: stream responses that are already EncodedMessages pass through as they are. */
function withEncodedResponses(definition: ServiceBinding['definition']): ServiceDefinition {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(definition)) {
    const serialize = def.responseSerialize as (value: unknown) => Buffer;
    out[name] = def.responseStream ? { ...def, responseSerialize: (v: unknown) => (v instanceof EncodedMessage ? v.bytes : serialize(v)) } : def;
  }
  return out as unknown as ServiceDefinition;
}

/** Waits for the stream to drain; a cancelled call never drains, so that ends the wait too. */
function drainOrCancel(call: ServerWritableStream<unknown, unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

interface AuthorizableCall {
  getPeer(): string;
  getAuthContext(): { sslPeerCertificate?: PeerCertificate } | null;
  metadata: Metadata;
}

function callerOf(call: AuthorizableCall, method: string): GrpcCaller {
  const auth = call.metadata.get('authorization')[0];
  const bearer = typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
  return { method, peer: call.getPeer(), certificate: call.getAuthContext()?.sslPeerCertificate, bearer };
}

function implement(binding: ServiceBinding, authorize: GrpcAuthorizer | undefined): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const [name, def] of Object.entries(binding.definition)) {
    const handler = binding.handlers[name];
    if (!handler) throw new Error(`grpc: no handler for ${def.path}`);
    const check = (call: AuthorizableCall): void => void authorize?.(callerOf(call, def.path));
    if (def.responseStream) {
      impl[name] = (call: ServerWritableStream<unknown, unknown>) => {
        const { ctx } = contextOf(call);
        void (async () => {
          try {
            check(call);
            for await (const item of handler(call.request as never, ctx) as AsyncIterable<unknown>) {
              if (ctx.signal.aborted) return;
              if (!call.write(item)) await drainOrCancel(call, ctx.signal);
            }
            call.end();
          } catch (err) {
            // An 'error' event makes grpc-js end the call with this status; destroy() would drop it
            // (the stream is gone before its final status is written) and the client would hang.
            if (!ctx.signal.aborted) call.emit('error', Object.assign(new Error('handler failed'), errorToStatus(err)));
          }
        })();
      };
    } else {
      impl[name] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const { ctx } = contextOf(call);
        new Promise<unknown>((resolve) => {
          check(call);
          resolve(handler(call.request as never, ctx));
        }).then(
          (res) => callback(null, res),
          (err: unknown) => callback(errorToStatus(err) as Parameters<sendUnaryData<unknown>>[0]),
        );
      };
    }
  }
  return impl;
}

export async function startGrpcServer(settings: GrpcServerSettings): Promise<RunningGrpcServer> {
  const max = settings.maxMessageBytes ?? 64 * 1024 * 1024;
  const server = new Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max });
  for (const b of settings.services) server.addService(withEncodedResponses(b.definition), implement(b, settings.authorize));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(settings.address, serverCredentials(settings.tls), (err, p) => (err ? reject(err) : resolve(p)));
  });
  const host = settings.address.slice(0, settings.address.lastIndexOf(':'));
  let closed = false;
  const close = async (graceMs = 2000): Promise<void> => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  };
  return { port, address: `${host}:${port}`, close, [Symbol.asyncDispose]: () => close() };
}
