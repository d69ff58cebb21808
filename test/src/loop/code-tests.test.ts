/**
 * Code tests travel once, end to end over a real nats-server: a learner, an actor and a code
 * verifier as processes run a code stage whose prompts each have ~1 MB of tests. The learner puts
 * each prompt's tests in the object store once; tasks, trajectory groups and scored groups carry
 * only the reference (dataset, prompt id, sha256, size) and stay a few KB; the verifier fetches
 * each digest once and scores from its cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { codecs, decodeCodeTests, encodeCodeTests, ObjectBuckets, Objects, Subjects, type CodeTests } from '@acereason/protocol';
import { getObjectChecked, objectStream, sha256Hex } from '@acereason/transport';
import { natsFixture, spawnChild, tempDir, type ChildHandle } from '@acereason/testkit';
import { BIN, exitWithin, recordPublished, startActor, startLearner, stopAll, writeTinyRun } from './fixture.js';

const RUN = 'codeonce';
const PROMPTS = 6;

/** About 1 MB of stdin tests per prompt: 2000 cases of 500-character lines. */
function bigTests(k: number): CodeTests {
  const inputs: string[] = [];
  const outputs: string[] = [];
  for (let i = 0; i < 2000; i++) {
    inputs.push(`${k} ${i} ${'7'.repeat(500)}\n`);
    outputs.push(`${k + i}\n`);
  }
  return { inputs, outputs };
}

test('a code run over real NATS: tests are stored once, every message carries only their reference and stays small', { timeout: 300_000 }, async (t) => {
  await using dir = await tempDir();
  await using f = await natsFixture();
  const rows = Array.from({ length: PROMPTS }, (_, k) => ({ id: `c${k}`, problem: `read a and b. print a+b.`, tests: bigTests(k) }));
  writeFileSync(join(dir.path, 'code.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const testsBytes = encodeCodeTests(rows[0]?.tests as CodeTests).length;
  assert.ok(testsBytes > 1_000_000, `each prompt has ${testsBytes} bytes of tests`);
  const cfg = await writeTinyRun(dir.path, {
    runId: RUN, steps: 2, batchPrompts: 3, groupSize: 2,
    extra: `  - name: code-tiny
    dataset: prog
    steps: 2
    batch_prompts: 3
    group_size: 2
    max_response_tokens: 12
    temperature: 1.0
    zero_variance_filter: false
`,
  });
  // A code dataset next to the math ones, and the code stage alone (the fixture's math stage removed).
  const text = readFileSync(cfg, 'utf8')
    .replace('datasets:\n', `datasets:\n  prog:\n    path: code.jsonl\n    domain: code\n    prompt_template: "q:{problem}="\n`)
    .replace(/stages:\n {2}- name: math-tiny[\s\S]*?(?= {2}- name: code-tiny)/, 'stages:\n');
  writeFileSync(cfg, text);

  const scoredSeen = await recordPublished(f.nc, Subjects.scored(RUN));
  const trajSeen = await recordPublished(f.nc, Subjects.trajectoriesOfDomain(RUN, 'code'));
  const learner = startLearner(cfg, f.server.url);
  const verifier = spawnChild({ name: 'ver-code', command: process.execPath, args: [BIN.verifier, '--run', RUN, '--nats', f.server.url, '--id', 'ver-code', '--domain', 'code', '--ack-wait-ms', '20000'], env: { ...process.env, ACEREASON_LOG_PRETTY: '0' } });
  const children: ChildHandle[] = [learner, startActor(RUN, f.server.url, 'actor-c'), verifier];
  try {
    const exit = await exitWithin(learner, 240_000);
    assert.equal(exit.code, 0, learner.output.slice(-3000));
    const jsm = await jetstreamManager(f.nc);

    // Every scored group (and the trajectory group inside it) carries the reference, not the tests
    // (watched as they were published: the streams remove a group once it is consumed).
    scoredSeen.stop();
    trajSeen.stop();
    assert.ok(scoredSeen.messages.length >= 6, `${scoredSeen.messages.length} scored groups`);
    const digests = new Map<string, number>();
    let largest = 0;
    for (const data of scoredSeen.messages) {
      largest = Math.max(largest, data.length);
      const s = codecs.ScoredGroup.decode(data);
      const ref = s.group.reference;
      assert.equal(ref.type, 'code');
      if (ref.type !== 'code') continue;
      assert.deepEqual(Object.keys(ref.tests).sort(), ['bytes', 'dataset', 'promptId', 'sha256']);
      assert.equal(ref.tests.dataset, 'prog');
      assert.equal(ref.tests.promptId, s.group.promptId);
      assert.equal(ref.tests.bytes, encodeCodeTests(rows.find((r) => r.id === s.group.promptId)?.tests as CodeTests).length);
      digests.set(ref.tests.sha256, ref.tests.bytes);
    }
    assert.ok(largest < 8_000, `the largest scored group is ${largest} bytes, with ${testsBytes}-byte tests behind it`);
    const trajMean = trajSeen.messages.reduce((a, m) => a + m.length, 0) / Math.max(1, trajSeen.messages.length);
    assert.ok(trajSeen.messages.length >= 6 && trajMean < 8_000, `${trajSeen.messages.length} trajectory groups averaging ${Math.round(trajMean)} bytes`);

    // The object store holds each used prompt's tests once, under its digest, intact.
    const store = await jsm.streams.info(objectStream(ObjectBuckets.CODE_TESTS));
    const perObject = testsBytes + 200 * Math.ceil(testsBytes / 131_072);
    assert.ok(store.state.bytes < (digests.size + 0.5) * perObject, `${store.state.bytes} bytes stored for ${digests.size} prompts' tests: each once`);
    const { Objm } = await import('@nats-io/obj');
    const os = await new Objm(f.nc).open(ObjectBuckets.CODE_TESTS);
    for (const [sha, size] of digests) {
      const bytes = await getObjectChecked(os, { name: Objects.codeTests(sha), sha256: sha, bytes: size });
      assert.equal(sha256Hex(bytes), sha);
      assert.equal(decodeCodeTests(bytes).inputs.length, 2000);
    }

    t.diagnostic(`tests per prompt ${testsBytes} B; largest scored group ${largest} B; trajectory groups ${Math.round(trajMean)} B on average; object store ${store.state.bytes} B for ${digests.size} prompts`);
    // The verifier fetched each digest once (its stop log counts the cache's misses).
    await verifier.stop(5000);
    const stopped = verifier.output.split('\n').map((l) => { try { return JSON.parse(l) as { msg?: string; codeTests?: { misses: number; hits: number } }; } catch { return {}; } }).find((l) => l.msg === 'verifier stopped');
    assert.ok(stopped?.codeTests, `verifier stop log: ${verifier.output.slice(-1500)}`);
    assert.equal(stopped.codeTests.misses, digests.size, `one fetch per digest (${JSON.stringify(stopped.codeTests)})`);
    assert.equal(stopped.codeTests.misses + stopped.codeTests.hits, new Set(scoredSeen.messages.map((m) => codecs.ScoredGroup.decode(m).id)).size, 'every scored group was resolved through the cache');
  } finally {
    await stopAll(children);
  }
});
