import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { LocalCluster } from '../local/cluster.js';
import { smallSums, warmStartWeights } from '../local/warm-start.js';
import { chaosRunFile } from './chaos.js';
import { ChaosWatch } from './chaos-watch.js';

test('the chaos watchdog: a run that makes no progress (no actor) fails with what is pending instead of waiting; a worker that dies on its own is named', { timeout: 180_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'acereason-watch-'));
  try {
    writeFileSync(join(root, 'math.jsonl'), smallSums(8).map((p) => JSON.stringify(p)).join('\n') + '\n');
    writeFileSync(join(root, 'init.safetensors'), await warmStartWeights({ steps: 1 }));
    const dir = join(root, 'run');
    mkdirSync(dir);
    // No actor: step 0 cannot complete.
    await using cluster = new LocalCluster({ configPath: chaosRunFile(dir, 'stall', 2), runId: 'stall', actors: 0, verifiers: 1, logDir: join(dir, 'logs'), verifierArgs: ['--domain', 'math'] });
    await cluster.start();
    const watch = new ChaosWatch({ cluster, progress: () => 0, stallMs: 8000 });
    await assert.rejects(watch.learnerExit(), (err: unknown) => {
      assert.ok(err instanceof AceReasonError);
      assert.equal(err.code, ErrorCodes.TIMEOUT);
      assert.match(err.message, /no step completed for \d+ s while waiting for the learner to finish the run/);
      assert.match(err.message, /workers alive: verifier-0/);
      assert.match(err.message, /stream ACEREASON_TASKS: \d+ messages/, 'what each work stream holds');
      assert.match(err.message, /consumer verifiers_stall_math: pending \d+, unacked \d+, redelivered \d+, waiting pulls [1-9]/, 'its consumers, the live verifier pulling');
      return true;
    });
    // A worker killed outside the watch (not a fault it injected) is a failure naming it.
    await cluster.verifiers[0]?.kill('SIGKILL');
    await assert.rejects(watch.check('checking'), /verifier-0 exited on its own \(SIGKILL\) while checking/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
