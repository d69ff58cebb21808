/**
 * Fetches one version's raw bytes from the learner's bulk endpoint (see bulk-server.ts). Over
 * plain HTTP the socket reads straight into the tensors' buffers (node's `onread`: no per-read
 * allocation, no copy in JavaScript, reads of megabytes rather than 64 KiB chunks), and each tensor
 * is hashed as its bytes land (by a worker thread for large versions, see tensor-sink.ts); over
 * https node's client is used, with one copy per chunk. Every sha256 and the version digest are
 * checked before the snapshot is returned.
 */
import { connect, type Socket } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { AceReasonError, ErrorCodes, IntegrityError, type ErrorCode, type WeightManifest } from '@acereason/protocol';
import type { TlsFiles } from '../grpc/tls.js';
import type { WeightSnapshot } from '../grpc/weights.js';
import { TensorSink } from './tensor-sink.js';

export interface BulkFetchOptions {
  /** A snapshot the caller is done with: tensors of the same name and size are received into its buffers. */
  reuse?: WeightSnapshot;
  signal?: AbortSignal;
  tls?: TlsFiles;
  /** Bearer token, as for gRPC (the endpoint applies the same authorization). */
  token?: string;
  /** No byte for this long fails the transfer (default 60 s). */
  idleTimeoutMs?: number;
  /** Sees the body's bytes in order as they land in the tensors' buffers (the host cache writes its copy from them). */
  onBytes?: (chunk: Uint8Array) => void;
  /** Hash in a worker thread (default: for versions of OFF_THREAD_HASH_BYTES or more). */
  offThreadHash?: boolean;
}

const HEAD_LIMIT = 64 * 1024;

function unavailable(url: string, what: string, cause?: unknown): AceReasonError {
  return new AceReasonError(ErrorCodes.UNAVAILABLE, `weights bulk GET ${url}: ${what}`, cause === undefined ? {} : { cause });
}

/** An error response of ours (`{error: {code, message, retryable}}`) or any other, as an AceReasonError. */
function errorFromBody(status: number, text: string, url: string): AceReasonError {
  let code: ErrorCode = status >= 500 ? ErrorCodes.UNAVAILABLE : status === 401 || status === 403 ? ErrorCodes.PERMISSION : ErrorCodes.INTERNAL;
  let retryable = status >= 500;
  let message = `weights bulk GET ${url}: HTTP ${status}`;
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; retryable?: boolean } };
    if (body.error?.code && (Object.values(ErrorCodes) as string[]).includes(body.error.code)) code = body.error.code as ErrorCode;
    if (typeof body.error?.retryable === 'boolean') retryable = body.error.retryable;
    if (body.error?.message) message = body.error.message;
  } catch {
    // not one of ours: keep the status line
  }
  return new AceReasonError(code, message, { retryable });
}

interface Head {
  status: number;
  headers: Map<string, string>;
}

function parseHead(text: string, url: string): Head {
  const [statusLine, ...lines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!m) throw unavailable(url, `not an HTTP response: ${JSON.stringify((statusLine ?? '').slice(0, 80))}`);
  const headers = new Map<string, string>();
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  return { status: Number(m[1]), headers };
}

function checkHead(head: Head, manifest: WeightManifest, url: string): void {
  const announced = head.headers.get('x-acereason-weights-sha256');
  if (announced !== undefined && announced !== manifest.weightsSha256) throw new IntegrityError(`weights bulk GET ${url}: serves ${announced} where the manifest says ${manifest.weightsSha256}`);
  const length = head.headers.get('content-length');
  if (length !== String(manifest.totalBytes)) throw new IntegrityError(`weights bulk GET ${url}: content-length ${length ?? 'missing'}, the manifest says ${manifest.totalBytes} bytes`);
}

