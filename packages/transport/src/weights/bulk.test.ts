import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AceReasonError, ErrorCodes, IntegrityError, WeightServiceDefinition } from '@acereason/protocol';
import { fetchWeights, makeSnapshot, WeightStore, weightServiceHandlers, type WeightSnapshot, type WeightTensor } from '../grpc/weights.js';
import { service, startGrpcServer } from '../grpc/server.js';
import { createGrpcClient } from '../grpc/client.js';
import { startWeightBulkServer } from './bulk-server.js';
import { fetchWeightsBulk } from './bulk-fetch.js';
import { HostWeightCache } from './host-cache.js';
import { roleAuthorizer } from '../auth/grpc-authz.js';

const tensorsOf = (): WeightTensor[] => [
  { name: 'embed', dtype: 'F32', shape: [1000, 300], data: new Uint8Array(randomBytes(1000 * 300 * 4)) },
  { name: 'empty', dtype: 'F32', shape: [0], data: new Uint8Array(0) },
  { name: 'norm', dtype: 'F32', shape: [3], data: new Uint8Array(randomBytes(12)) },
  { name: 'proj', dtype: 'F32', shape: [300, 300], data: new Uint8Array(randomBytes(300 * 300 * 4)) },
];

async function withServers(store: WeightStore, body: (client: ReturnType<typeof createGrpcClient<typeof WeightServiceDefinition>>) => Promise<void>): Promise<void> {
  await using bulk = await startWeightBulkServer({ store, host: '127.0.0.1', port: 0 });
  await using grpc = await startGrpcServer({ address: '127.0.0.1:0', services: [service(WeightServiceDefinition, weightServiceHandlers(store, { bulk }))] });
  const client = createGrpcClient(WeightServiceDefinition, { address: grpc.address });
  try {
    await body(client);
  } finally {
    client.close();
  }
}

test('fetchWeights takes the bulk endpoint the manifest names, verifies, and receives into reused buffers', async () => {
  const store = new WeightStore(2);
  const v1 = makeSnapshot('run1', 1, tensorsOf());
  const v2 = makeSnapshot('run1', 2, tensorsOf());
  store.put(v1);
  store.put(v2);
  await withServers(store, async (client) => {
    const m = await client.getManifest({ runId: 'run1', version: 1, latest: false });
    assert.match(m.bulkUrl, /^http:\/\/127\.0\.0\.1:\d+\/weights\/v1\/run1\/1$/);
    const got1 = await fetchWeights(client, { runId: 'run1', version: 1 });
    got1.tensors.forEach((t, i) => assert.deepEqual(t.data, v1.tensors[i]?.data, t.name));
    const got2 = await fetchWeights(client, { runId: 'run1', version: 2, reuse: got1 });
    assert.equal(got2.manifest.weightsSha256, v2.manifest.weightsSha256);
    got2.tensors.forEach((t, i) => assert.deepEqual(t.data, v2.tensors[i]?.data, t.name));
    assert.equal(got2.tensors[0]?.data, got1.tensors[0]?.data, 'the old buffer received the new version');
    // The gRPC stream stays available and gives the same bytes.
    const viaStream = await fetchWeights(client, { runId: 'run1', version: 2, transport: 'stream' });
    assert.equal(viaStream.manifest.weightsSha256, v2.manifest.weightsSha256);
  });
});

