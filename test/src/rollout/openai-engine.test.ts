/**
 * The actor's OpenAI rollout engine against a real `acereason serve` process: a version loads
 * (directory written, server load, held version reported, probe matched) and samples exactly as
 * the embedded engine does with the same seed; a server that changes version behind the engine's
 * back, or that is killed and restarted on an older version, is detected and no group passes;
 * a probe that disagrees refuses the version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { IntegrityError, resolveOpenAIEngine, SCHEMA_VERSION, type VersionProbe } from '@acereason/protocol';
import { OpenAIRolloutEngine } from '@acereason/actor';
import { CharTokenizer, charTokenizerFiles, createOnnxEngine, DEMO_ALPHABET, DEMO_MODEL, type GenerateRequest } from '@acereason/policy';
import { silentLogger } from '@acereason/transport';
import { tempDir } from '@acereason/testkit';
import { demoDirs, demoVersion, startServeProcess, type DemoVersion } from './serve-process.js';

const tok = new CharTokenizer(DEMO_ALPHABET);
const request = (seed: number): GenerateRequest => ({
  sampleKey: 'run.t.1.0', promptTokens: tok.encode('q:3+4='), numSamples: 4, seed,
  sampling: { temperature: 1, topP: 1, topK: 0, maxNewTokens: 10, stopTokens: [tok.eosTokenId] },
});

/** The learner's side of the probe: teacher-forced logprobs of a token sequence under a version's weights. */
async function learnerProbe(v: DemoVersion, shift = 0): Promise<VersionProbe> {
  const e = await createOnnxEngine({ model: DEMO_MODEL, weights: v.tensors, threads: 1 });
  const tokens = Uint32Array.from({ length: 24 }, (_, i) => (i * 7 + 5) % 64);
  const [s] = await e.score([{ tokens, scoreFrom: 8 }]);
  await e.dispose();
  return { schema: SCHEMA_VERSION, kind: 'VersionProbe', runId: 'r', id: `p${v.version}`, createdAtMs: 0, version: v.version, weightsSha256: v.weightsSha256, tokens, scoreFrom: 8, logprobs: (s?.logprobs ?? new Float32Array()).map((x) => x + shift) };
}

test('openai engine over acereason serve: load with provenance, same samples as embedded, stale and restarted servers detected', async () => {
  await using dir = await tempDir('openai-engine');
  const v0 = await demoVersion(0, { seed: 1 });
  const v1 = await demoVersion(1, { seed: 2 });
  const dirs = demoDirs(join(dir.path, 'server-init'));
  let serve = await startServeProcess(dirs.write(v0), 'policy');
  const probes = new Map([[0, await learnerProbe(v0)], [1, await learnerProbe(v1)]]);
  let probeShift = 0;
  const engine = new OpenAIRolloutEngine({
    spec: resolveOpenAIEngine({ url: serve.url, model: 'policy', weights: 'acereason' }, { url: 'url', model: 'model', weights: 'weights', apiKeyEnv: 'k', maxConcurrency: 'c', requestTimeoutMs: 't', probeTolerance: 'p' }),
    model: DEMO_MODEL, files: charTokenizerFiles(DEMO_ALPHABET), weightsDir: join(dir.path, 'actor'),
    probe: async (v) => {
      const p = probes.get(v);
      assert.ok(p);
      return { ...p, logprobs: p.logprobs.map((x) => x + probeShift) };
    },
    retryForMs: 20_000, logger: silentLogger(),
  });
  try {
    await assert.rejects(engine.generate([request(5)]), IntegrityError, 'nothing is generated before a version is loaded');
    assert.deepEqual(await engine.loadVersion(v1), { version: 1, weightsSha256: v1.weightsSha256 });
    assert.ok((engine.lastProbeDiff ?? 1) < 1e-5, `probe matches (${engine.lastProbeDiff})`);

    // The same seed and sample key give the embedded engine's samples.
    const embedded = await createOnnxEngine({ model: DEMO_MODEL, weights: v1.tensors, threads: 1 });
    const want = await embedded.generate([request(5)]);
    await embedded.dispose();
    const got = await engine.generate([request(5)]);
    assert.deepEqual(got.map((s) => [s.sampleIndex, [...s.tokens], s.finishReason]), want.map((s) => [s.sampleIndex, [...s.tokens], s.finishReason]));
    for (const [i, s] of got.entries()) [...s.logprobs].forEach((lp, j) => assert.ok(Math.abs(lp - (want[i]?.logprobs[j] ?? 0)) < 1e-5));

    // Someone loads version 0 into the server behind the engine's back: the next group is refused.
    const back = await fetch(`${serve.url}/v1/load_weights`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model_dir: dirs.dirOf(0, v0.weightsSha256), version: 0 }) });
    assert.equal(back.status, 200);
    await assert.rejects(engine.generate([request(6)]), /answered with weights v0-/);
    assert.equal(engine.heldVersion(), undefined, 'the version is forgotten, to be reloaded');
    await engine.loadVersion(v1);

    // kill -9, then a request (refused connections are retried), then a restart on the initial directory
    // (version 0): the retried request lands on the restarted server and the old version is detected.
    await serve.child.kill('SIGKILL');
    const pending = engine.generate([request(7)]);
    await new Promise((r) => setTimeout(r, 500));
    serve = await startServeProcess(dirs.dirOf(0, v0.weightsSha256), 'policy', serve.port);
    await assert.rejects(pending, /answered with weights v0-/);
    await engine.ready();
    await engine.loadVersion(v1);
    assert.equal((await engine.generate([request(5)])).length, 4);

    // A probe that disagrees with what the server computes: the version is refused.
    probeShift = 0.5;
    await assert.rejects(engine.loadVersion(v0), /probe logprobs differ from the learner's by 0\.5/);
  } finally {
    await serve.child.stop(3000);
  }
});