/** Plain HTTP/1.1 on a socket that reads into the sink's buffers. */
function fetchPlain(url: URL, manifest: WeightManifest, sink: TensorSink, opts: BulkFetchOptions): Promise<WeightSnapshot> {
  const where = url.toString();
  return new Promise<WeightSnapshot>((resolve, reject) => {
    const head = Buffer.allocUnsafe(HEAD_LIMIT);
    const scratch = Buffer.allocUnsafe(4096);
    let headLen = 0;
    let state: 'head' | 'body' | 'error' | 'done' = 'head';
    let errStatus = 0;
    let errWanted = 0;
    let errBody = '';
    const fail = (err: unknown): void => {
      if (state === 'done') return;
      state = 'done';
      socket.destroy();
      reject(err); // fetchWeightsBulk abandons the sink's hashing on every rejection
    };
    const succeed = (): void => {
      if (state === 'done') return;
      state = 'done';
      socket.destroy();
      sink.finish().then(resolve, reject);
    };
    const onHead = (): void => {
      const end = head.subarray(0, headLen).indexOf('\r\n\r\n');
      if (end < 0) {
        if (headLen === HEAD_LIMIT) fail(unavailable(where, 'response headers too long'));
        return;
      }
      const h = parseHead(head.toString('latin1', 0, end), where);
      const rest = head.subarray(end + 4, headLen);
      if (h.status !== 200) {
        state = 'error';
        errStatus = h.status;
        errWanted = Number(h.headers.get('content-length') ?? '0');
        errBody = rest.toString('utf8');
        if (Buffer.byteLength(errBody) >= errWanted) fail(errorFromBody(errStatus, errBody, where));
        return;
      }
      checkHead(h, manifest, where);
      state = 'body';
      sink.write(rest);
      if (sink.done) succeed();
    };
    const socket: Socket = connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 80),
      onread: {
        buffer: () => {
          if (state === 'head') return head.subarray(headLen);
          if (state === 'body' && !sink.done) return sink.target();
          return scratch;
        },
        callback: (n: number, buf: Uint8Array): boolean => {
          try {
            if (state === 'head') {
              headLen += n;
              onHead();
            } else if (state === 'body') {
              if (buf === scratch) throw new IntegrityError(`weights bulk GET ${where}: the body is longer than the manifest's ${manifest.totalBytes} bytes`);
              sink.advance(n);
              if (sink.done) succeed();
            } else if (state === 'error') {
              errBody += Buffer.from(buf.buffer, buf.byteOffset, n).toString('utf8');
              if (Buffer.byteLength(errBody) >= errWanted) fail(errorFromBody(errStatus, errBody, where));
            }
          } catch (err) {
            fail(err);
          }
          return true;
        },
      },
    });
    socket.setNoDelay(true);
    socket.setTimeout(opts.idleTimeoutMs ?? 60_000, () => fail(new AceReasonError(ErrorCodes.TIMEOUT, `weights bulk GET ${where}: no bytes for ${opts.idleTimeoutMs ?? 60_000} ms`)));
    socket.on('error', (err) => fail(unavailable(where, err.message, err)));
    socket.on('close', () => {
      if (state === 'error') fail(errorFromBody(errStatus, errBody, where));
      else fail(unavailable(where, `connection closed after ${sink.received} of ${manifest.totalBytes} bytes`));
    });
    opts.signal?.addEventListener('abort', () => fail(new AceReasonError(ErrorCodes.CANCELLED, `weights bulk GET ${where}: cancelled`)), { once: true });
    const auth = opts.token !== undefined ? `authorization: Bearer ${opts.token}\r\n` : '';
    socket.write(`GET ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\n${auth}connection: close\r\n\r\n`);
  });
}

/** https through node's client (TLS sockets have no `onread`): one copy per chunk. */
async function fetchTls(url: URL, manifest: WeightManifest, sink: TensorSink, opts: BulkFetchOptions): Promise<WeightSnapshot> {
  const where = url.toString();
  const tls = opts.tls ?? {};
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpsRequest(url, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}), ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}), ...(tls.key ? { key: readFileSync(tls.key) } : {}),
      headers: opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {},
    }, resolve);
    req.setTimeout(opts.idleTimeoutMs ?? 60_000, () => req.destroy(new AceReasonError(ErrorCodes.TIMEOUT, `weights bulk GET ${where}: no bytes for ${opts.idleTimeoutMs ?? 60_000} ms`)));
    req.on('error', (err) => reject(err instanceof AceReasonError ? err : unavailable(where, err.message, err)));
    req.end();
  });
  if (res.statusCode !== 200) {
    let text = '';
    for await (const c of res) text += String(c);
    throw errorFromBody(res.statusCode ?? 0, text, where);
  }
  const headers = new Map(Object.entries(res.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : [])));
  try {
    checkHead({ status: 200, headers }, manifest, where);
    for await (const chunk of res) sink.write(chunk as Buffer);
  } catch (err) {
    res.destroy();
    throw err instanceof AceReasonError ? err : unavailable(where, (err as Error).message, err);
  }
  return sink.finish();
}

/** GETs `url` (the manifest's bulk_url) and returns the verified snapshot. Transport failures are retryable UNAVAILABLE errors. */
export function fetchWeightsBulk(url: string, manifest: WeightManifest, opts: BulkFetchOptions = {}): Promise<WeightSnapshot> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return Promise.reject(new AceReasonError(ErrorCodes.INVALID, `weights bulk URL ${url}: expected http: or https:`, { retryable: false }));
  const sink = new TensorSink(manifest, opts.reuse, { ...(opts.onBytes ? { onBytes: opts.onBytes } : {}), ...(opts.offThreadHash !== undefined ? { offThreadHash: opts.offThreadHash } : {}) });
  return (u.protocol === 'http:' ? fetchPlain(u, manifest, sink, opts) : fetchTls(u, manifest, sink, opts)).catch((err: unknown) => {
    sink.abandon();
    throw err;
  });
}
