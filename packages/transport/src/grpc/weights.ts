/**
 * Weight transfer: the learner keeps recent policy versions in a WeightStore and serves them with
 * WeightService (manifests, and a chunked gRPC stream) plus the bulk HTTP endpoint whose URL the
 * manifest carries; actors fetch a version with `fetchWeights`, which checks every tensor's sha256
 * and the version digest before handing the weights over.
 */
import { IntegrityError, AceReasonError, ErrorCodes, WeightServiceDefinition, sha256Hex, weightsDigest, type WeightManifest, type WeightChunk } from '@acereason/protocol';
import { createHash, type Hash } from 'node:crypto';
import { EncodedMessage, type ServiceHandlers } from './server.js';
import type { TypedClient, CallOptions } from './client.js';
import type { TlsFiles } from './tls.js';
import { fetchWeightsBulk } from '../weights/bulk-fetch.js';
import type { HostWeightCache } from '../weights/host-cache.js';

export interface WeightTensor {
  name: string;
  /** safetensors dtype name: F32, F16, BF16, I64 ... */
  dtype: string;
  shape: number[];
  /** Raw little-endian bytes. */
  data: Uint8Array;
}

export interface WeightSnapshot {
  manifest: WeightManifest;
  tensors: WeightTensor[];
}

/** Builds the manifest (per-tensor sha256 and the version digest) for a set of tensors. */
export function makeSnapshot(runId: string, version: number, tensors: WeightTensor[], createdAtMs = Date.now()): WeightSnapshot {
  const infos = tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, sha256: sha256Hex(t.data), byteLength: t.data.byteLength }));
  return {
    manifest: { runId, version, weightsSha256: weightsDigest(infos), tensors: infos, totalBytes: infos.reduce((a, t) => a + t.byteLength, 0), createdAtMs, bulkUrl: '' },
    tensors,
  };
}

/** Keeps the newest `keep` versions (actors a few versions behind can still fetch). */
export class WeightStore {
  private readonly versions = new Map<number, WeightSnapshot>();
  constructor(readonly keep = 4) {}

  put(snapshot: WeightSnapshot): void {
    this.versions.set(snapshot.manifest.version, snapshot);
    const sorted = [...this.versions.keys()].sort((a, b) => a - b);
    while (sorted.length > this.keep) this.versions.delete(sorted.shift() as number);
  }

  /** Stops serving `version` (e.g. its tensors are about to change in place); requests for it get NOT_FOUND. */
  drop(version: number): void {
    this.versions.delete(version);
  }

  /** Exactly `version` (0 is the initial weights, not "the latest": see `latest()`). */
  get(version: number): WeightSnapshot | undefined {
    return this.versions.get(version);
  }

  latest(): WeightSnapshot | undefined {
    let best: WeightSnapshot | undefined;
    for (const s of this.versions.values()) if (!best || s.manifest.version > best.manifest.version) best = s;
    return best;
  }
}

const DEFAULT_CHUNK = 1 << 20;
const MAX_CHUNK = 16 << 20;

/** The pieces a version is streamed in: in manifest order, each tensor split at `chunk` bytes. */
function chunkPlan(snap: WeightSnapshot, chunk: number): Array<{ tensorIndex: number; offset: number; end: number }> {
  const plan: Array<{ tensorIndex: number; offset: number; end: number }> = [];
  snap.tensors.forEach((t, tensorIndex) => {
    const n = t.data.byteLength;
    for (let offset = 0; offset < n || (offset === 0 && n === 0); offset += chunk) {
      plan.push({ tensorIndex, offset, end: Math.min(offset + chunk, n) });
      if (n === 0) break;
    }
  });
  return plan;
}

function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

/**
 * WeightChunk in protobuf wire format with one copy of the data (the generic codec copies it
 * twice). Field numbers follow protos/acereason/v1; zero scalars are omitted as proto3 does.
 */
export function encodeWeightChunk(c: WeightChunk): Buffer {
  const scalars: Array<[number, number]> = [[0x08, c.version], [0x10, c.tensorIndex], [0x18, c.offset]];
  let size = 0;
  for (const [, v] of scalars) if (v !== 0) size += 1 + varintLength(v);
  size += 1 + varintLength(c.data.byteLength) + c.data.byteLength;
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const [tag, v] of scalars) {
    if (v === 0) continue;
    buf[pos++] = tag;
    pos = writeVarint(buf, pos, v);
  }
  buf[pos++] = 0x22;
  pos = writeVarint(buf, pos, c.data.byteLength);
  buf.set(c.data, pos);
  return buf;
}

