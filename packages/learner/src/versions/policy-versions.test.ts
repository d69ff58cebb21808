/**
 * PolicyVersions with a real engine and a real nats-server: each published version is served,
 * current and announced (subject and run-state KV); the provenance check accepts a group only with
 * the hash of the version it claims, across a version change and for versions stamped before a
 * restart, and forgets versions beyond its window.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, exampleScored, Keys, Streams, type ScoredGroup } from '@acereason/protocol';
import { jetstreamClient, makeSnapshot } from '@acereason/transport';
import { natsFixture } from '@acereason/testkit';
import { createOnnxEngine, type ModelConfig } from '@acereason/policy';
import { PolicyVersions, servedVersions } from './policy-versions.js';

const RUN = 'versions';
const TINY: ModelConfig = { vocabSize: 40, hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, numKvHeads: 1, ropeTheta: 1e4, maxPositions: 64, rmsNormEps: 1e-6, attentionBias: true, tieEmbeddings: false };

function claiming(version: number, sha: string): ScoredGroup {
  const g = exampleScored({ runId: RUN });
  g.group.policyVersion = version;
  g.group.weightsSha256 = sha;
  return g;
}

test('versions are served, announced and remembered by hash; a group with another hash than its claimed version is refused', async () => {
  await using f = await natsFixture();
  const engine = await createOnnxEngine({ model: TINY, seed: 1, threads: 1 });
  try {
    const stampedSha = 'cd'.repeat(32);
    const v = new PolicyVersions({ runId: RUN, engine, js: jetstreamClient(f.nc), topology: f.topology }, { version: 0, sha256: '' }, [{ version: 7, sha256: stampedSha }]);
    v.serveAt('127.0.0.1:5555');
    assert.equal(v.isGenuine(claiming(7, stampedSha)), true, 'a version tasks were stamped with before a restart');
    assert.equal(v.isGenuine(claiming(7, 'ee'.repeat(32))), false);

    await v.publish(0);
    const sha0 = v.sha256;
    assert.equal(v.version, 0);
    assert.equal(v.store.get(0)?.manifest.weightsSha256, sha0, 'version 0 is served by its own number');
    const latest = codecs.WeightsAnnounced.decode((await f.topology.runState.get(Keys.latestWeights(RUN)))?.value ?? new Uint8Array());
    assert.deepEqual({ version: latest.version, sha: latest.weightsSha256, address: latest.address }, { version: 0, sha: sha0, address: '127.0.0.1:5555' });

    // New weights become version 1; a group generated with version 0 stays genuine, one claiming 1 with 0's hash does not.
    await engine.loadWeights(engine.exportWeights().map((t) => ({ ...t, data: t.data.map((x) => x * 1.5) })));
    await v.publish(1);
    assert.notEqual(v.sha256, sha0);
    assert.equal(v.isGenuine(claiming(0, sha0)), true);
    assert.equal(v.isGenuine(claiming(1, v.sha256)), true);
    assert.equal(v.isGenuine(claiming(1, sha0)), false, 'a wrong hash for the claimed version');
    assert.equal(v.isGenuine(claiming(2, v.sha256)), false, 'a version not published');
    const announced = await f.topology.jsm.streams.info(Streams.EVENTS);
    assert.ok(announced.state.messages >= 2, 'each version announced on the events stream');

    // Served versions are a window of 8; hashes are remembered for 16 versions back.
    for (let n = 2; n <= 18; n++) await v.publish(n);
    assert.equal(v.store.get(10), undefined);
    assert.ok(v.store.get(11) && v.store.get(18));
    assert.equal(v.isGenuine(claiming(1, v.store.get(18)?.manifest.weightsSha256 ?? '')), false);
    assert.equal(v.isGenuine(claiming(0, sha0)), false, 'version 0 is beyond the remembered window now');
  } finally {
    await engine.dispose();
  }
});

test('a resumed version whose weights do not hash to the checkpoint\'s recorded sha256 is refused before it is served or announced', async () => {
  await using f = await natsFixture();
  const engine = await createOnnxEngine({ model: TINY, seed: 2, threads: 1 });
  try {
    const v = new PolicyVersions({ runId: 'resumed', engine, js: jetstreamClient(f.nc), topology: f.topology }, { version: 3, sha256: 'ab'.repeat(32) });
    v.serveAt('127.0.0.1:5555');
    await assert.rejects(v.publish(3, 'ab'.repeat(32)), (e: Error & { code?: string; field?: string }) => e.code === 'INTEGRITY' && e.field === 'state.json:weightsSha256');
    assert.equal(v.store.get(3), undefined, 'not served');
    assert.equal(await f.topology.runState.get(Keys.latestWeights('resumed')), null, 'not announced');
    // The matching hash is accepted.
    const probe = new PolicyVersions({ runId: 'probe', engine, js: jetstreamClient(f.nc), topology: f.topology }, { version: 0, sha256: '' });
    probe.serveAt('127.0.0.1:5555');
    await probe.publish(0);
    await v.publish(3, probe.sha256);
    assert.equal(v.sha256, probe.sha256);
  } finally {
    await engine.dispose();
  }
});

test('a run serves as many versions as its staleness needs: 1 strictly on-policy, at most 8', async () => {
  assert.deepEqual([0, 1, 3, 6, 64].map(servedVersions), [1, 3, 5, 8, 8]);
  await using f = await natsFixture();
  const engine = await createOnnxEngine({ model: TINY, seed: 3, threads: 1 });
  try {
    const v = new PolicyVersions({ runId: 'served', engine, js: jetstreamClient(f.nc), topology: f.topology, served: servedVersions(0) }, { version: 0, sha256: '' });
    v.serveAt('127.0.0.1:5555');
    for (let n = 0; n <= 3; n++) await v.publish(n);
    assert.deepEqual([0, 1, 2, 3].map((n) => v.store.get(n) !== undefined), [false, false, false, true]);
  } finally {
    await engine.dispose();
  }
});

const BATCH = {
  sequences: [0, 1].map((k) => ({ tokens: Uint32Array.from([1, 5, 9, 3 + k, 7, 2]), responseStart: 3, advantages: new Float32Array(3).fill(k === 0 ? 1 : -1) })),
  loss: { kind: 'pg' as const, epsLow: 0.2, epsHigh: 0.28, entropyCoef: 0.01, aggregation: 'token-mean' as const },
};

test('the current version is served from the engine\'s buffers; before an update it is copied when older versions are served, and stops being served when only one is', async () => {
  await using f = await natsFixture();
  for (const maxStaleness of [0, 1]) {
    const engine = await createOnnxEngine({ model: TINY, seed: 4, threads: 1, optimizer: { learningRate: 0.01 } });
    try {
      const v = new PolicyVersions({ runId: `live${maxStaleness}`, engine, js: jetstreamClient(f.nc), topology: f.topology, served: servedVersions(maxStaleness) }, { version: 0, sha256: '' });
      v.serveAt('127.0.0.1:5555');
      await v.publish(0);
      const sha0 = v.sha256;
      const view = engine.weightViews()[0]?.data;
      assert.equal(v.store.get(0)?.tensors[0]?.data.buffer, view?.buffer, 'served without a copy');
      v.beforeUpdate();
      await engine.trainStep(BATCH);
      await v.publish(1);
      assert.notEqual(v.sha256, sha0, 'the update moved the weights');
      assert.equal(v.store.get(1)?.tensors[0]?.data.buffer, engine.weightViews()[0]?.data.buffer, 'the new version is served from the engine\'s buffers too');
      const old = v.store.get(0);
      if (maxStaleness === 0) assert.equal(old, undefined, 'on-policy: the trained-on version is no longer served');
      else {
        // The copy still holds version 0's bytes although the engine's buffers were updated in place.
        const again = makeSnapshot('x', 0, old?.tensors ?? []);
        assert.equal(again.manifest.weightsSha256, sha0);
        assert.notEqual(old?.tensors[0]?.data.buffer, view?.buffer);
      }
    } finally {
      await engine.dispose();
    }
  }
});
