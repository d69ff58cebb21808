/**
 * Fetches one version's raw bytes from the learner's bulk endpoint (see bulk-server.ts) straight
 * into the tensors' buffers, hashing each tensor as its bytes arrive (they arrive in order, so
 * verifying costs no second pass over memory), then checks every sha256 and the version digest.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { AceReasonError, ErrorCodes, IntegrityError, weightsDigest, type ErrorCode, type WeightManifest } from '@acereason/protocol';
import type { TlsFiles } from '../grpc/tls.js';
import type { WeightSnapshot, WeightTensor } from '../grpc/weights.js';

export interface BulkFetchOptions {
  /** A snapshot the caller is done with: tensors of the same name and size are received into its buffers. */
  reuse?: WeightSnapshot;
  signal?: AbortSignal;
  tls?: TlsFiles;
  /** Deadline for the whole transfer (default 10 minutes). */
  timeoutMs?: number;
}

/** Receives a body into per-tensor buffers, in manifest order, hashing as it goes. */
class TensorSink {
  private i = 0;
  private off = 0;
  private readonly hash: Hash[];
  readonly buffers: Uint8Array[];
  received = 0;

  constructor(private readonly manifest: WeightManifest, reuse: WeightSnapshot | undefined) {
    const spare = new Map((reuse?.tensors ?? []).map((t) => [t.name, t.data]));
    // Own ArrayBuffers (offset 0, so Float32 views need no copy); memory already in use is much
    // cheaper to write than fresh pages.
    this.buffers = manifest.tensors.map((t) => {
      const b = spare.get(t.name);
      return b && b.byteLength === t.byteLength ? b : new Uint8Array(t.byteLength);
    });
    this.hash = manifest.tensors.map(() => createHash('sha256'));
    this.skipEmpty();
  }

  private skipEmpty(): void {
    while (this.i < this.buffers.length && this.off === (this.buffers[this.i] as Uint8Array).byteLength) {
      this.i++;
      this.off = 0;
    }
  }

  write(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.byteLength) {
      const buf = this.buffers[this.i];
      if (!buf) throw new IntegrityError(`weights v${this.manifest.version}: the body is longer than the manifest's ${this.manifest.totalBytes} bytes`);
      const n = Math.min(buf.byteLength - this.off, chunk.byteLength - pos);
      const piece = chunk.subarray(pos, pos + n);
      buf.set(piece, this.off);
      (this.hash[this.i] as Hash).update(piece);
      this.off += n;
      pos += n;
      this.skipEmpty();
    }
    this.received += chunk.byteLength;
  }

  finish(): WeightSnapshot {
    const m = this.manifest;
    if (this.received !== m.totalBytes) throw new IntegrityError(`weights v${m.version}: got ${this.received} of ${m.totalBytes} bytes`);
    const tensors: WeightTensor[] = m.tensors.map((t, k) => {
      const got = (this.hash[k] as Hash).digest('hex');
      if (got !== t.sha256) throw new IntegrityError(`weights v${m.version}: tensor ${t.name} sha256 ${got} != manifest ${t.sha256}`);
      return { name: t.name, dtype: t.dtype, shape: t.shape, data: this.buffers[k] as Uint8Array };
    });
    const digest = weightsDigest(m.tensors);
    if (digest !== m.weightsSha256) throw new IntegrityError(`weights v${m.version}: digest ${digest} != announced ${m.weightsSha256}`);
    return { manifest: m, tensors };
  }
}

async function errorFromResponse(res: IncomingMessage, url: string): Promise<AceReasonError> {
  let text = '';
  for await (const c of res) text += String(c);
  let code: ErrorCode = res.statusCode !== undefined && res.statusCode >= 500 ? ErrorCodes.UNAVAILABLE : ErrorCodes.INTERNAL;
  let retryable = res.statusCode !== undefined && res.statusCode >= 500;
  let message = `weights bulk GET ${url}: HTTP ${res.statusCode ?? '?'}`;
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; retryable?: boolean } };
    if (body.error?.code && Object.values(ErrorCodes).includes(body.error.code as ErrorCode)) code = body.error.code as ErrorCode;
    if (typeof body.error?.retryable === 'boolean') retryable = body.error.retryable;
    if (body.error?.message) message = body.error.message;
  } catch {
    // not one of ours: keep the status line
  }
  return new AceReasonError(code, message, { retryable });
}

/** GETs `url` (the manifest's bulk_url) and returns the verified snapshot. Transport failures are retryable UNAVAILABLE errors. */
export async function fetchWeightsBulk(url: string, manifest: WeightManifest, opts: BulkFetchOptions = {}): Promise<WeightSnapshot> {
  const https = url.startsWith('https:');
  const tls = opts.tls;
  const sink = new TensorSink(manifest, opts.reuse);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const options = {
      timeout: opts.timeoutMs ?? 600_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(https && tls ? { ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}), ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}), ...(tls.key ? { key: readFileSync(tls.key) } : {}) } : {}),
    };
    const req = (https ? httpsRequest : httpRequest)(url, options, resolve);
    req.on('timeout', () => req.destroy(new AceReasonError(ErrorCodes.TIMEOUT, `weights bulk GET ${url}: no progress for ${options.timeout} ms`)));
    req.on('error', (err) => reject(err instanceof AceReasonError ? err : new AceReasonError(ErrorCodes.UNAVAILABLE, `weights bulk GET ${url}: ${err.message}`, { cause: err })));
    req.end();
  });
  if (res.statusCode !== 200) throw await errorFromResponse(res, url);
  const announced = res.headers['x-acereason-weights-sha256'];
  if (announced !== undefined && announced !== manifest.weightsSha256) {
    res.destroy();
    throw new IntegrityError(`weights bulk GET ${url}: serves ${String(announced)} where the manifest says ${manifest.weightsSha256}`);
  }
  try {
    for await (const chunk of res) sink.write(chunk as Buffer);
  } catch (err) {
    res.destroy();
    if (err instanceof AceReasonError) throw err;
    throw new AceReasonError(ErrorCodes.UNAVAILABLE, `weights bulk GET ${url}: ${(err as Error).message}`, { cause: err });
  }
  return sink.finish();
}