/**
 * Encoded chunks of one version, shared by the streams sending it at the same time: after an
 * announcement every actor asks for the same version at once, and each chunk is encoded once
 * rather than once per actor. Dropped when the last of those streams ends.
 */
interface SharedEncoding {
  chunks: Array<EncodedMessage<WeightChunk> | undefined>;
  streams: number;
}
const sharedEncodings = new WeakMap<WeightSnapshot, Map<number, SharedEncoding>>();

function acquireEncoding(snap: WeightSnapshot, chunk: number): { shared: SharedEncoding; release: () => void } {
  let byChunk = sharedEncodings.get(snap);
  if (!byChunk) sharedEncodings.set(snap, (byChunk = new Map()));
  let shared = byChunk.get(chunk);
  if (!shared) byChunk.set(chunk, (shared = { chunks: [], streams: 0 }));
  shared.streams++;
  const entry = shared;
  const map = byChunk;
  return {
    shared,
    release: () => {
      if (--entry.streams === 0) map.delete(chunk);
    },
  };
}

export interface WeightServiceOptions {
  /** The bulk endpoint serving the same store: manifests then point actors at it. */
  bulk?: { urlFor(runId: string, version: number): string };
}

export function weightServiceHandlers(store: WeightStore, opts: WeightServiceOptions = {}): ServiceHandlers<typeof WeightServiceDefinition> {
  const find = (version: number | 'latest'): WeightSnapshot => {
    const s = version === 'latest' ? store.latest() : store.get(version);
    const newest = store.latest()?.manifest.version;
    if (!s) throw new AceReasonError(ErrorCodes.NOT_FOUND, `weights of version ${version} are not held (latest is ${newest ?? 'none'})`, { retryable: version === 'latest' || version > (newest ?? -1) });
    return s;
  };
  return {
    getManifest: async (req) => {
      const m = find(req.latest ? 'latest' : req.version).manifest;
      return { ...m, bulkUrl: opts.bulk ? opts.bulk.urlFor(m.runId, m.version) : '' };
    },
    streamWeights: async function* (req, ctx): AsyncIterable<EncodedMessage<WeightChunk>> {
      const snap = find(req.version);
      const chunk = req.chunkBytes > 0 ? Math.min(req.chunkBytes, MAX_CHUNK) : DEFAULT_CHUNK;
      const plan = chunkPlan(snap, chunk);
      const { shared, release } = acquireEncoding(snap, chunk);
      try {
        for (let k = 0; k < plan.length; k++) {
          if (ctx.signal.aborted) return;
          let msg = shared.chunks[k];
          if (!msg) {
            const p = plan[k] as (typeof plan)[number];
            const data = (snap.tensors[p.tensorIndex] as WeightTensor).data.subarray(p.offset, p.end);
            msg = shared.chunks[k] = new EncodedMessage(encodeWeightChunk({ version: snap.manifest.version, tensorIndex: p.tensorIndex, offset: p.offset, data }));
          }
          yield msg;
        }
      } finally {
        release();
      }
    },
  };
}

export interface FetchWeightsRequest {
  runId: string;
  /** A version number (0 is the initial weights), or 'latest' for the newest the server holds. */
  version: number | 'latest';
  chunkBytes?: number;
  /**
   * A snapshot the caller is done with (e.g. the version before the one it holds): tensors of the
   * same name and size are received into its buffers, which are overwritten.
   */
  reuse?: WeightSnapshot;
  /** `auto` (default): the bulk endpoint when the manifest names one, else the gRPC stream. */
  transport?: 'auto' | 'stream';
  /** Share the download with the other processes of this host. */
  hostCache?: HostWeightCache;
  /** Client TLS files for an https bulk endpoint. */
  tls?: TlsFiles;
  /** Bearer token for the bulk endpoint (the gRPC client sends its own). */
  token?: string;
}

