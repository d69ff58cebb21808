/**
 * Weight sync benchmark (part of `acereason bench loop`): the time from the learner announcing
 * version v+1 until all of 4 actor processes hold it, verified (every tensor's sha256 and the
 * version digest), the way actors fetch it (manifest over gRPC, bytes from the learner's bulk
 * endpoint, one download per host shared through the host cache: ours) and, in the same run,
 * through the NATS object store (the baseline); also ours to one actor alone, and the older gRPC
 * chunk stream at the smaller sizes. Transport only: nothing is loaded into a model.
 */
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { codecs, pairFigures, SCHEMA_VERSION, WeightServiceDefinition } from '@acereason/protocol';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  connectNats, defaultWeightCacheDir, drainQuietly, makeSnapshot, service, spawnChild, startGrpcServer, startNatsServer, startWeightBulkServer, weightServiceHandlers, WeightStore,
  type ChildHandle, type NatsConnection, type RunningWeightBulkServer, type WeightSnapshot,
} from '@acereason/transport';
import { Objm, setSha256Backend, StorageType, type ObjectStore } from '@nats-io/obj';
import { HeldReports } from './held-reports.js';
import { pidAlive, processCpuMs, round3, stat } from './weight-sync-stats.js';
import { shapeForBytes, syntheticWeights } from './synthetic-weights.js';
import { benchSubjects, packObject, type SyncMethod } from './weight-sync-wire.js';

export interface WeightSyncOptions {
  /** 10 MB only, 2 repetitions: a smoke test. */
  quick?: boolean;
  /** The 1.2 GB size (default in a full run): about 10 GB of memory at its peak. */
  big?: boolean;
  /** Only these sizes (labels of WEIGHT_SYNC_SIZES; default all). */
  sizes?: string[];
  /** Only these methods (default all; a ratio needs both of its sides). */
  methods?: SyncMethod[];
}

/** The sizes a full run measures, by label. */
export const WEIGHT_SYNC_SIZES: Record<string, { bytes: number; reps: number }> = {
  '10mb': { bytes: 10 * (1 << 20), reps: 7 },
  '100mb': { bytes: 100 * (1 << 20), reps: 5 },
  '1.2gb': { bytes: 1200 * (1 << 20), reps: 3 },
};
export const WEIGHT_SYNC_METHODS: readonly SyncMethod[] = ['bulk', 'objstore', 'single', 'grpc'];

const ACTORS = 4;
/** Must match the actor script's BIG_BYTES. */
const BIG_MIB = 512;
const MiB = 1 << 20;
/** nats.js's default object chunk. */
const OBJ_CHUNK_BYTES = 128 * 1024;
/** The gRPC chunk stream is measured up to this size (it is the slow path: minutes at 1 GB). */
const GRPC_STREAM_MAX_BYTES = 128 * MiB;
const ours: SyncMethod = 'bulk';
const actorsFor = (method: SyncMethod): number => (method === 'single' ? 1 : ACTORS);

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
  const grpc = method !== 'objstore';
  ctx.nc.publish(benchSubjects.announce(ctx.runId, method), codecs.WeightsAnnounced.encode({
    schema: SCHEMA_VERSION, kind: 'WeightsAnnounced', runId: ctx.runId, id: grpc ? `w-${m.version}` : objectName(m.version),
    createdAtMs: Date.now(), version: m.version, weightsSha256: m.weightsSha256, address: grpc ? ctx.grpcAddress : `nats-obj:${ctx.bucket}`, totalBytes: m.totalBytes,
  }));
}

const objectName = (version: number): string => `weights-v${version}`;


/**
 * One timed round: announce, then wait until every actor reports holding the version, verified.
 * Also the CPU it cost, summed over the learner, the actors and nats-server: on a shared machine
 * that is steadier than the wall time.
 */
interface RoundResult {
  ms: number;
  fetchMs: number[];
  cpuMs: number;
  /** Host cache: the downloading actor's transfer alone, its whole fetch (transfer + writing the host copy), and the others' fetches. */
  downloadMs: number[];
  downloaderMs: number[];
  sharedMs: number[];
}