test('the bulk endpoint answers a missing version with NOT_FOUND, and altered bytes fail the check', async () => {
  const store = new WeightStore(2);
  const snap = makeSnapshot('run1', 3, tensorsOf());
  store.put(snap);
  await withServers(store, async (client) => {
    const m = await client.getManifest({ runId: 'run1', version: 3, latest: false });
    const missing = await fetchWeightsBulk(m.bulkUrl.replace(/\/3$/, '/9'), { ...m, version: 9 }).then(() => undefined, (e: unknown) => e);
    assert.ok(missing instanceof AceReasonError);
    assert.equal(missing.code, ErrorCodes.NOT_FOUND);
    assert.equal(missing.retryable, true, 'a version newer than the latest may still come');
    const otherRun = await fetchWeightsBulk(m.bulkUrl.replace('/run1/', '/run2/'), m).then(() => undefined, (e: unknown) => e);
    assert.ok(otherRun instanceof AceReasonError && otherRun.code === ErrorCodes.NOT_FOUND);
    const proj = (snap.tensors[3] as WeightTensor).data;
    proj[17] = (proj[17] ?? 0) ^ 1;
    await assert.rejects(fetchWeightsBulk(m.bulkUrl, m), (e: unknown) => e instanceof IntegrityError && /tensor proj sha256/.test(e.message));
  });
});

