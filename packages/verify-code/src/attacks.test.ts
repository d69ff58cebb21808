import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CodeVerifier } from './pool.js';
import type { CodeStatus, CodeSubmission, CodeVerdict } from './verdict.js';

// Every attack must end in a non-accepted status, and nothing it started may outlive the call.
const UID_BASE = 62400;
const CONCURRENCY = 2;
const NPROC = 16;

/** Host processes running as one of this suite's sandbox uids (real uid, from /proc). */
function sandboxProcesses(): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${name}/status`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    if (uid >= UID_BASE && uid < UID_BASE + CONCURRENCY) found.push(Number(name));
  }
  return found;
}

const SECRET = 'expected-answer-7f3a9c41';

describe('attack suite', () => {
  const verifier = new CodeVerifier({ concurrency: CONCURRENCY, sandbox: 'bwrap', hostUidBase: UID_BASE, maxProcesses: NPROC });
  let server: Server;
  let port = 0;
  let connections = 0;

  before(async () => {
    await verifier.ready();
    server = createServer((s) => {
      connections++;
      s.end('hello\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  });

  after(async () => {
    await verifier.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function attack(code: string, sub: Partial<CodeSubmission> = {}): Promise<CodeVerdict> {
    const v = await verifier.verify({ code, tests: { inputs: ['go\n'], outputs: [`${SECRET}\n`] }, timeLimitS: 1, memoryMb: 256, ...sub });
    assert.notEqual(v.status, 'accepted', v.reason);
    assert.equal(v.passed, false);
    assert.notEqual(v.status, 'sandbox_error', `the harness must survive: ${v.reason}`);
    assert.deepEqual(sandboxProcesses(), [], 'no process of the sandbox may survive the call');
    return v;
  }

  function expectStatus(v: CodeVerdict, ...allowed: CodeStatus[]): void {
    assert.ok(allowed.includes(v.status), `${v.status}: ${v.reason}`);
  }

  it('fork bomb: capped, then killed', async () => {
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, sandboxProcesses().length);
    }, 20);
    const v = await attack('import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n');
    clearInterval(sampler);
    expectStatus(v, 'time_limit', 'runtime_error', 'memory_limit');
    // the harness's own processes plus the cap, never an unbounded tree
    assert.ok(peak <= NPROC + 2, `peak ${peak} processes`);
  });

  it('fork bomb in C++', async () => {
    const v = await attack('#include <unistd.h>\nint main(){ for(;;) fork(); }', { language: 'cpp' });
    expectStatus(v, 'time_limit', 'runtime_error', 'memory_limit');
  });

  it('memory bomb', async () => {
    expectStatus(await attack('x = bytearray(8 * 1024 ** 3)\nprint(len(x))'), 'memory_limit');
    // touching every page is slow on some VMs, so the CPU limit may come first
    expectStatus(await attack('a = []\nwhile True:\n    a.append(bytearray(10 ** 6))', { timeLimitS: 3 }), 'memory_limit', 'time_limit');
    // under the per-process limit each, too much together: the tree's total is bounded as well
    const forked = 'import os, time\nfor _ in range(6):\n    if os.fork() == 0:\n        break\nb = bytearray(120 * 1024 ** 2)\ntime.sleep(5)\n';
    expectStatus(await attack(forked, { timeLimitS: 3 }), 'memory_limit');
  });

  it('infinite loop and sleeping forever', async () => {
    expectStatus(await attack('while True:\n    pass'), 'time_limit');
    expectStatus(await attack('import time\ntime.sleep(10 ** 6)'), 'time_limit');
    expectStatus(await attack('int main(){ volatile long x = 0; for(;;) x++; }', { language: 'cpp' }), 'time_limit');
  });

  it('threads spinning', async () => {
    const v = await attack('import threading\ndef spin():\n    while True:\n        pass\nfor _ in range(8):\n    threading.Thread(target=spin).start()\n');
    expectStatus(v, 'time_limit');
  });

  it('output flood', async () => {
    expectStatus(await attack('import sys\nwhile True:\n    sys.stdout.write("x" * 65536)'), 'output_limit');
  });

  it('opening a network socket', async () => {
    const code = `import socket
ok = []
for host, p in (("127.0.0.1", ${port}), ("1.1.1.1", 53), ("8.8.8.8", 443)):
    try:
        s = socket.create_connection((host, p), timeout=0.3)
        ok.append(s.recv(10))
    except OSError:
        pass
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"x", ("8.8.8.8", 53))
    ok.append(b"udp")
except OSError:
    pass
print("${SECRET}" if ok else "no network")
`;
    expectStatus(await attack(code), 'wrong_answer');
    assert.equal(connections, 0);
  });

  it('writing outside the temp dir', async () => {
    const marker = `acereason-escape-${process.pid}`;
    const code = `import os
hits = []
for d in ("/", "/usr", "/usr/local", "/bin", "/lib", "/proc", "/dev", "/root", "/etc", "/var/tmp", "/dev/shm"):
    try:
        with open(os.path.join(d, "${marker}"), "w") as f:
            f.write("x")
        hits.append(d)
    except OSError:
        pass
