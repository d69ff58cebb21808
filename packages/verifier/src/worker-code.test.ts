/**
 * Code groups through a real verifier worker on a real nats-server with the real sandbox: the
 * tests come from the object store by the digest the reference names (fetched once, then cached);
 * a reference to missing tests, or to tests whose bytes differ from the digest, is dead-lettered
 * with that reason and nothing is scored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, encodeCodeTests, exampleGroup, Objects, Streams, Subjects, type CodeTests, type ScoredGroup, type TrajectoryGroup } from '@acereason/protocol';
import { consume, jetstreamClient, publishMessage, putObjectOnce, readDeadLetters, sha256Hex, silentLogger } from '@acereason/transport';
import { detectSandbox } from '@acereason/verify-code';
import { natsFixture, skipUnlessCi, waitFor } from '@acereason/testkit';
import { codeScorer } from './scorers.js';
import { VerifierWorker } from './worker.js';

const RUN = 'codetests';
const sandbox = await detectSandbox();

function codeGroup(id: string, tests: { sha256: string; bytes: number }, texts: string[]): TrajectoryGroup {
  const g = exampleGroup({ runId: RUN, id, groupSize: texts.length, tokensPerResponse: 4 });
  g.domain = 'code';
  g.responses.forEach((r, i) => (r.text = texts[i] ?? ''));
  return { ...g, reference: { type: 'code', tests: { dataset: 'toy', promptId: id, ...tests }, timeLimitS: 5 } };
}

const fence = (code: string): string => `</think>\n\`\`\`python\n${code}\n\`\`\``;

test('code tests travel by reference: fetched from the object store once, scored in the sandbox; missing or altered tests are dead-lettered with the reason', { timeout: 120_000, skip: skipUnlessCi(sandbox.kind === 'none' && 'no sandbox (bwrap or unshare) on this machine') }, async () => {
  await using f = await natsFixture();
  const tests: CodeTests = { inputs: ['2 3\n', '10 -4\n'], outputs: ['5\n', '6\n'] };
  const bytes = encodeCodeTests(tests);
  const ref = { sha256: sha256Hex(bytes), bytes: bytes.length };
  await putObjectOnce(f.topology.codeTests, Objects.codeTests(ref.sha256), bytes);
  // Stored under a digest that is not its content's: an altered object.
  const forgedSha = 'f'.repeat(64);
  await putObjectOnce(f.topology.codeTests, Objects.codeTests(forgedSha), bytes);

  const worker = new VerifierWorker({ nc: f.nc, topology: f.topology, runId: RUN, workerId: 'ver-code', scorers: { code: codeScorer({ concurrency: 2 }) }, logger: silentLogger(), ackWaitMs: 60_000 });
  const running = worker.run();
  const seen = new Map<string, ScoredGroup>();
  const out = await consume(f.nc, { stream: Streams.SCORED, durable: 'code_watch', filterSubject: Subjects.scored(RUN), codec: codecs.ScoredGroup, maxInFlight: 8 });
  const watching = (async () => {
    for await (const d of out) {
      seen.set(d.value.id, d.value);
      await d.ack();
    }
  })();
  try {
    const js = jetstreamClient(f.nc);
    const subject = Subjects.trajectory(RUN, 'code');
    const sum = 'a, b = map(int, input().split())\nprint(a + b)';
    await publishMessage(js, subject, codecs.TrajectoryGroup, codeGroup('c1', ref, [fence(sum), fence('print(0)')]));
    await publishMessage(js, subject, codecs.TrajectoryGroup, codeGroup('c2', ref, [fence(sum)]));
    await publishMessage(js, subject, codecs.TrajectoryGroup, codeGroup('missing', { sha256: 'e'.repeat(64), bytes: 10 }, [fence(sum)]));
    await publishMessage(js, subject, codecs.TrajectoryGroup, codeGroup('altered', { sha256: forgedSha, bytes: bytes.length }, [fence(sum)]));
    await waitFor(() => seen.has('c1') && seen.has('c2'), { what: 'both code groups scored', timeoutMs: 90_000, intervalMs: 100 });
    const c1 = seen.get('c1') as ScoredGroup;
    assert.deepEqual(c1.results.map((r) => [r.status, r.reward]), [['accepted', 1], ['wrong_answer', 0]], c1.results.map((r) => r.reason).join(' | '));
    assert.deepEqual(c1.group.reference, { type: 'code', tests: { dataset: 'toy', promptId: 'c1', ...ref }, timeLimitS: 5 }, 'the scored group carries the reference, not the tests');
    assert.doesNotMatch(JSON.stringify(c1.group), /10 -4/, 'no test input in the scored group');
    assert.equal(seen.get('c2')?.results[0]?.status, 'accepted');

    const dead = await waitFor(async () => {
      const all = await readDeadLetters(f.nc, { fromStream: Streams.TRAJECTORIES });
      return all.length >= 2 ? all : null;
    }, { what: 'two dead letters', timeoutMs: 30_000, intervalMs: 200 });
    const reasons = dead.map((d) => d.reason).sort();
    assert.match(reasons.find((r) => /toy\/missing/.test(r)) ?? '', /^cannot score: reference\.tests of toy\/missing \(sha256 eeeeeeeeeeee\.\.\): object code-tests\/e{64} is not in the object store/);
    assert.match(reasons.find((r) => /toy\/altered/.test(r)) ?? '', /^cannot score: reference\.tests of toy\/altered .*has sha256 [0-9a-f]{64}, the reference says f{64}/);
    assert.ok(!seen.has('missing') && !seen.has('altered'), 'nothing scored without its tests');
    assert.equal(worker.codeTests.misses, 3, 'one fetch per digest: the tests of c1 and c2 crossed the network once');
  } finally {
    worker.stop();
    await running;
    out.stop();
    await watching;
  }
});
