/**
 * Load: 10,000 queued tasks with one slow consumer among fast ones, and a pile of scored groups
 * waiting for a learner that takes its time. Held deliveries stay within `maxInFlight`, the slow
 * consumer does not hold up the others, every message is processed exactly once, and memory stays
 * bounded. ACEREASON_FUZZ_ITERATIONS sets the task count; ACEREASON_LONG=1 makes it ten times larger.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, Consumers, exampleScored, exampleTask, Streams, Subjects, type RolloutTask } from '@acereason/protocol';
import { consume, jetstreamClient, publishMessage, type MessageConsumer } from '@acereason/transport';
import { natsFixture, waitFor } from '@acereason/testkit';
import { iterations } from '../fuzz/random.js';

const RUN = 'load1';
const MB = 1024 * 1024;

/** Samples this process's RSS until stopped; returns the peak. */
function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

test('10,000 queued tasks: a slow consumer holds at most its bound, fast ones take the rest, each task once, memory bounded', async (t) => {
  const n = iterations(10_000);
  await using f = await natsFixture();
  const js = jetstreamClient(f.nc);
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    pending.push(publishMessage(js, Subjects.task(RUN, i % 2 ? 'math' : 'code'), codecs.RolloutTask, exampleTask({ runId: RUN, id: `t${i}` })));
    if (pending.length >= 256) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  assert.equal((await f.topology.jsm.streams.info(Streams.TASKS)).state.messages, n, 'all tasks queued');

  global.gc?.();
  const baseline = process.memoryUsage().rss;
  const rss = rssSampler();
  const settings = { stream: Streams.TASKS, durable: Consumers.actors(RUN), filterSubject: Subjects.tasksOfRun(RUN), codec: codecs.RolloutTask } as const;
  const seen = new Map<string, number>();
  const processedBy = new Map<string, number>();
  const maxHeld = new Map<string, number>();
  let done = 0;

  const SLOW_BOUND = 2;
  const FAST_BOUND = 32;
  const workers: { name: string; c: MessageConsumer<RolloutTask>; bound: number; holdMs: number }[] = [];
  workers.push({ name: 'slow', c: await consume(await f.connect('slow'), { ...settings, maxInFlight: SLOW_BOUND }), bound: SLOW_BOUND, holdMs: 400 });
  for (let k = 0; k < 3; k++) workers.push({ name: `fast${k}`, c: await consume(await f.connect(`fast${k}`), { ...settings, maxInFlight: FAST_BOUND }), bound: FAST_BOUND, holdMs: 0 });

  const started = Date.now();
  const loops = workers.map(async ({ name, c, bound, holdMs }) => {
    const settling: Promise<void>[] = [];
    for await (const d of c) {
      maxHeld.set(name, Math.max(maxHeld.get(name) ?? 0, c.held));
      assert.ok(c.held <= bound, `${name} holds ${c.held} > ${bound}`);
      seen.set(d.value.id, (seen.get(d.value.id) ?? 0) + 1);
      processedBy.set(name, (processedBy.get(name) ?? 0) + 1);
      const work = holdMs > 0 ? new Promise((r) => setTimeout(r, holdMs)) : Promise.resolve();
      // Work runs concurrently up to the bound; the iterator itself waits for a free slot.
      settling.push(work.then(() => d.ack()).then(() => void done++));
      if (settling.length > 64) await Promise.all(settling.splice(0, 32));
    }
    await Promise.all(settling);
  });
  await waitFor(() => done >= n, { what: `${n} tasks processed (done ${done})`, timeoutMs: 240_000, intervalMs: 100 });
  const elapsed = Date.now() - started;
  for (const w of workers) w.c.stop();
  await Promise.all(loops);
  const peak = rss.stop();

  assert.equal(seen.size, n, 'every task processed');
  const dups = [...seen.values()].filter((v) => v !== 1).length;
  assert.equal(dups, 0, 'no task processed twice');
  const slow = processedBy.get('slow') ?? 0;
  const fast = n - slow;
  // The slow one can only have done what fits in its bound over the run; the rest went to the fast ones.
  assert.ok(slow <= Math.ceil(elapsed / 400 + 1) * SLOW_BOUND, `slow processed ${slow} in ${elapsed} ms`);
  assert.ok(fast >= n * 0.9, `fast consumers processed ${fast} of ${n}`);
  assert.ok((maxHeld.get('slow') ?? 0) <= SLOW_BOUND);
  const grewMb = (peak - baseline) / MB;
  assert.ok(grewMb < 200, `RSS grew ${grewMb.toFixed(1)} MB over baseline`);
  assert.equal((await f.topology.jsm.streams.info(Streams.TASKS)).state.messages, 0, 'work queue empty');
  t.diagnostic(`load: ${n} tasks in ${elapsed} ms; processed exactly once: ${seen.size}; by consumer ${[...processedBy].map(([k, v]) => `${k}=${v}`).join(' ')}; max held ${[...maxHeld].map(([k, v]) => `${k}=${v}`).join(' ')}; RSS baseline ${(baseline / MB).toFixed(0)} MB, peak +${grewMb.toFixed(1)} MB`);
});

test('learner back-pressure: scored groups wait in SCORED while the consumer holds at most maxInFlight; all arrive once', async (t) => {
  const n = Math.max(50, Math.floor(iterations(10_000) / 20));
  const MAX = 8;
  await using f = await natsFixture();
  const js = jetstreamClient(f.nc);
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    pending.push(publishMessage(js, Subjects.scored(RUN), codecs.ScoredGroup, exampleScored({ runId: RUN, id: `s${i}`, groupSize: 8, tokensPerResponse: 256 })));
    if (pending.length >= 64) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const c = await consume(f.nc, { stream: Streams.SCORED, durable: Consumers.learner(RUN), filterSubject: Subjects.scored(RUN), codec: codecs.ScoredGroup, maxInFlight: MAX });
  const held: { ack(): Promise<void> }[] = [];
  const seen = new Map<string, number>();
  let maxHeld = 0;
  let released = false;
  let releaseNow: () => void = () => undefined;
  const gate = new Promise<void>((r) => (releaseNow = r));
  const loop = (async () => {
    for await (const d of c) {
      maxHeld = Math.max(maxHeld, c.held);
      seen.set(d.value.id, (seen.get(d.value.id) ?? 0) + 1);
      if (!released) held.push(d);
      else await d.ack();
      if (seen.size >= n) break;
    }
  })();
  // A learner busy with a long step: nothing is acked for a while.
  await waitFor(() => held.length >= MAX, { what: `${MAX} deliveries held`, timeoutMs: 20_000 });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(held.length, MAX, 'no delivery beyond the bound while the learner is busy');
  assert.equal(c.held, MAX);
  const info = await f.topology.jsm.consumers.info(Streams.SCORED, Consumers.learner(RUN));
  assert.ok(info.num_ack_pending <= MAX, `server-side ack pending ${info.num_ack_pending}`);
  assert.equal(info.num_pending, n - MAX, 'the rest waits in the stream');
  const waiting = info.num_pending;
  released = true;
  releaseNow();
  await gate;
  for (const d of held.splice(0)) await d.ack();
  await loop;
  c.stop();
  assert.equal(seen.size, n);
  assert.ok([...seen.values()].every((v) => v === 1), 'each scored group delivered once');
  assert.ok(maxHeld <= MAX);
  t.diagnostic(`back-pressure: ${n} scored groups; while busy the consumer held ${MAX} (server ack pending ${info.num_ack_pending}) and ${waiting} waited in SCORED; afterwards all ${seen.size} delivered exactly once; max held ${maxHeld}`);
});
