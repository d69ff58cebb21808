/**
 * Random LaTeX into the math verifier pool and random programs into the code verifier: every
 * result carries a known status, every call settles within a bound, the verifiers still work
 * afterwards, and no sandboxed process outlives the code verifier.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { MathVerifierPool, type MathVerdict } from '@acereason/verify-math';
import { CODE_STATUSES, CodeVerifier, type CodeVerdict } from '@acereason/verify-code';
import { iterations, rng, seedFor, withSeed, type Rng } from './random.js';

const MATH_STATUSES = ['correct', 'wrong', 'no_answer', 'timeout', 'error'];

const ATOMS = [
  '1', '2', '0', '.5', '-', '+', '*', '/', '^', '_', '=', '<', ',', '!', '|', '&', '\\\\', ' ', '%', '$', 'x', 'y', 'i', 'e', '\\pi', '\\infty',
  '(', ')', '[', ']', '{', '}', '\\{', '\\}', '\\left(', '\\right)', '\\frac', '\\frac{', '\\dfrac{1}{', '\\sqrt', '\\sqrt[', '\\sqrt{',
  '^{', '^{10^{10^{10}}}', '10^{999999}', '2^{2^{2^{2^{2^{2}}}}}', '9^9^9', '\\cdot', '\\times', '\\pm', '\\sin', '\\log', '\\ln', '\\text{m}',
  '\\begin{pmatrix}', '\\end{pmatrix}', '\\begin{cases}', '\\mathbb{R}', '\\cup', '\\in', '\\emptyset', '\\boxed{', '\\circ', '\\%',
  'π', '√', '∞', '½', '−', '×', '\u200b', '\u0000', '\ud83d\ude00', '\ud800', 'é', 'Ω', '1e308', '1e-400', '0.' + '3'.repeat(60), '(((((', ')))))',
];

function latex(r: Rng): string {
  let s = '';
  const len = r.chance(0.05) ? 2000 + r.int(20_000) : 1 + r.int(16);
  while (s.length < len) s += r.pick(ATOMS);
  return r.chance(0.1) ? '{'.repeat(r.int(500)) + s + '}'.repeat(r.int(500)) : s;
}

function mathResponse(r: Rng, pred: string): string {
  switch (r.int(6)) {
    case 0:
      return pred; // no box
    case 1:
      return `</think> the answer is \\boxed{${pred}`; // unclosed box
    case 2:
      return `${'reasoning '.repeat(r.int(5000))}\\boxed{${pred}}`;
    default:
      return `</think>\\boxed{${pred}}`;
  }
}

async function withinMs<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

test('fuzz math verifier pool: random LaTeX ends in a known status, nothing hangs, the pool works after', async (t) => {
  const seed = seedFor(3000);
  t.diagnostic(`seed ${seed}`);
  await withSeed(seed, async () => {
    const r = rng(seed);
    const n = iterations(400);
    const TIMEOUT = 1500;
    const WORKERS = 2;
    const BATCH = 16;
    await using pool = new MathVerifierPool({ workers: WORKERS, timeoutMs: TIMEOUT, cacheSize: 0 });
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i += BATCH) {
      const reqs = Array.from({ length: Math.min(BATCH, n - i) }, () => {
        const pred = latex(r);
        const answer = r.chance(0.3) ? pred : latex(r);
        return { response: mathResponse(r, pred), answer };
      });
      // Each job may use its full budget, one at a time per worker, plus a worker restart.
      const bound = Math.ceil(BATCH / WORKERS) * TIMEOUT + 10_000;
      const got = await withinMs(bound, `batch at ${i}`, Promise.allSettled(reqs.map((q) => pool.verify(q))));
      for (const [k, s] of got.entries()) {
        const what = JSON.stringify(reqs[k]).slice(0, 300);
        assert.equal(s.status, 'fulfilled', `verify rejected for ${what}: ${s.status === 'rejected' ? String(s.reason) : ''}`);
        const v = (s as PromiseFulfilledResult<MathVerdict>).value;
        assert.ok(MATH_STATUSES.includes(v.status), `status ${v.status} for ${what}`);
        assert.equal(v.correct, v.status === 'correct');
        counts.set(v.status, (counts.get(v.status) ?? 0) + 1);
      }
    }
    const after = await withinMs(10_000, 'a valid check', pool.verify({ response: '</think>\\boxed{0.5}', answer: '\\frac{1}{2}' }));
    assert.equal(after.status, 'correct');
    const st = pool.stats();
    t.diagnostic(`math verifier: ${n} inputs fuzzed -> ${[...counts].map(([k, v]) => `${k}=${v}`).join(' ')}; worker timeouts ${st.timeouts}, restarts ${st.restarts}; pool still answers correctly`);
  });
});

const UID_BASE = 62700;
const CONCURRENCY = 2;

/** Process ids alive now, with their parent and real uid. */
function processes(): Map<number, { ppid: number; uid: number; cmd: string }> {
  const out = new Map<number, { ppid: number; uid: number; cmd: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.set(Number(name), { ppid, uid, cmd });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Processes started since `before` that descend from this test process or run as a sandbox uid. */
function strays(before: Set<number>): string[] {
  const all = processes();
  const descends = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = all.get(p)?.ppid ?? 0;
    }
    return false;
  };
  return [...all]
    .filter(([pid, p]) => pid !== process.pid && !before.has(pid) && (descends(pid) || (p.uid >= UID_BASE && p.uid < UID_BASE + CONCURRENCY)))
    .map(([pid, p]) => `${pid} (uid ${p.uid}): ${p.cmd.slice(0, 120)}`);
}