async function round(ctx: Ctx, method: SyncMethod, snap: WeightSnapshot, timeoutMs: number): Promise<RoundResult> {
  const waiting = ctx.reports.holding(method, snap.manifest.version, actorsFor(method), timeoutMs);
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
  const oks = got.flatMap((g) => (g.report.ok ? [g.report] : []));
  return {
    ms: last - t0, fetchMs: got.map((g) => (g.report.ok ? g.report.fetchMs : NaN)), cpuMs: (own.user + own.system) / 1000 + actorsCpu + natsCpu,
    downloadMs: oks.flatMap((r) => (r.downloadMs !== undefined ? [r.downloadMs] : [])),
    downloaderMs: oks.filter((r) => r.outcome === 'downloaded').map((r) => r.fetchMs),
    sharedMs: oks.filter((r) => r.outcome === 'shared' || r.outcome === 'followed').map((r) => r.fetchMs),
  };
}


async function benchSize(ctx: Ctx, plan: SizePlan, only: readonly SyncMethod[]): Promise<{ figures: Record<string, unknown>; ratios: Record<string, number> }> {
  const shape = shapeForBytes(plan.bytes);
  const timeoutMs = 60_000 + (plan.bytes / MiB) * 1000;
  const methods = WEIGHT_SYNC_METHODS.filter((m) => only.includes(m) && (m !== 'grpc' || plan.bytes <= GRPC_STREAM_MAX_BYTES));
  const rounds = new Map<SyncMethod, RoundResult[]>(methods.map((m) => [m, []]));
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
    const tp = performance.now();
    if (methods.includes('objstore')) await ctx.objects.putBlob({ name: objectName(version), options: { max_chunk_size: OBJ_CHUNK_BYTES } }, packObject(snap.manifest, snap.tensors));
    const put = performance.now() - tp;
    // Rotate which method goes first so none always runs on a warmer (or busier) machine.
    const order = methods.map((_, k) => methods[(k + i) % methods.length] as SyncMethod);
    for (const method of order) {
      const r = await round(ctx, method, snap, timeoutMs);
      if (i > 0) rounds.get(method)?.push(r);
    }
    if (i > 0) putMs.push(put);
    await ctx.objects.delete(objectName(version - 1)).catch(() => undefined);
  }
  await ctx.objects.delete(objectName(ctx.version)).catch(() => undefined);

  const mb = bytes / MiB;
  const all = (method: SyncMethod, k: keyof Omit<RoundResult, 'ms' | 'cpuMs'>): number[] => (rounds.get(method) ?? []).flatMap((r) => r[k]);
  const side = (method: SyncMethod): Record<string, unknown> => {
    const ms = (rounds.get(method) ?? []).map((r) => r.ms);
    const s = stat(ms);
    return {
      actors: actorsFor(method),
      median_ms: s.median,
      p99_ms: s.p99,
      spread_ms: { min: round3(Math.min(...ms)), max: round3(Math.max(...ms)) },
      samples_ms: ms.map(round3),
      mb_per_s_per_actor: round3(mb / (s.median / 1000)),
      aggregate_mb_per_s: round3((actorsFor(method) * mb) / (s.median / 1000)),
      actor_fetch_ms: stat(all(method, 'fetchMs')),
      cpu_ms: stat((rounds.get(method) ?? []).map((r) => r.cpuMs)),
      ...(method === 'bulk' ? {
        host_cache: {
          download_ms: stat(all(method, 'downloadMs')),
          downloader_fetch_ms: stat(all(method, 'downloaderMs')),
          shared_fetch_ms: stat(all(method, 'sharedMs')),
        },
      } : {}),
    };
  };
  const sides = Object.fromEntries(methods.map((m) => [m, side(m)])) as Record<SyncMethod, Record<string, unknown>>;
  const objstore = sides.objstore as Record<string, unknown> | undefined;
  if (objstore) {
    const putStat = stat(putMs);
    objstore.put_ms = putStat;
    objstore.put_plus_sync_median_ms = round3(putStat.median + (objstore.median_ms as number));
  }
  const verified = (method: SyncMethod): Record<string, number[]> => {
    const out: Record<string, number[]> = {};
    for (const r of ctx.reports.all(method)) if (r.ok && versions.includes(r.version)) (out[r.actorId] ??= []).push(r.version);
    for (const v of Object.values(out)) v.sort((a, b) => a - b);
    return out;
  };
  // Per version (round), ours against each baseline: the headline is the median of the per-round ratios.
  const paired = (baseline: SyncMethod): { median: number; min: number; max: number } => {
    const b = rounds.get(baseline) ?? [];
    const r = pairFigures({ ms: 'lower' }, (rounds.get(ours) ?? []).map((o, k) => ({ ours: { ms: o.ms }, baseline: { ms: (b[k] as RoundResult).ms } })));
    const x = r.figures.ms.ratio;
    return { median: round3(x.median), min: round3(x.min), max: round3(x.max) };
  };
  const ratios: Record<string, number> = {};
  const ratioSpread: Record<string, unknown> = {};
  if (sides.objstore && sides.bulk) {
    const vsObj = paired('objstore');
    ratios[`weight_sync_vs_objstore_${plan.label}`] = vsObj.median;
    ratioSpread.vs_objstore = vsObj;
  }
  if (sides.grpc && sides.bulk) {
    const vsGrpc = paired('grpc');
    ratios[`weight_sync_vs_grpc_stream_${plan.label}`] = vsGrpc.median;
    ratioSpread.vs_grpc_stream = vsGrpc;
  }
  return {
    figures: {
      bytes, tensors, shape, reps: plan.reps, versions,
      ...sides,
      per_round_ratio: ratioSpread,
      verified: Object.fromEntries(methods.map((m) => [m, verified(m)])),
    },
    ratios,
  };
}

