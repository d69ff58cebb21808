/**
 * Weight sync benchmark (part of `acereason bench loop`): the time from the learner announcing
 * version v+1 until all of 4 actor processes hold it, verified (every tensor's sha256 and the
 * version digest), over gRPC from the learner's WeightService (ours) and, in the same run, through
 * the NATS object store (the baseline). Transport only: nothing is loaded into a model.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { codecs, summarize, SCHEMA_VERSION, WeightServiceDefinition } from '@acereason/protocol';
import {
  connectNats, drainQuietly, makeSnapshot, service, spawnChild, startGrpcServer, startNatsServer, weightServiceHandlers, WeightStore,
  type ChildHandle, type NatsConnection, type WeightSnapshot,
} from '@acereason/transport';
import { Objm, setSha256Backend, StorageType, type ObjectStore } from '@nats-io/obj';
import { HeldReports } from './held-reports.js';
import { shapeForBytes, syntheticWeights } from './synthetic-weights.js';
import { benchSubjects, packObject, type SyncMethod } from './weight-sync-wire.js';

export interface WeightSyncOptions {
  /** 10 MB only, 2 repetitions: a smoke test. */
  quick?: boolean;
}

const ACTORS = 4;
const MiB = 1 << 20;
/** nats.js's default object chunk. */
const OBJ_CHUNK_BYTES = 128 * 1024;
const METHODS: readonly SyncMethod[] = ['grpc', 'objstore'];

interface SizePlan {
  label: string;
  bytes: number;
  reps: number;
}

interface Ctx {
  runId: string;
  bucket: string;
  nc: NatsConnection;
  store: WeightStore;
  objects: ObjectStore;
  grpcAddress: string;
  reports: HeldReports;
  natsPid: number;
  version: number;
}

function announce(ctx: Ctx, method: SyncMethod, snap: WeightSnapshot): void {
  const m = snap.manifest;
  const grpc = method === 'grpc';
  ctx.nc.publish(benchSubjects.announce(ctx.runId, method), codecs.WeightsAnnounced.encode({
    schema: SCHEMA_VERSION, kind: 'WeightsAnnounced', runId: ctx.runId, id: grpc ? `w-${m.version}` : objectName(m.version),
    createdAtMs: Date.now(), version: m.version, weightsSha256: m.weightsSha256, address: grpc ? ctx.grpcAddress : `nats-obj:${ctx.bucket}`, totalBytes: m.totalBytes,
  }));
}

const objectName = (version: number): string => `weights-v${version}`;

/** CPU time (ms) a process has used, from /proc; undefined where there is none. */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100;

/**
 * One timed round: announce, then wait until every actor reports holding the version, verified.
 * Also the CPU it cost, summed over the learner, the actors and nats-server: on a shared machine
 * that is steadier than the wall time.
 */