/**
 * Fetches one version and verifies it. Throws IntegrityError (retryable) when any tensor's bytes or
 * the digest do not match the manifest.
 */
export async function fetchWeights(client: TypedClient<typeof WeightServiceDefinition>, req: FetchWeightsRequest, opts: CallOptions = {}): Promise<WeightSnapshot> {
  const manifest = await client.getManifest(req.version === 'latest' ? { runId: req.runId, version: 0, latest: true } : { runId: req.runId, version: req.version, latest: false }, opts);
  const download = (onBytes?: (chunk: Uint8Array) => void): Promise<WeightSnapshot> =>
    manifest.bulkUrl !== '' && req.transport !== 'stream'
      ? fetchWeightsBulk(manifest.bulkUrl, manifest, { ...(req.reuse ? { reuse: req.reuse } : {}), ...(opts.signal ? { signal: opts.signal } : {}), ...(req.tls ? { tls: req.tls } : {}), ...(req.token !== undefined ? { token: req.token } : {}), ...(onBytes ? { onBytes } : {}) })
      : streamWeights(client, manifest, req, opts);
  if (!req.hostCache) return download();
  return (await req.hostCache.get(manifest, download, req.reuse)).snapshot;
}

async function streamWeights(client: TypedClient<typeof WeightServiceDefinition>, manifest: WeightManifest, req: FetchWeightsRequest, opts: CallOptions): Promise<WeightSnapshot> {
  const n = manifest.tensors.length;
  const spare = new Map((req.reuse?.tensors ?? []).map((t) => [t.name, t.data]));
  // Writing into memory already in use is much cheaper than touching fresh pages (and frees the GC).
  const buffers: Array<Uint8Array | undefined> = manifest.tensors.map((t) => {
    const b = spare.get(t.name);
    return b && b.byteLength === t.byteLength ? b : undefined;
  });
  const received: number[] = new Array<number>(n).fill(0);
  // Hashed as the chunks arrive (they come in order), so verifying costs no second pass over memory.
  const hashes: Array<Hash | undefined> = manifest.tensors.map(() => createHash('sha256'));
  for await (const c of client.streamWeights({ runId: req.runId, version: manifest.version, chunkBytes: req.chunkBytes ?? 0 }, opts)) {
    const info = manifest.tensors[c.tensorIndex];
    if (!info || c.version !== manifest.version || c.offset + c.data.byteLength > info.byteLength) {
      throw new IntegrityError(`weights v${manifest.version}: chunk for tensor ${c.tensorIndex} at offset ${c.offset} does not fit the manifest`);
    }
    const i = c.tensorIndex;
    if (c.offset === 0 && c.data.byteLength === info.byteLength && buffers[i] === undefined) {
      // The whole tensor in one message: keep the received bytes, no copy.
      buffers[i] = c.data;
    } else {
      let buf = buffers[i];
      if (buf === undefined || buf.byteLength !== info.byteLength) {
        const fresh: Uint8Array = Buffer.allocUnsafe(info.byteLength); // every byte is written or the count check below fails
        if (buf) fresh.set(buf, 0);
        buffers[i] = buf = fresh;
      }
      buf.set(c.data, c.offset);
    }
    if (c.offset === received[i]) hashes[i]?.update(c.data);
    else hashes[i] = undefined;
    received[i] = (received[i] ?? 0) + c.data.byteLength;
  }
  const tensors: WeightTensor[] = manifest.tensors.map((t, i) => {
    const data = buffers[i] ?? new Uint8Array(0);
    if (received[i] !== t.byteLength) throw new IntegrityError(`weights v${manifest.version}: tensor ${t.name} got ${received[i]} of ${t.byteLength} bytes`);
    const got = hashes[i]?.digest('hex') ?? sha256Hex(data);
    if (got !== t.sha256) throw new IntegrityError(`weights v${manifest.version}: tensor ${t.name} sha256 ${got} != manifest ${t.sha256}`);
    return { name: t.name, dtype: t.dtype, shape: t.shape, data };
  });
  const digest = weightsDigest(manifest.tensors);
  if (digest !== manifest.weightsSha256) throw new IntegrityError(`weights v${manifest.version}: digest ${digest} != announced ${manifest.weightsSha256}`);
  return { manifest, tensors };
}
