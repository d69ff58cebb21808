import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchWeightSync } from './weight-sync.js';

interface Side {
  median_ms: number;
  p99_ms: number;
  mb_per_s_per_actor: number;
  aggregate_mb_per_s: number;
}

interface SizeFigures {
  bytes: number;
  tensors: number;
  reps: number;
  versions: number[];
  bulk: Side & { actors: number; host_cache: Record<'download_ms' | 'downloader_fetch_ms' | 'shared_fetch_ms', { median: number }> };
  single: Side & { actors: number };
  grpc: Side & { actors: number };
  objstore: Side & { actors: number; put_ms: { median: number; p99: number } };
  verified: Record<'bulk' | 'single' | 'grpc' | 'objstore', Record<string, number[]>>;
}

test('weight sync (quick): actors verify every version by the bulk endpoint (sharing one download), alone, by the gRPC stream and by the object store', { timeout: 120_000 }, async () => {
  const out = await benchWeightSync({ quick: true });
  const json = JSON.parse(JSON.stringify(out)) as { figures: { actors: number; sizes: Record<string, SizeFigures>; leftover_processes: number; notes: string[] }; ratios: Record<string, number> };
  const ws = json.figures;
  assert.equal(ws.actors, 4);
  assert.equal(ws.leftover_processes, 0);
  assert.deepEqual(Object.keys(ws.sizes), ['10mb']);
  assert.deepEqual(Object.keys(json.ratios).sort(), ['weight_sync_vs_grpc_stream_10mb', 'weight_sync_vs_objstore_10mb']);
  assert.ok(Number.isFinite(json.ratios.weight_sync_vs_objstore_10mb) && (json.ratios.weight_sync_vs_objstore_10mb ?? 0) > 0);
  assert.ok(ws.notes.some((n) => n.includes('100mb omitted')));

  const s = ws.sizes['10mb'];
  assert.ok(s);
  assert.ok(Math.abs(s.bytes - 10 * 1024 * 1024) < 1024 * 1024 * 0.01, `about 10 MiB, got ${s.bytes}`);
  assert.ok(s.tensors > 20, 'a transformer-like split: many tensors');
  assert.equal(s.reps, 2);
  assert.equal(s.versions.length, 3, 'one warm-up version and two timed ones');
  assert.deepEqual([s.bulk.actors, s.single.actors, s.grpc.actors, s.objstore.actors], [4, 1, 4, 4]);
  for (const k of ['download_ms', 'downloader_fetch_ms', 'shared_fetch_ms'] as const) assert.ok(Number.isFinite(s.bulk.host_cache[k].median), `every bulk round had one download and shared reads: ${k}`);
  for (const side of [s.bulk, s.single, s.grpc, s.objstore]) {
    for (const k of ['median_ms', 'p99_ms', 'mb_per_s_per_actor', 'aggregate_mb_per_s'] as const) assert.ok(Number.isFinite(side[k]) && side[k] > 0, k);
  }
  assert.ok(Number.isFinite(s.objstore.put_ms.median));
  assert.deepEqual(s.verified.single, { 'actor-0': s.versions });
  for (const method of ['bulk', 'grpc', 'objstore'] as const) {
    const actors = Object.keys(s.verified[method]).sort();
    assert.deepEqual(actors, ['actor-0', 'actor-1', 'actor-2', 'actor-3'], method);
    for (const a of actors) assert.deepEqual(s.verified[method][a], s.versions, `${method} ${a}`);
  }
});

test('weight sync (quick, one method): only the one-actor side runs, no ratio without both sides; unknown sizes and methods are refused by name', { timeout: 120_000 }, async () => {
  const out = JSON.parse(JSON.stringify(await benchWeightSync({ quick: true, methods: ['single'] }))) as { figures: { sizes: Record<string, Record<string, unknown>>; notes: string[] }; ratios: Record<string, number> };
  const s = out.figures.sizes['10mb'] as Record<string, unknown> & { verified: Record<string, Record<string, number[]>>; versions: number[] };
  assert.ok(s.single && !s.bulk && !s.objstore && !s.grpc, 'single alone');
  assert.deepEqual(s.verified, { single: { 'actor-0': s.versions } });
  assert.deepEqual(out.ratios, {});
  assert.ok(out.figures.notes.some((n) => n.includes('methods single')));
  await assert.rejects(benchWeightSync({ sizes: ['2gb'] }), /unknown size or method 2gb/);
  await assert.rejects(benchWeightSync({ methods: ['carrier-pigeon' as 'bulk'] }), /unknown size or method carrier-pigeon/);
});
