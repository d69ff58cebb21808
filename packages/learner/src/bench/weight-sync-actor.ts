/**
 * One actor of the weight-sync benchmark, run as its own process:
 *   node weight-sync-actor.js <nats-url> <run-id> <actor-id> <grpc-address> <bucket> <host-cache-dir>
 * It listens for WeightsAnnounced, fetches that version (from the learner as a real actor does, or
 * from the NATS object store for the baseline), verifies every tensor's sha256 and the digest,
 * keeps the bytes in memory in place of the previous version, and reports "holding v" on NATS.
 * Versions of BIG_BYTES or more are not kept after the report (memory: 4 actors x 2 methods).
 */
import { codecs, WeightServiceDefinition, type WeightsAnnounced } from '@acereason/protocol';
import { connectNats, createGrpcClient, drainQuietly, fetchWeights, fetchWeightsBulk, HostWeightCache, type CacheOutcome, type WeightSnapshot, type WeightTensor } from '@acereason/transport';
import { Objm, setSha256Backend, type ObjectStore } from '@nats-io/obj';
import { benchSubjects, encodeJson, unpackVerified, type HeldReport, type ReadyReport, type SyncMethod } from './weight-sync-wire.js';

const [natsUrl, runId, actorId, grpcAddress, bucket, cacheDir] = process.argv.slice(2);
if (!natsUrl || !runId || !actorId || !grpcAddress || !bucket || !cacheDir) {
  process.stderr.write('usage: weight-sync-actor <nats-url> <run-id> <actor-id> <grpc-address> <bucket> <host-cache-dir>\n');
  process.exit(2);
}
const BIG_BYTES = 512 << 20;
const hostCache = new HostWeightCache(cacheDir, { pollMs: 5 });

// The baseline gets node's native sha256 (nats.js defaults to a pure-JS one): a strong baseline.
setSha256Backend('native');

const nc = await connectNats({ servers: natsUrl, name: `bench-${actorId}` });
const client = createGrpcClient(WeightServiceDefinition, { address: grpcAddress, timeoutMs: 30_000, streamTimeoutMs: 600_000 });
await client.waitForReady(20_000);
const store: ObjectStore = await new Objm(nc).open(bucket);

/**
 * Per method, the version this actor holds and the one before it. An actor keeps what it holds
 * until the next version is verified, so the one before is free: its memory receives the next.
 * Both methods get this treatment.
 */
interface Holding {
  version: number;
  tensors: WeightTensor[];
  /** What the memory was received as: the snapshot (gRPC) or the whole object (object store). */
  spare: WeightSnapshot | Uint8Array;
}
const holding: Record<SyncMethod, { held?: Holding; previous?: Holding }> = { bulk: {}, single: {}, grpc: {}, objstore: {} };

interface Fetched extends Holding {
  outcome?: CacheOutcome;
  downloadMs?: number;
}

async function viaLearner(method: SyncMethod, a: WeightsAnnounced, reuse: Holding | undefined): Promise<Fetched> {
  const spare = reuse?.spare;
  const reuseSnap = spare && !(spare instanceof Uint8Array) ? spare : undefined;
  let snap: WeightSnapshot;
  let outcome: Fetched['outcome'];
  let downloadMs: number | undefined;
  if (method === 'bulk') {
    // What fetchWeights does with a host cache, spelled out to time the transfer on its own.
    const m = await client.getManifest({ runId: a.runId, version: a.version, latest: false });
    const r = await hostCache.get(m, async (onBytes) => {
      const t0 = performance.now();
      const s = await fetchWeightsBulk(m.bulkUrl, m, { ...(reuseSnap ? { reuse: reuseSnap } : {}), ...(onBytes ? { onBytes } : {}) });
      downloadMs = performance.now() - t0;
      return s;
    }, reuseSnap);
    snap = r.snapshot;
    outcome = r.outcome;
  } else {
    snap = await fetchWeights(client, { runId: a.runId, version: a.version, transport: method === 'grpc' ? 'stream' : 'auto', ...(reuseSnap ? { reuse: reuseSnap } : {}) });
  }
  if (snap.manifest.weightsSha256 !== a.weightsSha256) throw new Error(`${method} served ${snap.manifest.weightsSha256} as v${a.version}, announced ${a.weightsSha256}`);
  return { version: a.version, tensors: snap.tensors, spare: snap, ...(outcome ? { outcome } : {}), ...(downloadMs !== undefined ? { downloadMs } : {}) };
}

async function viaObjectStore(a: WeightsAnnounced, reuse: Holding | undefined): Promise<Fetched> {
  const r = await store.get(a.id);
  if (!r) throw new Error(`object ${a.id} not found in ${bucket}`);
  const old = reuse?.spare;
  const buf = old instanceof Uint8Array && old.byteLength === r.info.size ? old : new Uint8Array(r.info.size);
  let off = 0;
  for await (const chunk of r.data) {
    if (off + chunk.byteLength > buf.byteLength) throw new Error(`object ${a.id} is longer than its info says`);
    buf.set(chunk, off);
    off += chunk.byteLength;
  }
  const err = await r.error;
  if (err) throw err;
  if (off !== buf.byteLength) throw new Error(`object ${a.id}: got ${off} of ${buf.byteLength} bytes`);
  const snap = unpackVerified(buf);
  if (snap.manifest.weightsSha256 !== a.weightsSha256) throw new Error(`object ${a.id} holds ${snap.manifest.weightsSha256}, announced ${a.weightsSha256}`);
  return { version: a.version, tensors: snap.tensors, spare: buf };
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

async function serve(method: SyncMethod): Promise<void> {
  const fetchOne = method === 'objstore' ? viaObjectStore : (a: WeightsAnnounced, reuse: Holding | undefined) => viaLearner(method, a, reuse);
  // One announcement at a time, in order: the learner waits for every actor before the next one.
  for await (const m of nc.subscribe(benchSubjects.announce(runId as string, method))) {
    const a = codecs.WeightsAnnounced.decode(m.data);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let report: HeldReport;
    try {
      const h = holding[method];
      const got = await fetchOne(a, h.previous);
      const replaced = h.held?.version ?? null;
      h.previous = h.held;
      h.held = got;
      const bytes = got.tensors.reduce((n, t) => n + t.data.byteLength, 0);
      report = {
        ok: true, actorId: actorId as string, method, version: a.version, replaced, bytes, tensors: got.tensors.length, fetchMs: performance.now() - t0, cpuMs: cpuMs(cpu0),
        ...(got.outcome ? { outcome: got.outcome } : {}), ...(got.downloadMs !== undefined ? { downloadMs: got.downloadMs } : {}),
      };
      if (bytes >= BIG_BYTES) {
        for (const k of Object.keys(holding) as SyncMethod[]) holding[k] = {};
        (globalThis as { gc?: () => void }).gc?.();
      }
    } catch (err) {
      report = { ok: false, actorId: actorId as string, method, version: a.version, error: err instanceof Error ? err.message : String(err) };
    }
    nc.publish(benchSubjects.held(runId as string), encodeJson(report));
  }
}

const stop = async (): Promise<void> => {
  client.close();
  await drainQuietly(nc);
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

const loops = [serve('bulk'), serve('grpc'), serve('objstore'), ...(actorId === 'actor-0' ? [serve('single')] : [])];
await nc.flush();
const ready: ReadyReport = { actorId, pid: process.pid };
nc.publish(benchSubjects.ready(runId), encodeJson(ready));
await Promise.all(loops);
