import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { createLogger } from '@acereason/transport';
import { tempDir } from '@acereason/testkit';
import type { CheckpointContents, LearnerState } from './checkpoint.js';
import { CheckpointWriter } from './writer.js';

const state = (step: number): LearnerState => ({ runId: 'r', step, version: step, weightsSha256: '', stageIndex: 0, stageStep: step, cursors: {}, pending: [], consumedGroups: 0, rejectedGroups: 0, createdAtMs: 0 });
const hfConfig = { model_type: 'qwen3' };
const contents = (step: number, extra: CheckpointContents['optimizer']['tensors'] = []): CheckpointContents => ({
  state: state(step), weights: [{ name: 'w', shape: [4], data: Float32Array.of(step, 1, 2, 3) }], optimizer: { step, tensors: [{ name: 'm.w', shape: [4], data: new Float32Array(4) }, ...extra] }, hfConfig,
});

test('the checkpoint writer: one write at a time, settled() waits for it and its follow-up; a failure nobody awaits yet is logged and fails every later settled() and start()', async () => {
  await using dir = await tempDir('ckpt-writer-');
  const lines: string[] = [];
  const logger = createLogger({ component: 'test', level: 'error', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
  const w = new CheckpointWriter({ root: join(dir.path, 'ck'), keep: 2, logger });
  const order: string[] = [];
  const first = w.start(contents(1), async (r) => void order.push(`written ${r.dir.slice(-12)} ${r.bytes > 0}`));
  assert.throws(() => w.start(contents(2), async () => undefined), (e: unknown) => e instanceof AceReasonError && e.code === ErrorCodes.INTERNAL);
  await w.settled().then(() => order.push('settled'));
  assert.deepEqual(order, ['written step-0000001 true', 'settled']);
  assert.equal(await first, join(dir.path, 'ck', 'step-0000001'));
  await w.settled();

  // A write that fails with nobody awaiting it yet: logged at once, no unhandled rejection; the next settled() rejects; latest stays.
  void w.start(contents(2, [{ name: 'bad', shape: [2], data: new Float32Array(1) }]), async () => assert.fail('not written'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  await assert.rejects(w.settled(), /bad: 1 values for shape \[2\]/);
  assert.match(lines.join(''), /checkpoint write failed/);
  assert.equal(readFileSync(join(dir.path, 'ck', 'latest'), 'utf8'), 'step-0000001');
  // Once failed, it stays failed (the run fails where it awaits it; a restart resumes from the previous checkpoint).
  await assert.rejects(w.settled(), /bad: 1 values/);
  assert.throws(() => w.start(contents(3), async () => undefined), /bad: 1 values/);
  assert.equal(readFileSync(join(dir.path, 'ck', 'latest'), 'utf8'), 'step-0000001');
});
