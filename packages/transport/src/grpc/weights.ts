/**
 * Weight transfer over gRPC: the learner keeps recent policy versions in a WeightStore and serves
 * them with WeightService; actors fetch a version with `fetchWeights`, which checks every tensor's
 * sha256 and the version digest before handing the weights over.
 */
import { IntegrityError, AceReasonError, ErrorCodes, WeightServiceDefinition, sha256Hex, weightsDigest, type WeightManifest, type WeightChunk } from '@acereason/protocol';
import type { ServiceHandlers } from './server.js';
import type { TypedClient, CallOptions } from './client.js';

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
    manifest: { runId, version, weightsSha256: weightsDigest(infos), tensors: infos, totalBytes: infos.reduce((a, t) => a + t.byteLength, 0), createdAtMs },
    tensors,
  };
}

/** Keeps the newest `keep` versions (actors a few versions behind can still fetch). */
export class WeightStore {
  private readonly versions = new Map<number, WeightSnapshot>();
  constructor(private readonly keep = 4) {}

  put(snapshot: WeightSnapshot): void {
    this.versions.set(snapshot.manifest.version, snapshot);
    const sorted = [...this.versions.keys()].sort((a, b) => a - b);
    while (sorted.length > this.keep) this.versions.delete(sorted.shift() as number);
  }

  get(version: number): WeightSnapshot | undefined {
    if (version === 0) return this.latest();
    return this.versions.get(version);
  }

  latest(): WeightSnapshot | undefined {
    let best: WeightSnapshot | undefined;
    for (const s of this.versions.values()) if (!best || s.manifest.version > best.manifest.version) best = s;
    return best;
  }
}

const DEFAULT_CHUNK = 1 << 20;

export function weightServiceHandlers(store: WeightStore): ServiceHandlers<typeof WeightServiceDefinition> {
  const find = (version: number): WeightSnapshot => {
    const s = store.get(version);
    if (!s) throw new AceReasonError(ErrorCodes.NOT_FOUND, `weights of version ${version} are not held (latest is ${store.latest()?.manifest.version ?? 'none'})`, { retryable: version > (store.latest()?.manifest.version ?? -1) });
    return s;
  };
  return {
    getManifest: async (req) => find(req.version).manifest,
    streamWeights: async function* (req, ctx): AsyncIterable<WeightChunk> {
      const snap = find(req.version);
      const chunk = req.chunkBytes > 0 ? Math.min(req.chunkBytes, 16 << 20) : DEFAULT_CHUNK;
      for (let i = 0; i < snap.tensors.length; i++) {
        const data = (snap.tensors[i] as WeightTensor).data;
        for (let off = 0; off < data.byteLength || (off === 0 && data.byteLength === 0); off += chunk) {
          if (ctx.signal.aborted) return;
          yield { version: snap.manifest.version, tensorIndex: i, offset: off, data: data.subarray(off, Math.min(off + chunk, data.byteLength)) };
          if (data.byteLength === 0) break;
        }
      }
    },
  };
}

/**
 * Fetches one version and verifies it. Throws IntegrityError (retryable) when any tensor's bytes or
 * the digest do not match the manifest.
 */
export async function fetchWeights(client: TypedClient<typeof WeightServiceDefinition>, req: { runId: string; version: number; chunkBytes?: number }, opts: CallOptions = {}): Promise<WeightSnapshot> {
  const manifest = await client.getManifest({ runId: req.runId, version: req.version }, opts);
  const buffers = manifest.tensors.map((t) => new Uint8Array(t.byteLength));
  const received = manifest.tensors.map(() => 0);
  for await (const c of client.streamWeights({ runId: req.runId, version: manifest.version, chunkBytes: req.chunkBytes ?? 0 }, opts)) {
    const buf = buffers[c.tensorIndex];
    if (!buf || c.version !== manifest.version || c.offset + c.data.byteLength > buf.byteLength) {
      throw new IntegrityError(`weights v${manifest.version}: chunk for tensor ${c.tensorIndex} at offset ${c.offset} does not fit the manifest`);
    }
    buf.set(c.data, c.offset);
    received[c.tensorIndex] = (received[c.tensorIndex] ?? 0) + c.data.byteLength;
  }
  const tensors: WeightTensor[] = manifest.tensors.map((t, i) => {
    const data = buffers[i] as Uint8Array;
    if (received[i] !== t.byteLength) throw new IntegrityError(`weights v${manifest.version}: tensor ${t.name} got ${received[i]} of ${t.byteLength} bytes`);
    const got = sha256Hex(data);
    if (got !== t.sha256) throw new IntegrityError(`weights v${manifest.version}: tensor ${t.name} sha256 ${got} != manifest ${t.sha256}`);
    return { name: t.name, dtype: t.dtype, shape: t.shape, data };
  });
  const digest = weightsDigest(manifest.tensors);
  if (digest !== manifest.weightsSha256) throw new IntegrityError(`weights v${manifest.version}: digest ${digest} != announced ${manifest.weightsSha256}`);
  return { manifest, tensors };
}