print("${SECRET}" if hits else "contained")
`;
    expectStatus(await attack(code), 'wrong_answer');
    for (const d of ['/', '/usr', '/usr/local', '/bin', '/tmp', '/var/tmp', '/dev/shm', '/etc']) {
      const p = `${d === '/' ? '' : d}/${marker}`;
      assert.equal(existsSync(p), false, `${p} must not exist on the host`);
      rmSync(p, { force: true });
    }
  });

  it('reading the tests', async () => {
    // The expected output has a fresh random suffix the program cannot know; it hunts for the
    // pattern in every file, every /proc entry it can open and its own memory (inherited from the
    // harness by fork), and prints what it finds.
    const secret = `expected-answer-${randomBytes(4).toString('hex')}`;
    const code = `import os, re
pat = re.compile(rb"expected-answer-[0-9a-f]{8}")
found = []
def scan(data):
    found.extend(m.group(0) for m in pat.finditer(data))
me = str(os.getpid())
for root, dirs, files in os.walk("/"):
    # its own pipes and devices would only block itself; /usr is the host runtime, read-only
    if root.startswith(("/proc", "/sys", "/dev", "/usr", "/lib", "/bin", "/sbin")):
        dirs[:] = []
        continue
    for f in files:
        try:
            with open(os.path.join(root, f), "rb") as fh:
                scan(fh.read(1 << 20))
        except OSError:
            pass
for p in os.listdir("/proc"):
    if p in (me, "self", "thread-self"):
        continue
    for part in ("cmdline", "environ", "mem", "fd/0", "fd/10", "fd/11"):
        try:
            with open("/proc/%s/%s" % (p, part), "rb") as fh:
                scan(fh.read(1 << 20))
        except OSError:
            pass
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
    for line in maps:
        parts = line.split()
        addr, perms = parts[:2]
        # data lives in writable anonymous memory (heap, stack, mmaps), not in mapped files
        if not perms.startswith("rw") or (len(parts) > 5 and parts[5] not in ("[heap]", "[stack]")):
            continue
        lo, hi = (int(x, 16) for x in addr.split("-"))
        try:
            mem.seek(lo)
            scan(mem.read(hi - lo))
        except (OSError, OverflowError, ValueError):
            pass
print(found[0].decode() if found else "nothing")
`;
    const v = await attack(code, { tests: { inputs: ['which answer?\n'], outputs: [`${secret}\n`] }, timeLimitS: 8, memoryMb: 1024 });
    expectStatus(v, 'wrong_answer');
    assert.match(v.reason, /got nothing/);
  });

  it('killing the parent', async () => {
    const code = `import os, signal
for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    for pid in (os.getppid(), 1, -1):
        try:
            os.kill(pid, sig)
        except OSError:
            pass
print("1" if input().strip() == "a" else "wrong")
`;
    const v = await attack(code, { tests: { inputs: ['a\n', 'b\n'], outputs: ['1\n', '2\n'] } });
    // the harness answered the first test after the kill attempts, and went on to the second
    assert.deepEqual([v.status, v.testsPassed, v.firstFailedTest], ['wrong_answer', 1, 1]);
  });

  it('sys.exit(0) and os._exit(0) before output', async () => {
    expectStatus(await attack(`import sys\nsys.exit(0)\nprint("${SECRET}")`), 'wrong_answer');
    expectStatus(await attack(`import os\nprint("${SECRET}", end="")\nos._exit(0)`), 'wrong_answer');
  });

  it('a process that daemonises to outlive the run', async () => {
    const code = `import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
    os._exit(0)
print("bye")
`;
    expectStatus(await attack(code), 'wrong_answer');
    // attack() already checked that no sandbox process is left on the host
  });

  it('printing the expected answer of the sample test only', async () => {
    const v = await attack('print(3)', { tests: { inputs: ['1 2', '3 4', '5 6'], outputs: ['3', '7', '11'] } });
    assert.deepEqual([v.status, v.testsPassed, v.firstFailedTest], ['wrong_answer', 1, 1]);
  });

  it('deep recursion', async () => {
    const v = await attack('import sys\nsys.setrecursionlimit(10 ** 8)\ndef f(n):\n    return f(n + 1) + 1\nprint(f(0))');
    expectStatus(v, 'runtime_error', 'memory_limit', 'time_limit');
    const c = await attack('int f(int n){ volatile int a[64]; a[0]=n; return f(n+1)+a[0]; }\nint main(){ return f(0); }', { language: 'cpp' });
    expectStatus(c, 'runtime_error', 'memory_limit', 'time_limit');
  });

  it('an object whose __eq__ always says true', async () => {
    const code = 'class Yes:\n    def __eq__(self, other):\n        return True\nclass Solution:\n    def f(self, x):\n        return Yes()\n';
    expectStatus(await attack(code, { tests: { inputs: [[1]], outputs: [42], fnName: 'f' } }), 'runtime_error');
  });

  it('leaves the verifier usable', async () => {
    const v = await verifier.verify({ code: 'print(input())', tests: { inputs: ['ok'], outputs: ['ok'] }, timeLimitS: 1 });
    assert.equal(v.status, 'accepted');
    assert.deepEqual(sandboxProcesses(), []);
  });
});