function startActor(natsUrl: string, runId: string, actorId: string, grpcAddress: string, bucket: string, cacheDir: string): ChildHandle {
  const script = fileURLToPath(new URL('./weight-sync-actor.js', import.meta.url));
  return spawnChild({ name: `bench-${actorId}`, command: process.execPath, args: ['--expose-gc', script, natsUrl, runId, actorId, grpcAddress, bucket, cacheDir] });
}


export async function benchWeightSync(opts: WeightSyncOptions = {}): Promise<{ figures: Record<string, unknown>; ratios: Record<string, number> }> {
  const unknown = [...(opts.sizes ?? []).filter((l) => !(l in WEIGHT_SYNC_SIZES)), ...(opts.methods ?? []).filter((m) => !WEIGHT_SYNC_METHODS.includes(m))];
  if (unknown.length > 0) throw new Error(`weight-sync bench: unknown size or method ${unknown.join(', ')} (sizes ${Object.keys(WEIGHT_SYNC_SIZES).join(', ')}; methods ${WEIGHT_SYNC_METHODS.join(', ')})`);
  const methods = opts.methods ?? WEIGHT_SYNC_METHODS;
  const plans: SizePlan[] = opts.quick
    ? [{ label: '10mb', bytes: 10 * MiB, reps: 2 }]
    : Object.entries(WEIGHT_SYNC_SIZES).filter(([l]) => (opts.sizes ? opts.sizes.includes(l) : l !== '1.2gb' || opts.big !== false)).map(([label, p]) => ({ label, ...p }));
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
  let bulk: RunningWeightBulkServer | undefined;
  const cacheDir = join(defaultWeightCacheDir(), runId);
  let stopping = false;
  const sizes: Record<string, unknown> = {};
  const ratios: Record<string, number> = {};
  try {
    nc = await connectNats({ servers: nats.url, name: 'bench-learner' });
    // One version held: rounds are sequential, and at 1.2 GB a second one is memory better left to the actors.
    const store = new WeightStore(1);
    bulk = await startWeightBulkServer({ store, host: '127.0.0.1', port: 0 });
    grpcServer = await startGrpcServer({ address: '127.0.0.1:0', services: [service(WeightServiceDefinition, weightServiceHandlers(store, { bulk }))] });
    const objects = await new Objm(nc).create(bucket, { storage: StorageType.File });
    const rep = new HeldReports(nc, runId);
    reports = rep;
    await nc.flush();
    for (let a = 0; a < ACTORS; a++) {
      const child = startActor(nats.url, runId, `actor-${a}`, grpcServer.address, bucket, cacheDir);
      children.push(child);
      pids.push(child.pid);
      void child.exited.then((exit) => {
        if (!stopping) rep.fail(new Error(`actor-${a} exited (${exit.code ?? exit.signal}): ${child.output.slice(-2000)}`));
      });
    }
    await rep.untilReady(ACTORS, 30_000);
    const ctx: Ctx = { runId, bucket, nc, store, objects, grpcAddress: grpcServer.address, reports: rep, natsPid: nats.pid, version: 0 };
    for (const plan of plans) {
      const r = await benchSize(ctx, plan, methods);
      sizes[plan.label] = r.figures;
      Object.assign(ratios, r.ratios);
    }
  } finally {
    stopping = true;
    await Promise.all(children.map((c) => c.stop(3000)));
    reports?.close();
    await grpcServer?.close(1000);
    await bulk?.close();
    rmSync(cacheDir, { recursive: true, force: true });
    await drainQuietly(nc);
    await nats[Symbol.asyncDispose]();
  }
  const leftover = pids.filter(pidAlive);
  if (leftover.length > 0) throw new Error(`weight-sync bench: processes still running after shutdown: ${leftover.join(', ')}`);
  const notes = [
    'ratios weight_sync_vs_objstore_<size> = median over versions of (object store time / bulk time), weight_sync_vs_grpc_stream_<size> = the same against the gRPC chunk stream, with their range in per_round_ratio: above 1 means ours (bulk) is faster; every version runs every method, the order rotating',
    'bulk = ours as actors run it: manifest over gRPC, bytes from the learner bulk HTTP endpoint, one download per host shared through the host cache (host_cache: the downloader\'s transfer, its whole fetch incl. writing the host copy, the other actors\' fetches); single = the bulk endpoint to one actor, no host cache; grpc = the WeightService chunk stream to every actor, no host cache',
    'time = learner publishes WeightsAnnounced (weights already in the WeightStore / already put in the object store) -> the last of the actors reports holding that version, every tensor sha256 and the digest checked (host-cache readers trust the verified host copy); arrival of that report at the learner is the end',
    `versions of ${BIG_MIB} MiB or more are not kept by the actors after their report (memory), so those are received into fresh memory by every method; smaller ones are received into the buffers of the version before, as real actors do`,
    'the object store put is not in the timed window (reported as objstore.put_ms and put_plus_sync_median_ms), which favours the baseline',
    `object store: file storage, ${OBJ_CHUNK_BYTES / 1024} KiB chunks (nats.js default), node sha256 backend`,
    'cpu_ms: CPU time of one sync summed over the learner, the 4 actors and nats-server (steadier than wall time on a shared machine)',
    'sizes and MB/s in MiB; aggregate_mb_per_s counts the bytes delivered to all actors',
    'the first version of each size is a warm-up and is not timed',
  ];
  if (opts.sizes || opts.methods) notes.push(`partial run: sizes ${plans.map((p) => p.label).join(', ')}, methods ${methods.join(', ')}`);
  if (opts.quick) notes.push('quick run: 10 MB only, 2 repetitions; weight_sync_vs_objstore_100mb omitted');
  else if (opts.big === false) notes.push('1.2gb omitted (big: false)');
  return {
    figures: { actors: ACTORS, sizes, leftover_processes: leftover.length, notes },
    ratios,
  };
}
