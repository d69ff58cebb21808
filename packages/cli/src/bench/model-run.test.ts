/**
 * `bench model-run --quick` end to end: a Qwen3-architecture directory (narrowed, the real
 * vocabulary and tokenizer) trained 2 steps by real learner, actor and verifier processes over a
 * real nats-server; the learner is killed with SIGKILL while writing the second checkpoint and the
 * restarted one resumes exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchModelRun } from './model-run.js';

test('bench model-run --quick: kill -9 of the learner mid-checkpoint, then an exact resume (same step-1 figures, same version-2 weights hash)', { timeout: 300_000 }, async () => {
  const r = await benchModelRun({ quick: true });
  const resume = r.resume as Record<string, unknown> & { weights_sha256: { version2: { killed?: string; resumed?: string } } };
  assert.equal(resume.killed_during_checkpoint_write, true);
  assert.equal(resume.latest_after_kill, 'step-0000001', 'the half-written checkpoint never became latest');
  assert.equal(resume.resumed_from_step, 1);
  assert.equal(resume.resumed_weights_sha256_is_checkpoints, true);
  assert.deepEqual(resume.step1_fields_differing, []);
  assert.equal(resume.version2_sha256_same_as_killed_learners, true);
  assert.match(resume.weights_sha256.version2.resumed ?? '', /^[0-9a-f]{64}$/);
  assert.equal(resume.consumed_groups, 4);
  assert.deepEqual(resume.partial_folders_left, []);
  assert.equal(resume.exact, true);
  const ck = r.checkpoint as { writes: { step: number; bytes: number; seconds: number }[]; read: { bytes: number; seconds: number } };
  assert.deepEqual(ck.writes.map((w) => w.step), [1, 2], 'one write per step, the last not written twice');
  assert.ok(ck.writes.every((w) => w.bytes > 3 * 4 * 9_000_000 && w.seconds > 0), 'weights and both Adam moments in fp32');
  assert.ok(ck.read.seconds > 0);
  const rss = r.peak_rss_mb as Record<string, number | null>;
  for (const p of ['learner', 'learner_resumed', 'actor', 'verifier']) assert.ok((rss[p] ?? 0) > 0, `peak RSS of ${p}`);
});
