/**
 * The bulk path of weight sync: one plain HTTP response per version carrying the tensors' raw
 * bytes in manifest order. gRPC (grpc-js over HTTP/2) moves a large stream in 16 KiB frames, each
 * a JavaScript event on both ends plus a reassembly copy per message; an HTTP/1.1 body goes from
 * the snapshot's own buffers to the socket (no encoding, no copy in this process) and arrives in
 * 64 KiB reads. The manifest, with every sha256, still comes from WeightService.GetManifest.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { AceReasonError, WeightServiceDefinition } from '@acereason/protocol';
import type { TlsFiles } from '../grpc/tls.js';
import type { GrpcAuthorizer } from '../auth/grpc-authz.js';
import type { WeightStore, WeightTensor } from '../grpc/weights.js';

/** Largest write handed to the socket at once; back-pressure is awaited between writes. */
const WRITE_BYTES = 16 << 20;

export interface WeightBulkServerSettings {
  store: WeightStore;
  /** Interface to bind (the gRPC server's host). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Host name actors reach this server by (default: `host`). */
  advertiseHost?: string;
  tls?: TlsFiles;
  /**
   * The gRPC server's authorizer: a GET is the StreamWeights method for it (same roles), with the
   * client certificate of the TLS connection or the `authorization: Bearer` header.
   */
  authorize?: GrpcAuthorizer;
}

export interface RunningWeightBulkServer extends AsyncDisposable {
  readonly port: number;
  /** The URL of version `version` of run `runId`. */
  urlFor(runId: string, version: number): string;
  close(): Promise<void>;
}

/** `/weights/v1/<run>/<version>`; anything else is not ours. */
export function bulkPath(runId: string, version: number): string {
  return `/weights/v1/${encodeURIComponent(runId)}/${version}`;
}

function parsePath(url: string | undefined): { runId: string; version: number } | undefined {
  const m = /^\/weights\/v1\/([^/]+)\/(\d+)$/.exec(url ?? '');
  if (!m) return undefined;
  return { runId: decodeURIComponent(m[1] as string), version: Number(m[2]) };
}

function refuse(res: ServerResponse, status: number, code: string, message: string, retryable: boolean): void {
  const body = JSON.stringify({ error: { code, message, retryable } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Writes the tensors as they are, waiting for the socket to drain; stops when the client goes away. */
async function writeTensors(res: ServerResponse, tensors: readonly WeightTensor[]): Promise<void> {
  let gone = false;
  res.once('close', () => (gone = true));
  for (let i = 0; i < tensors.length; i++) {
    for (let off = 0; off < (tensors[i] as WeightTensor).data.byteLength; off += WRITE_BYTES) {
      if (gone) return;
      // Looked up per piece: a tensor the store replaces meanwhile (a live version copied before the
      // learner's update) is read from its replacement from here on.
      const data = (tensors[i] as WeightTensor).data;
      const piece = data.subarray(off, Math.min(off + WRITE_BYTES, data.byteLength));
      if (!res.write(piece)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.once('drain', done);
          res.once('close', done);
        });
      }
    }
  }
  if (!gone) res.end();
}

function permitted(req: IncomingMessage, res: ServerResponse, authorize: GrpcAuthorizer | undefined): boolean {
  if (!authorize) return true;
  const auth = req.headers.authorization;
  const bearer = typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
  const socket = req.socket as Partial<TLSSocket>;
  const certificate = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  try {
    authorize({ method: WeightServiceDefinition.streamWeights.path, peer: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`, certificate, bearer });
    return true;
  } catch (err) {
    refuse(res, 403, 'PERMISSION', err instanceof AceReasonError ? err.message : 'permission denied', false);
    return false;
  }
}

function handler(store: WeightStore, authorize: GrpcAuthorizer | undefined): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (!permitted(req, res, authorize)) return;
    const at = parsePath(req.url);
    if (req.method !== 'GET' || !at) return refuse(res, 404, 'NOT_FOUND', `no such resource: ${req.method ?? ''} ${req.url ?? ''}`, false);
    const snap = store.get(at.version);
    const latest = store.latest()?.manifest.version ?? -1;
    // Exactly the version asked for, by its own number.
    if (!snap || snap.manifest.runId !== at.runId || snap.manifest.version !== at.version) {
      return refuse(res, 404, 'NOT_FOUND', `weights of run ${at.runId} version ${at.version} are not held (latest is ${latest})`, at.version > latest);
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(snap.manifest.totalBytes),
      'x-acereason-weights-sha256': snap.manifest.weightsSha256,
    });
    void writeTensors(res, snap.tensors).catch(() => res.destroy());
  };
}

export async function startWeightBulkServer(s: WeightBulkServerSettings): Promise<RunningWeightBulkServer> {
  if (s.tls && (!s.tls.cert || !s.tls.key)) throw new Error('tls: the weight bulk server needs both cert and key');
  const onRequest = handler(s.store, s.authorize);
  const server: Server = s.tls
    ? createHttpsServer({
        cert: readFileSync(s.tls.cert ?? ''),
        key: readFileSync(s.tls.key ?? ''),
        ...(s.tls.ca ? { ca: readFileSync(s.tls.ca), requestCert: true, rejectUnauthorized: true } : {}),
      }, onRequest)
    : createHttpServer(onRequest);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(s.port, s.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = s.advertiseHost ?? s.host;
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const base = `${s.tls ? 'https' : 'http'}://${urlHost}:${port}`;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  return { port, urlFor: (runId, version) => `${base}${bulkPath(runId, version)}`, close, [Symbol.asyncDispose]: close };
}
