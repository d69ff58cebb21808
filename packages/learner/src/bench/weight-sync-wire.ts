/**
 * What the weight-sync benchmark's learner and its actor processes say to each other, and the
 * object layout of the NATS object store baseline. The announcement itself is the protocol's
 * WeightsAnnounced, so the gRPC path is the one the real actors follow.
 */
import { Subjects, sha256Hex, weightsDigest, IntegrityError, type WeightManifest } from '@acereason/protocol';
import type { CacheOutcome, WeightTensor } from '@acereason/transport';

/**
 * `bulk`: ours as actors run it (manifest over gRPC, bytes from the bulk endpoint, one download per
 * host shared through the host cache), to every actor. `single`: the same path to one actor, no
 * host cache (the per-actor transfer rate). `grpc`: the WeightService chunk stream to every actor,
 * no host cache (the path before the bulk endpoint). `objstore`: the NATS object store baseline.
 */
export type SyncMethod = 'bulk' | 'single' | 'grpc' | 'objstore';

export const benchSubjects = {
  /** `bulk` uses the real subject; the others get their own so actors can tell them apart. */
  announce: (runId: string, method: SyncMethod): string => (method === 'bulk' ? Subjects.weights(runId) : `${Subjects.weights(runId)}.${method}`),
  ready: (runId: string): string => `acereason.bench.${runId}.ready`,
  held: (runId: string): string => `acereason.bench.${runId}.held`,
};

/** An actor's report after handling one announcement. */
export type HeldReport =
  | {
      ok: true; actorId: string; method: SyncMethod; version: number; replaced: number | null; bytes: number; tensors: number; fetchMs: number; cpuMs: number;
      /** With the host cache: whether this actor downloaded (and wrote the host copy) or read another's; downloadMs = the transfer alone. */
      outcome?: CacheOutcome; downloadMs?: number;
    }
  | { ok: false; actorId: string; method: SyncMethod; version: number; error: string };

export interface ReadyReport {
  actorId: string;
  pid: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return enc.encode(JSON.stringify(value));
}

export function decodeJson<T>(data: Uint8Array): T {
  return JSON.parse(dec.decode(data)) as T;
}

/** Object layout: u32 LE manifest length, the manifest as JSON, then the tensors' bytes in order. */
export function packObject(manifest: WeightManifest, tensors: readonly WeightTensor[]): Uint8Array {
  const head = enc.encode(JSON.stringify(manifest));
  const out = new Uint8Array(4 + head.byteLength + manifest.totalBytes);
  new DataView(out.buffer).setUint32(0, head.byteLength, true);
  out.set(head, 4);
  let off = 4 + head.byteLength;
  for (const t of tensors) {
    out.set(t.data, off);
    off += t.data.byteLength;
  }
  return out;
}

/** Parses an object and checks every tensor's sha256 and the version digest, like fetchWeights does. */
export function unpackVerified(bytes: Uint8Array): { manifest: WeightManifest; tensors: WeightTensor[] } {
  if (bytes.byteLength < 4) throw new IntegrityError('weights object: shorter than its header');
  const headLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const manifest = JSON.parse(dec.decode(bytes.subarray(4, 4 + headLen))) as WeightManifest;
  let off = 4 + headLen;
  if (bytes.byteLength !== off + manifest.totalBytes) throw new IntegrityError(`weights object v${manifest.version}: ${bytes.byteLength} bytes, expected ${off + manifest.totalBytes}`);
  const tensors = manifest.tensors.map((t) => {
    const data = bytes.subarray(off, off + t.byteLength);
    off += t.byteLength;
    const got = sha256Hex(data);
    if (got !== t.sha256) throw new IntegrityError(`weights object v${manifest.version}: tensor ${t.name} sha256 ${got} != manifest ${t.sha256}`);
    return { name: t.name, dtype: t.dtype, shape: t.shape, data };
  });
  const digest = weightsDigest(manifest.tensors);
  if (digest !== manifest.weightsSha256) throw new IntegrityError(`weights object v${manifest.version}: digest ${digest} != ${manifest.weightsSha256}`);
  return { manifest, tensors };
}
