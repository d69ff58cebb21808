import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { CodeVerifier, SandboxUnavailableError } from '../pool.js';
import { detectSandbox, probeSandbox } from './detect.js';

const UID_BASE = 62600;

function processesOf(base: number, n: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1]);
      if (uid >= base && uid < base + n) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

describe('sandbox detection', () => {
  it('finds bubblewrap working', async () => {
    const s = await detectSandbox({ hostUidBase: UID_BASE });
    assert.deepEqual([s.kind, s.ok], ['bwrap', true], s.reason);
  });

  it('refuses to verify through a sandbox that does not work, as sandbox_error', async () => {
    const s = await probeSandbox('bwrap', { python: '/nonexistent/python3', hostUidBase: UID_BASE });
    assert.equal(s.ok, false);
    await using broken = new CodeVerifier({ sandbox: 'bwrap', python: '/nonexistent/python3', hostUidBase: UID_BASE });
    await assert.rejects(broken.ready(), (e: unknown) => e instanceof SandboxUnavailableError && e.code === 'UNAVAILABLE');
    const v = await broken.verify({ code: 'print(1)', tests: { inputs: ['1'], outputs: ['1'] } });
    assert.deepEqual([v.status, v.passed, v.testsTotal], ['sandbox_error', false, 1]);
  });
});

describe('unshare fallback', () => {
  it('isolates network and pids, caps processes and leaves nothing behind', async () => {
    await using verifier = new CodeVerifier({ concurrency: 2, sandbox: 'unshare', hostUidBase: UID_BASE, maxProcesses: 16 });
    assert.equal(await verifier.ready(), 'unshare');
    const tests = { inputs: ['x\n'], outputs: ['escaped\n'] };
    const [net, pid, bomb, daemon] = await Promise.all([
      verifier.verify({ code: 'import socket\ntry:\n    socket.create_connection(("1.1.1.1", 53), timeout=0.5)\n    print("escaped")\nexcept OSError:\n    print("no")\n', tests, timeLimitS: 1 }),
      verifier.verify({ code: 'import os\nprint("escaped" if len([p for p in os.listdir("/proc") if p.isdigit()]) > 3 else "no")\n', tests, timeLimitS: 1 }),
      verifier.verify({ code: 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n', tests, timeLimitS: 1 }),
      verifier.verify({ code: 'import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nprint("no")\n', tests, timeLimitS: 1 }),
    ]);
    assert.equal(net?.status, 'wrong_answer', net?.reason);
    assert.equal(pid?.status, 'wrong_answer', pid?.reason);
    assert.equal(bomb?.status, 'time_limit', bomb?.reason);
    assert.equal(daemon?.status, 'wrong_answer', daemon?.reason);
    assert.deepEqual(processesOf(UID_BASE, 2), []);
  });
});

describe('hard kill from outside', () => {
  it('close() kills a running sandbox and the call settles', async () => {
    const verifier = new CodeVerifier({ concurrency: 1, sandbox: 'bwrap', hostUidBase: UID_BASE + 10 });
    await verifier.ready();
    const running = verifier.verify({ code: 'import time\ntime.sleep(600)', tests: { inputs: ['1'], outputs: ['1'] }, timeLimitS: 300 });
    const queued = assert.rejects(
      verifier.verify({ code: 'print(1)', tests: { inputs: ['1'], outputs: ['1'] } }),
      (e: unknown) => (e as { code?: string }).code === 'CANCELLED',
    );
    await new Promise((r) => setTimeout(r, 500));
    await verifier.close();
    const v = await running;
    assert.equal(v.status, 'sandbox_error');
    await queued;
    assert.deepEqual(processesOf(UID_BASE + 10, 1), []);
  });
});
