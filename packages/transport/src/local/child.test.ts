/**
 * ChildHandle says how a process ended: a SIGKILL it did not send (what the kernel's
 * out-of-memory killer sends) is reported as a possible OOM kill, one it sent is not, and an exit
 * code is given as such, also in the error of a wait for output that never came.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeExit, spawnChild } from './child.js';

const node = (code: string) => spawnChild({ name: 'probe', command: process.execPath, args: ['-e', code] });

test('a process killed by a SIGKILL nobody here sent is reported as a possible out-of-memory kill', async () => {
  await using c = node("console.log('up'); process.kill(process.pid, 'SIGKILL')");
  await assert.rejects(c.waitForOutput(/never printed/, 20_000), (e: Error) => e.message.startsWith('probe killed by SIGKILL (out of memory?) before printing'));
  assert.deepEqual(await c.exited, { code: null, signal: 'SIGKILL' });
  assert.equal(c.exitDescription, 'killed by SIGKILL (out of memory?)');
});

test('a SIGKILL sent through the handle and an exit code are described as they are', async () => {
  await using k = node('setInterval(() => undefined, 1000)');
  await k.kill('SIGKILL');
  assert.equal(k.exitDescription, 'killed by SIGKILL');
  await using e = node('process.exit(3)');
  await e.exited;
  assert.equal(e.exitDescription, 'exited with code 3');
  assert.equal(describeExit({ code: null, signal: 'SIGTERM' }), 'killed by SIGTERM');
});
