/**
 * One actor of the weight-sync benchmark, run as its own process:
 *   node weight-sync-actor.js <nats-url> <run-id> <actor-id> <grpc-address> <bucket>
 * It listens for WeightsAnnounced, fetches that version (over gRPC from the learner, or from the
 * NATS object store for the baseline), verifies every tensor's sha256 and the digest, keeps the
 * bytes in memory in place of the previous version, and reports "holding v" on NATS.
 */
import { codecs, WeightServiceDefinition, type WeightsAnnounced } from '@acereason/protocol';
import { connectNats, createGrpcClient, drainQuietly, fetchWeights, type WeightTensor } from '@acereason/transport';
import { Objm, setSha256Backend, type ObjectStore } from '@nats-io/obj';
import { benchSubjects, encodeJson, unpackVerified, type HeldReport, type ReadyReport, type SyncMethod } from './weight-sync-wire.js';

const [natsUrl, runId, actorId, grpcAddress, bucket] = process.argv.slice(2);
if (!natsUrl || !runId || !actorId || !grpcAddress || !bucket) {
  process.stderr.write('usage: weight-sync-actor <nats-url> <run-id> <actor-id> <grpc-address> <bucket>\n');
  process.exit(2);
}

// The baseline gets node's native sha256 (nats.js defaults to a pure-JS one): a strong baseline.
setSha256Backend('native');

const nc = await connectNats({ servers: natsUrl, name: `bench-${actorId}` });
const client = createGrpcClient(WeightServiceDefinition, { address: grpcAddress, timeoutMs: 30_000, streamTimeoutMs: 600_000 });
await client.waitForReady(20_000);
const store: ObjectStore = await new Objm(nc).open(bucket);

/** The weights this actor holds now (the previous version is dropped when the next is verified). */
let held: { version: number; tensors: WeightTensor[] } | undefined;

async function viaGrpc(a: WeightsAnnounced): Promise<WeightTensor[]> {
  const snap = await fetchWeights(client, { runId: a.runId, version: a.version });
  if (snap.manifest.weightsSha256 !== a.weightsSha256) throw new Error(`gRPC served ${snap.manifest.weightsSha256} as v${a.version}, announced ${a.weightsSha256}`);
  return snap.tensors;
}

async function viaObjectStore(a: WeightsAnnounced): Promise<WeightTensor[]> {
  const r = await store.get(a.id);
  if (!r) throw new Error(`object ${a.id} not found in ${bucket}`);
  const buf = new Uint8Array(r.info.size);
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
  return snap.tensors;
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

async function serve(method: SyncMethod): Promise<void> {
  const fetchOne = method === 'grpc' ? viaGrpc : viaObjectStore;
  // One announcement at a time, in order: the learner waits for every actor before the next one.
  for await (const m of nc.subscribe(benchSubjects.announce(runId as string, method))) {
    const a = codecs.WeightsAnnounced.decode(m.data);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let report: HeldReport;
    try {
      const tensors = await fetchOne(a);
      const replaced = held?.version ?? null;
      held = { version: a.version, tensors };
      const bytes = tensors.reduce((n, t) => n + t.data.byteLength, 0);
      report = { ok: true, actorId: actorId as string, method, version: a.version, replaced, bytes, tensors: tensors.length, fetchMs: performance.now() - t0, cpuMs: cpuMs(cpu0) };
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

const loops = [serve('grpc'), serve('objstore')];
await nc.flush();
const ready: ReadyReport = { actorId, pid: process.pid };
nc.publish(benchSubjects.ready(runId), encodeJson(ready));
await Promise.all(loops);