test('processes of one host share a download through the host cache; a dead claimant is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-hostcache-'));
  try {
    const store = new WeightStore(2);
    const snap = makeSnapshot('run1', 1, tensorsOf());
    store.put(snap);
    await withServers(store, async (client) => {
      let downloads = 0;
      const caches = [0, 1, 2].map(() => new HostWeightCache(dir, { pollMs: 5 }));
      const m = await client.getManifest({ runId: 'run1', version: 1, latest: false });
      const got = await Promise.all(caches.map((c) => c.get(m, () => {
        downloads++;
        return fetchWeightsBulk(m.bulkUrl, m);
      })));
      assert.equal(downloads, 1);
      assert.equal(got.filter((g) => g.outcome === 'downloaded').length, 1);
      assert.ok(got.every((g) => g.outcome === 'downloaded' || g.outcome === 'shared' || g.outcome === 'followed'));
      for (const g of got) g.snapshot.tensors.forEach((t, i) => assert.deepEqual(t.data, snap.tensors[i]?.data, t.name));
      assert.deepEqual(readdirSync(dir), [`${m.weightsSha256}.weights`], 'the claim is released, no temporary file left');

      // A claim left by a process that no longer exists does not block the next version.
      const v2 = makeSnapshot('run1', 2, tensorsOf());
      store.put(v2);
      const m2 = await client.getManifest({ runId: 'run1', version: 2, latest: false });
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
      writeFileSync(join(dir, `${m2.weightsSha256}.lock`), dead);
      writeFileSync(join(dir, `${m2.weightsSha256}.partial`), 'left by the dead claimant');
      const r = await (caches[0] as HostWeightCache).get(m2, () => fetchWeightsBulk(m2.bulkUrl, m2));
      assert.equal(r.outcome, 'downloaded');
      assert.deepEqual(readdirSync(dir), [`${m2.weightsSha256}.weights`], 'the older version is dropped');
      // Through fetchWeights, a later process reads the host's copy.
      const shared = await fetchWeights(client, { runId: 'run1', version: 2, hostCache: caches[1] as HostWeightCache });
      shared.tensors.forEach((t, i) => assert.deepEqual(t.data, v2.tensors[i]?.data, t.name));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readers follow a download as it is written; a download that fails midway leaves them to download', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-hostcache-follow-'));
  try {
    const store = new WeightStore(2);
    const snap = makeSnapshot('run1', 1, tensorsOf());
    store.put(snap);
    await withServers(store, async (client) => {
      const m = await client.getManifest({ runId: 'run1', version: 1, latest: false });
      const [writer, reader] = [new HostWeightCache(dir, { pollMs: 2 }), new HostWeightCache(dir, { pollMs: 2 })];
      // A slow network: the downloader's bytes reach the host copy in pieces, 10 ms apart.
      let pushed = 0;
      let readerDone = -1;
      const slow = async (onBytes?: (c: Uint8Array) => void): Promise<WeightSnapshot> => {
        const s = await fetchWeightsBulk(m.bulkUrl, m);
        for (const t of s.tensors) {
          for (let off = 0; off < t.data.byteLength; off += 100_000) {
            onBytes?.(t.data.subarray(off, Math.min(off + 100_000, t.data.byteLength)));
            pushed = Math.min(m.totalBytes, pushed + 100_000);
            await new Promise((r) => setTimeout(r, 10));
          }
        }
        return s;
      };
      const w = writer.get(m, slow);
      await new Promise((r) => setTimeout(r, 15));
      const r = await reader.get(m, () => Promise.reject(new Error('the reader must not download'))).then((x) => ((readerDone = pushed), x));
      assert.equal((await w).outcome, 'downloaded');
      assert.equal(r.outcome, 'followed');
      assert.ok(readerDone >= m.totalBytes - 100_000, 'the follower finished once the last bytes were written');
      r.snapshot.tensors.forEach((t, i) => assert.deepEqual(t.data, snap.tensors[i]?.data, t.name));

      // A downloader that fails after writing part of the copy: the follower downloads itself.
      const v2 = makeSnapshot('run1', 2, tensorsOf());
      store.put(v2);
      const m2 = await client.getManifest({ runId: 'run1', version: 2, latest: false });
      const failing = writer.get(m2, async (onBytes) => {
        const s = await fetchWeightsBulk(m2.bulkUrl, m2);
        onBytes?.((s.tensors[0] as WeightTensor).data.subarray(0, 50_000));
        await new Promise((res) => setTimeout(res, 40));
        throw new AceReasonError(ErrorCodes.UNAVAILABLE, 'connection reset');
      });
      await new Promise((res) => setTimeout(res, 10));
      const own = reader.get(m2, (onBytes) => fetchWeightsBulk(m2.bulkUrl, m2, onBytes ? { onBytes } : {}));
      await assert.rejects(failing, /connection reset/);
      const o = await own;
      assert.equal(o.outcome, 'downloaded');
      o.snapshot.tensors.forEach((t, i) => assert.deepEqual(t.data, v2.tensors[i]?.data, t.name));
      assert.deepEqual(readdirSync(dir), [`${m2.weightsSha256}.weights`]);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bulk endpoint applies the gRPC authorization: StreamWeights roles, by bearer token', async () => {
  const store = new WeightStore(1);
  const snap = makeSnapshot('run1', 1, tensorsOf());
  store.put(snap);
  const tokens = { 'actor-token-0123456789': 'actor', 'verifier-token-0123456': 'verifier' } as const;
  await using bulk = await startWeightBulkServer({ store, host: '127.0.0.1', port: 0, authorize: roleAuthorizer({ map: { tokens } }) });
  const m = { ...snap.manifest, bulkUrl: bulk.urlFor('run1', 1) };
  for (const token of [undefined, 'verifier-token-0123456', 'not-a-token-at-all-000']) {
    const err = await fetchWeightsBulk(m.bulkUrl, m, token === undefined ? {} : { token }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AceReasonError && err.code === ErrorCodes.PERMISSION && !err.retryable, `token ${token}: ${String(err)}`);
  }
  const ok = await fetchWeightsBulk(m.bulkUrl, m, { token: 'actor-token-0123456789' });
  assert.equal(ok.manifest.weightsSha256, snap.manifest.weightsSha256);
});

test('version 0 (the initial weights) is served by its own number, and only while it is the one held', async () => {
  const store = new WeightStore(1);
  const v0 = makeSnapshot('run1', 0, tensorsOf());
  store.put(v0);
  await withServers(store, async (client) => {
    const got = await fetchWeights(client, { runId: 'run1', version: 0 });
    assert.equal(got.manifest.version, 0);
    assert.equal(got.manifest.weightsSha256, v0.manifest.weightsSha256);
    const m0 = await client.getManifest({ runId: 'run1', version: 0, latest: false });
    store.put(makeSnapshot('run1', 1, tensorsOf()));
    const gone = await fetchWeightsBulk(m0.bulkUrl, m0).then(() => undefined, (e: unknown) => e);
    assert.ok(gone instanceof AceReasonError && gone.code === ErrorCodes.NOT_FOUND, 'version 1 is not served as version 0');
  });
});
