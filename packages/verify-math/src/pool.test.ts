import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { AceReasonError, ErrorCodes, ValidationError } from '@acereason/protocol';
import { benchMix } from './bench-mix.js';
import { MathVerifierPool } from './pool.js';
import { checkAnswer } from './verify.js';

const hangWorker = new URL('./testing/hang-worker.js', import.meta.url);
const boxed = (s: string): string => `</think>\\boxed{${s}}`;

describe('MathVerifierPool', () => {
  it('starts workers with the symbolic backend loaded and exercised, and nothing of it reaches stderr', () => {
    // A child process, so its whole stderr is observable; the pair needs the symbolic backend.
    const script = `
      const { MathVerifierPool } = await import(${JSON.stringify(new URL('./index.js', import.meta.url).href)});
      const pool = new MathVerifierPool({ workers: 1, timeoutMs: 20000, cacheSize: 0 });
      const v = await pool.verify({ response: '</think>\\\\boxed{\\\\coth(1)\\\\tanh(1)}', answer: '1' });
      // The backend reports internal type errors on console.error for this one.
      const w = await pool.verify({ response: '</think>\\\\boxed{\\\\pm \\\\coth(1)}', answer: '2' });
      await pool.close();
      process.stdout.write(JSON.stringify([v, w]));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'the symbolic backend wrote to stderr');
    const [v, w] = JSON.parse(r.stdout) as [{ status: string; reason: string }, { status: string; reason: string }];
    assert.equal(v.status, 'correct', v.reason);
    assert.match(v.reason, /symbolic/);
    assert.equal(w.status, 'wrong', w.reason);
  });

  it('gives the same verdicts as the in-process checker, many requests in parallel', async () => {
    await using pool = new MathVerifierPool({ workers: 2, timeoutMs: 10_000, symbolic: false });
    const samples = benchMix(300, 5);
    const verdicts = await Promise.all(samples.map((s) => pool.verify(s)));
    verdicts.forEach((v, k) => {
      const s = samples[k];
      assert.ok(s);
      assert.equal(v.status, checkAnswer(s.response, s.answer, { symbolicFallback: false }).status, s.response.slice(-60));
    });
    assert.ok(pool.stats().completed > 0);
  });

  it('applies the decimal-comma policy per request, else the pool option', async () => {
    await using pool = new MathVerifierPool({ workers: 1, timeoutMs: 10_000, symbolic: false });
    assert.equal((await pool.verify({ response: boxed('1,5'), answer: '1.5', decimalComma: true })).status, 'correct');
    assert.equal((await pool.verify({ response: boxed('1,5'), answer: '1.5' })).status, 'wrong');
    await using commas = new MathVerifierPool({ workers: 1, timeoutMs: 10_000, symbolic: false, decimalComma: true });
    assert.equal((await commas.verify({ response: boxed('1000,99'), answer: '1000.99' })).status, 'correct');
    assert.equal((await commas.verify({ response: boxed('1000,99'), answer: '1000.99', decimalComma: false })).status, 'wrong');
  });

  it('terminates a worker that really hangs, answers timeout, and keeps serving (jobs behind it included)', async () => {
    await using pool = new MathVerifierPool({ workers: 1, timeoutMs: 300, workerUrl: hangWorker, symbolic: false });
    const hung = pool.verify({ response: boxed('1'), answer: 'HANG' });
    // Posted to the same worker behind the hung job (pipelined): they must be requeued, not lost.
    const behind = [pool.verify({ response: boxed('2x'), answer: 'x+x' }), pool.verify({ response: boxed('\\frac{x}{2}'), answer: '0.5x' })];
    const v = await hung;
    assert.equal(v.status, 'timeout');
    assert.equal(v.correct, false);
    assert.equal(v.extracted, '1');
    for (const b of await Promise.all(behind)) assert.equal(b.status, 'correct');
    const after = await pool.verify({ response: boxed('x+1'), answer: '1+x' });
    assert.equal(after.status, 'correct');
    const st = pool.stats();
    assert.equal(st.timeouts, 1);
    assert.ok(st.restarts >= 1);
    assert.equal(st.workers, 1, 'a replacement, not an extra worker');
  });

  it('survives a worker that runs out of memory (error, not a crash of the caller)', async () => {
    await using pool = new MathVerifierPool({ workers: 1, timeoutMs: 20_000, workerUrl: hangWorker, maxHeapMb: 32, symbolic: false });
    const v = await pool.verify({ response: boxed('1'), answer: 'OOM' });
    assert.equal(v.status, 'error');
    const after = await pool.verify({ response: boxed('3'), answer: '3.0' });
    assert.equal(after.status, 'correct');
  });

  it('bounds its queue: a flood is refused with a retryable UNAVAILABLE error, never more workers', async () => {
    const pool = new MathVerifierPool({ workers: 1, timeoutMs: 60_000, maxQueue: 2, pipeline: 1, workerUrl: hangWorker, symbolic: false });
    try {
      const hung = pool.verify({ response: boxed('x'), answer: 'HANG' });
      // Wait until the hung job holds the worker, so the next two wait in the queue.
      while (pool.stats().busy === 0) await new Promise((r) => setTimeout(r, 10));
      const queued = [pool.verify({ response: boxed('x'), answer: 'x+2' }), pool.verify({ response: boxed('x'), answer: 'x+3' })];
      await assert.rejects(pool.verify({ response: boxed('x'), answer: 'x+4' }), (e: unknown) => e instanceof AceReasonError && e.code === ErrorCodes.UNAVAILABLE && e.retryable);
      assert.equal(pool.stats().queued, 2);
      assert.equal(pool.stats().workers, 1);
      const settled = Promise.allSettled([hung, ...queued]);
      await pool.close();
      for (const r of await settled) {
        assert.equal(r.status, 'rejected');
        assert.ok(r.status === 'rejected' && r.reason instanceof AceReasonError && r.reason.code === ErrorCodes.CANCELLED);
      }
      await assert.rejects(pool.verify({ response: boxed('x'), answer: 'x' }), (e: unknown) => e instanceof AceReasonError && e.code === ErrorCodes.CANCELLED);
    } finally {
      await pool.close();
    }
  });

  it('gives up with an error (no respawn loop) when workers cannot start', async () => {
    await using pool = new MathVerifierPool({ workers: 1, workerUrl: new URL('./testing/no-such-worker.js', import.meta.url), symbolic: false });
    await assert.rejects(pool.verify({ response: boxed('x'), answer: 'y' }), (e: unknown) => e instanceof AceReasonError && e.code === ErrorCodes.INTERNAL);
  });

  it('decides plain numbers on the caller thread without a worker', async () => {
    await using pool = new MathVerifierPool({ workers: 1, workerUrl: hangWorker, symbolic: false });
    // No worker is asked: the pool's completed-job count stays at zero.
    const v = await pool.verify({ response: boxed('\\frac{1}{2}'), answer: '0.5' });
    assert.equal(v.status, 'correct');
    assert.equal(pool.stats().completed, 0);
  });

  it('caches verdicts by the normalised pair', async () => {
    await using pool = new MathVerifierPool({ workers: 1, symbolic: false });
    const a = await pool.verify({ response: boxed('\\dfrac{x}{2}'), answer: '0.5x' });
    const b = await pool.verify({ response: 'other text </think> $\\boxed{\\frac{x}{2}}$', answer: '0.5x' });
    assert.equal(a.status, 'correct');
    assert.equal(b.status, 'correct');
    assert.equal(b.extracted, '\\frac{x}{2}');
    assert.equal(pool.stats().cacheHits, 1);
  });

  it('answers no_answer without a worker and rejects malformed requests', async () => {
    await using pool = new MathVerifierPool({ workers: 1, symbolic: false });
    const v = await pool.verify({ response: '</think> it is 5', answer: '5' });
    assert.equal(v.status, 'no_answer');
    assert.equal(v.extracted, null);
    await assert.rejects(pool.verify({ response: 5 as unknown as string, answer: '5' }), ValidationError);
    assert.throws(() => new MathVerifierPool({ workers: 0 }), ValidationError);
  });

  it('uses the symbolic backend in workers when the built-in parser cannot read an answer', async () => {
    await using pool = new MathVerifierPool({ workers: 1, timeoutMs: 20_000 });
    assert.equal((await pool.verify({ response: boxed('\\sum_{k=1}^{10} k'), answer: '55' })).status, 'correct');
    assert.equal((await pool.verify({ response: boxed('\\sum_{k=1}^{10} k'), answer: '56' })).status, 'wrong');
  });
});