const SNIPPETS = [
  'import os\n', 'import sys\n', 'import numpy\n', 'import this_module_does_not_exist\n', 'from math import *\n', 'import threading\n', 'import socket\n',
  'print(input())\n', 'print(1)\n', 'raise ValueError("boom")\n', 'raise SystemExit(3)\n', 'raise KeyboardInterrupt\n', 'while True: pass\n',
  'while True: print("x" * 1000)\n', 'x = [0] * (10 ** 9)\n', 'def f(n): return f(n + 1)\nf(0)\n', 'os.fork()\n', 'sys.exit(0)\n',
  'import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: pass\n', 'print(eval(input()))\n', 'exec("1/0")\n',
  'for i in range(10**7): pass\n', 'sys.stdout.close()\n', 'os.kill(os.getpid(), 9)\n', '\tindent error\n', 'def (:\n', 'print("unterminated\n',
  'import time\ntime.sleep(30)\n', 'open("/etc/passwd").read()\n', 'sys.setrecursionlimit(10**6)\n',
];

function program(r: Rng, i: number): string {
  switch (i % 3) {
    case 0:
      return Buffer.from(r.bytes(1 + r.int(300))).toString('latin1'); // random bytes
    case 1: {
      const toks = ['def', 'if', 'else:', '(', ')', ':', 'print', 'input()', 'lambda', '[', ']', '+', '=', '\n', '    ', 'x', '1', 'while', 'return', '"', 'yield', 'import', 'os', '.', ','];
      return Array.from({ length: 5 + r.int(60) }, () => r.pick(toks)).join(' '); // token soup
    }
    default:
      return Array.from({ length: 1 + r.int(4) }, () => r.pick(SNIPPETS)).join('');
  }
}

test('fuzz code verifier: random programs end in a listed status and leave no process behind', async (t) => {
  const seed = seedFor(4000);
  t.diagnostic(`seed ${seed}`);
  await withSeed(seed, async () => {
    const r = rng(seed);
    const n = iterations(30);
    const before = new Set(processes().keys());
    const verifier = new CodeVerifier({ concurrency: CONCURRENCY, hostUidBase: UID_BASE, maxProcesses: 16 });
    const counts = new Map<string, number>();
    try {
      await verifier.ready();
      const programs = Array.from({ length: n }, (_, i) => program(r, i));
      const wrap = (code: string, i: number): string | undefined => (i % 4 === 3 ? `Here you go:\n\`\`\`python\n${code}\n\`\`\`` : undefined);
      // Each run is bounded by its wall limit (2 x 1 s + 1 s per test, two tests) plus sandbox setup.
      const bound = Math.ceil(n / CONCURRENCY) * 8_000 + 20_000;
      const verdicts = await withinMs(bound, `${n} programs`, Promise.all(programs.map((code, i) => {
        const response = wrap(code, i);
        return verifier.verify({ ...(response === undefined ? { code } : { response }), tests: { inputs: ['1\n', '2\n'], outputs: ['1\n', '2\n'] }, timeLimitS: 1, memoryMb: 256 });
      })));
      for (const [i, v] of verdicts.entries()) {
        const what = JSON.stringify(programs[i]).slice(0, 200);
        assert.ok(CODE_STATUSES.includes(v.status), `status ${v.status} for ${what}`);
        assert.notEqual(v.status, 'sandbox_error', `the sandbox must survive ${what}: ${v.reason}`);
        assert.equal(v.passed, v.status === 'accepted');
        counts.set(v.status, (counts.get(v.status) ?? 0) + 1);
      }
      const ok: CodeVerdict = await verifier.verify({ code: 'print(input())', tests: { inputs: ['7\n'], outputs: ['7\n'] }, timeLimitS: 2 });
      assert.equal(ok.status, 'accepted', ok.reason);
    } finally {
      await verifier.close();
    }
    // Sandboxes are reaped asynchronously; give them a moment, then nothing may remain.
    let left: string[] = [];
    for (let k = 0; k < 40; k++) {
      left = strays(before);
      if (left.length === 0) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    assert.deepEqual(left, [], 'no process started by the code verifier outlives it');
    t.diagnostic(`code verifier: ${n} programs fuzzed -> ${[...counts].map(([k, v]) => `${k}=${v}`).join(' ')}; no stray processes; a valid program is still accepted`);
  });
});