async function round(ctx: Ctx, method: SyncMethod, snap: WeightSnapshot, timeoutMs: number): Promise<{ ms: number; fetchMs: number[]; cpuMs: number }> {
  const waiting = ctx.reports.holding(method, snap.manifest.version, ACTORS, timeoutMs);
  const natsCpu0 = processCpuMs(ctx.natsPid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  announce(ctx, method, snap);
  const got = await waiting;
  const last = Math.max(...got.map((g) => g.at));
  const own = process.cpuUsage(cpu0);
  const natsCpu1 = processCpuMs(ctx.natsPid);
  const actorsCpu = got.reduce((a, g) => a + (g.report.ok ? g.report.cpuMs : 0), 0);
  const natsCpu = natsCpu0 !== undefined && natsCpu1 !== undefined ? natsCpu1 - natsCpu0 : 0;
  return { ms: last - t0, fetchMs: got.map((g) => (g.report.ok ? g.report.fetchMs : NaN)), cpuMs: (own.user + own.system) / 1000 + actorsCpu + natsCpu };
}

const stat = (xs: number[]): { median: number; p99: number } => {
  const s = summarize(xs);
  return { median: round3(s.median), p99: round3(s.p99) };
};
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

async function benchSize(ctx: Ctx, plan: SizePlan): Promise<{ figures: Record<string, unknown>; ratio: number }> {
  const shape = shapeForBytes(plan.bytes);
  const timeoutMs = 60_000 + (plan.bytes / MiB) * 1000;
  const ms: Record<SyncMethod, number[]> = { grpc: [], objstore: [] };
  const fetchMs: Record<SyncMethod, number[]> = { grpc: [], objstore: [] };
  const cpuMs: Record<SyncMethod, number[]> = { grpc: [], objstore: [] };
  const putMs: number[] = [];
  const versions: number[] = [];
  let bytes = 0;
  let tensors = 0;
  // The first version is a warm-up (connections, JIT, file store), announced and verified but not timed.
  for (let i = 0; i <= plan.reps; i++) {
    const version = ++ctx.version;
    versions.push(version);
    const snap = makeSnapshot(ctx.runId, version, syntheticWeights(shape));
    bytes = snap.manifest.totalBytes;
    tensors = snap.tensors.length;
    ctx.store.put(snap);
    const payload = packObject(snap.manifest, snap.tensors);
    const tp = performance.now();
    await ctx.objects.putBlob({ name: objectName(version), options: { max_chunk_size: OBJ_CHUNK_BYTES } }, payload);
    const put = performance.now() - tp;
    // Alternate which method goes first so neither always runs on a warmer machine.
    const order = i % 2 === 0 ? METHODS : [...METHODS].reverse();
    for (const method of order) {
      const r = await round(ctx, method, snap, timeoutMs);
      if (i === 0) continue;
      ms[method].push(r.ms);
      fetchMs[method].push(...r.fetchMs);
      cpuMs[method].push(r.cpuMs);
    }
    if (i > 0) putMs.push(put);
    await ctx.objects.delete(objectName(version - 1)).catch(() => undefined);
  }
  await ctx.objects.delete(objectName(ctx.version)).catch(() => undefined);

  const mb = bytes / MiB;
  const side = (method: SyncMethod): Record<string, unknown> => {
    const s = stat(ms[method]);
    return {
      median_ms: s.median,
      p99_ms: s.p99,
      samples_ms: ms[method].map(round3),
      mb_per_s_per_actor: round3(mb / (s.median / 1000)),
      aggregate_mb_per_s: round3((ACTORS * mb) / (s.median / 1000)),
      actor_fetch_ms: stat(fetchMs[method]),
      cpu_ms: stat(cpuMs[method]),
    };
  };
  const grpc = side('grpc');
  const objstore = side('objstore');
  const putStat = stat(putMs);
  objstore.put_ms = putStat;
  objstore.put_plus_sync_median_ms = round3(putStat.median + (objstore.median_ms as number));
  const verified = (method: SyncMethod): Record<string, number[]> => {
    const out: Record<string, number[]> = {};
    for (const r of ctx.reports.all(method)) if (r.ok && versions.includes(r.version)) (out[r.actorId] ??= []).push(r.version);
    for (const v of Object.values(out)) v.sort((a, b) => a - b);
    return out;
  };
  return {
    figures: {
      bytes, tensors, shape, reps: plan.reps, versions,
      grpc, objstore,
      verified: { grpc: verified('grpc'), objstore: verified('objstore') },
    },
    ratio: round3((objstore.median_ms as number) / (grpc.median_ms as number)),
  };
}

function startActor(natsUrl: string, runId: string, actorId: string, grpcAddress: string, bucket: string): ChildHandle {
  const script = fileURLToPath(new URL('./weight-sync-actor.js', import.meta.url));
  return spawnChild({ name: `bench-${actorId}`, command: process.execPath, args: [script, natsUrl, runId, actorId, grpcAddress, bucket] });
}

function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function benchWeightSync(opts: WeightSyncOptions = {}): Promise<{ figures: Record<string, unknown>; ratios: Record<string, number> }> {
  const plans: SizePlan[] = opts.quick
    ? [{ label: '10mb', bytes: 10 * MiB, reps: 2 }]
    : [{ label: '10mb', bytes: 10 * MiB, reps: 9 }, { label: '100mb', bytes: 100 * MiB, reps: 5 }];
  // Node's sha256 for the object store's own digest (nats.js defaults to a pure-JS one): a strong baseline.
  setSha256Backend('native');
  const runId = `benchws${process.pid}${Date.now().toString(36)}`;
  const bucket = `${runId}_weights`;
  const nats = await startNatsServer();
  const children: ChildHandle[] = [];
  const pids: number[] = [nats.pid];
  let nc: NatsConnection | undefined;
  let reports: HeldReports | undefined;
  let grpcServer: Awaited<ReturnType<typeof startGrpcServer>> | undefined;
  let stopping = false;
  const sizes: Record<string, unknown> = {};
  const ratios: Record<string, number> = {};
  try {
    nc = await connectNats({ servers: nats.url, name: 'bench-learner' });
    const store = new WeightStore(2);
    grpcServer = await startGrpcServer({ address: '127.0.0.1:0', services: [service(WeightServiceDefinition, weightServiceHandlers(store))] });
    const objects = await new Objm(nc).create(bucket, { storage: StorageType.File });
    const rep = new HeldReports(nc, runId);
    reports = rep;
    await nc.flush();
    for (let a = 0; a < ACTORS; a++) {
      const child = startActor(nats.url, runId, `actor-${a}`, grpcServer.address, bucket);
      children.push(child);
      pids.push(child.pid);
      void child.exited.then((exit) => {
        if (!stopping) rep.fail(new Error(`actor-${a} exited (${exit.code ?? exit.signal}): ${child.output.slice(-2000)}`));
      });
    }
    await rep.untilReady(ACTORS, 30_000);
    const ctx: Ctx = { runId, bucket, nc, store, objects, grpcAddress: grpcServer.address, reports: rep, natsPid: nats.pid, version: 0 };
    for (const plan of plans) {
      const r = await benchSize(ctx, plan);
      sizes[plan.label] = r.figures;
      ratios[`weight_sync_vs_objstore_${plan.label}`] = r.ratio;
    }
  } finally {
    stopping = true;
    await Promise.all(children.map((c) => c.stop(3000)));
    reports?.close();
    await grpcServer?.close(1000);
    await drainQuietly(nc);
    await nats[Symbol.asyncDispose]();
  }
  const leftover = pids.filter(pidAlive);
  if (leftover.length > 0) throw new Error(`weight-sync bench: processes still running after shutdown: ${leftover.join(', ')}`);
  const notes = [
    'ratios weight_sync_vs_objstore_<size> = object store median / gRPC median: above 1 means gRPC is faster',
    'time = learner publishes WeightsAnnounced (weights already in the WeightStore / already put in the object store) -> the last of the actors reports holding that version, every tensor sha256 and the digest checked; arrival of that report at the learner is the end',
    'the object store put is not in the timed window (reported as objstore.put_ms and put_plus_sync_median_ms), which favours the baseline',
    `object store: file storage, ${OBJ_CHUNK_BYTES / 1024} KiB chunks (nats.js default), node sha256 backend`,
    'cpu_ms: CPU time of one sync summed over the learner, the 4 actors and nats-server (steadier than wall time on a shared machine)',
    'sizes and MB/s in MiB; aggregate_mb_per_s counts the bytes delivered to all actors',
    'the first version of each size is a warm-up and is not timed',
  ];
  if (opts.quick) notes.push('quick run: 10 MB only, 2 repetitions; weight_sync_vs_objstore_100mb omitted');
  return {
    figures: { actors: ACTORS, sizes, leftover_processes: leftover.length, notes },
    ratios,
  };
}
