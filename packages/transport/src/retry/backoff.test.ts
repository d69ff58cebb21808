import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.js';

test('back-off doubles up to its cap, jittered within the bounds, and resets', () => {
  let i = 0;
  const draws = [0, 0.999, 0.5, 0.5, 0.5, 0.5];
  const b = new Backoff({ initialMs: 100, maxMs: 800, jitter: 0.25, random: () => draws[i++ % draws.length] ?? 0.5 });
  const got = [b.next(), b.next(), b.next(), b.next(), b.next()];
  assert.equal(got[0], 75, 'lowest draw: base * (1 - jitter)');
  assert.ok(Math.abs((got[1] ?? 0) - 249.9) < 0.01, 'near the highest draw: base * (1 + jitter)');
  assert.deepEqual(got.slice(2), [400, 800, 800], 'doubling, capped');
  b.reset();
  assert.equal(b.next(), 100, 'the first delay again (draw 0.5: no jitter)');
});

test('jitter spreads the delays of retriers that failed together', () => {
  const delays = Array.from({ length: 50 }, () => new Backoff({ initialMs: 1000, maxMs: 5000 }).next());
  assert.ok(delays.every((d) => d >= 800 && d <= 1200));
  assert.ok(new Set(delays.map((d) => Math.round(d))).size > 10, 'not all the same');
});

test('wait ends early when its signal aborts', async () => {
  const ac = new AbortController();
  const b = new Backoff({ initialMs: 60_000, maxMs: 60_000 });
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 20);
  await b.wait(ac.signal);
  assert.ok(Date.now() - t0 < 10_000);
});
