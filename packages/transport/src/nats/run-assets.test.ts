import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { startNatsServer } from '../local/nats-server.js';
import { connectNats, drainQuietly } from './connection.js';
import { ensureTopology } from './topology.js';
import { putObjectOnce, sha256Hex } from './object-store.js';
import { fetchRunAssets, publishRunAssets } from './run-assets.js';

test('run assets over the object store: a 12 MB file (over the 8 MB payload limit) round-trips checked, a second upload sends nothing, a missing or different object is refused naming the file', { timeout: 60_000 }, async () => {
  await using server = await startNatsServer();
  const learner = await connectNats({ servers: server.url, name: 'learner' });
  const actor = await connectNats({ servers: server.url, name: 'actor' });
  try {
    const big = randomBytes(12 * 1024 * 1024);
    const small = new TextEncoder().encode('{"eos_token_id": 2}');
    const lt = await ensureTopology(learner, { owner: true });
    const first = await publishRunAssets(lt.assets, { 'tokenizer.json': big, 'generation_config.json': small });
    assert.deepEqual(first.assets.map((a) => a.name), ['generation_config.json', 'tokenizer.json']);
    assert.equal(first.uploadedBytes, big.length + small.length);
    assert.equal(first.assets[1]?.sha256, sha256Hex(big));
    // A restarted learner puts the same bytes again: nothing is uploaded.
    const again = await publishRunAssets((await ensureTopology(learner, { owner: true })).assets, { 'tokenizer.json': big, 'generation_config.json': small });
    assert.equal(again.uploadedBytes, 0);
    assert.deepEqual(again.assets, first.assets);

    const at = await ensureTopology(actor, { verifyOnly: true });
    const files = await fetchRunAssets(at.assets, first.assets);
    assert.ok(Buffer.from(files['tokenizer.json'] as Uint8Array).equals(big));
    assert.equal(new TextDecoder().decode(files['generation_config.json']), '{"eos_token_id": 2}');

    const missing = { name: 'tokenizer_config.json', sha256: sha256Hex(new Uint8Array([9])), bytes: 1 };
    await assert.rejects(fetchRunAssets(at.assets, [missing]), (e: unknown) => e instanceof AceReasonError && e.code === ErrorCodes.NOT_FOUND && e.field === 'tokenizer_config.json' && /^run asset tokenizer_config\.json: /.test(e.message));
    // An object whose bytes are not what its name and the spec say (tampered with): refused.
    const forged = new TextEncoder().encode('other bytes');
    const claimed = 'f'.repeat(64);
    await putObjectOnce(lt.assets, `run-assets/${claimed}`, forged);
    await assert.rejects(fetchRunAssets(at.assets, [{ name: 'tokenizer.json', sha256: claimed, bytes: forged.length }]), (e: unknown) => e instanceof AceReasonError && e.code === ErrorCodes.INTEGRITY && e.field === 'tokenizer.json');
  } finally {
    await drainQuietly(actor);
    await drainQuietly(learner);
  }
});
