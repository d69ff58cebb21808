/**
 * Multi-host on one machine: NATS, the learner, two actor hosts and a verifier host each live in
 * their own network namespace with their own address on a private bridge. A short run completes
 * over those addresses; one actor host's link is cut mid-run (the run goes on) and restored (the
 * actor reconnects and rejoins).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertAvailable, natsServerBinary, skipUnlessCi, spawnChild, tempDir, waitFor, type ChildHandle } from '@acereason/testkit';
import { BIN, exitWithin, readMetrics, writeTinyRun, type MetricsLine } from '../loop/fixture.js';
import { NetnsNetwork, netnsUnavailable } from './netns.js';
import { ROOT } from './repo.js';

const unavailable = netnsUnavailable();
const RUN = 'multihost';
// A step budget the run never reaches: once the cut actor has rejoined and the run has gone on,
// an operator ends it with `acereason stage next` over the namespace network. Step times vary
// too much (0.1-3 s) for a fixed count to outlast the cut and the rejoin reliably.
const STEP_BUDGET = 1000;
const CLI = join(ROOT, 'packages/cli/dist/main.js');

function metricsOf(dir: string): MetricsLine[] {
  const path = join(dir, 'out', 'metrics.jsonl');
  return existsSync(path) ? readMetrics(readFileSync(path, 'utf8')) : [];
}

test('multi-host in network namespaces: a run completes; a cut actor host does not stop it and rejoins', { skip: skipUnlessCi(unavailable), timeout: 300_000 }, async () => {
  assertAvailable(unavailable);
  const started = Date.now();
  await using dir = await tempDir('acereason-multihost-');
  const net = new NetnsNetwork();
  const children: ChildHandle[] = [];
  const env = { ...process.env, ACEREASON_LOG_PRETTY: '0' };
  const inNs = (role: string, name: string, command: string, args: string[]): ChildHandle => {
    const c = spawnChild({ name, ...net.exec(role, command, args), env });
    children.push(c);
    return c;
  };
  try {
    net.setUp(['nats', 'learner', 'actor1', 'actor2', 'verifier']);
    const natsAddr = net.host('nats').address;
    const natsUrl = `nats://${natsAddr}:4222`;

    // NATS listens only on its namespace's address. Short server pings drop a cut client quickly,
    // so when its link returns the client's next write meets a reset and it reconnects at once.
    const store = join(dir.path, 'nats');
    mkdirSync(store, { recursive: true });
    const natsConf = join(store, 'nats.conf');
    writeFileSync(natsConf, [
      `listen: "${natsAddr}:4222"`,
      'jetstream {', `  store_dir: "${join(store, 'js')}"`, '  max_memory_store: 256MB', '  max_file_store: 1GB', '}',
      'max_payload: 8MB', 'ping_interval: "1s"', 'ping_max: 2', '',
    ].join('\n'));
    const nats = inNs('nats', 'nats', natsServerBinary(), ['-c', natsConf]);
    await nats.waitForOutput(/Server is ready/, 20_000);

    const cfg = await writeTinyRun(dir.path, { runId: RUN, steps: STEP_BUDGET, batchPrompts: 4, groupSize: 4, checkpointEvery: 100 });
    const learnerAddr = net.host('learner').address;
    const learner = inNs('learner', 'learner', process.execPath, [BIN.learner, '--config', cfg, '--nats', natsUrl, '--grpc-bind', `${learnerAddr}:0`]);
    await learner.waitForOutput(/"ready":true/, 120_000);
    const ready = /"address":"([^"]+)"/.exec(learner.output)?.[1] ?? '';
    assert.ok(ready.startsWith(`${learnerAddr}:`), `the learner advertises its namespace address (got "${ready}")`);

    const actor = (role: string): ChildHandle => inNs(role, role, process.execPath, [BIN.actor, '--run', RUN, '--nats', natsUrl, '--id', role, '--ack-wait-ms', '3000']);
    const actor1 = actor('actor1');
    actor('actor2');
    inNs('verifier', 'verifier', process.execPath, [BIN.verifier, '--run', RUN, '--nats', natsUrl, '--id', 'verifier', '--domain', 'math', '--ack-wait-ms', '3000']);

    await waitFor(() => metricsOf(dir.path).length >= 1, { what: 'the first step over the namespace network', timeoutMs: 120_000, intervalMs: 200 });
    assert.ok(!learner.output.includes('learner failed'), learner.output.slice(-2000));

    // Cut actor1's link for a while; the run must keep stepping on actor2.
    const stepsAtCut = metricsOf(dir.path).length;
    net.setLink('actor1', false);
    const cutAt = Date.now();
    await waitFor(() => metricsOf(dir.path).length > stepsAtCut || learner.output.includes('learner finished'), { what: 'a step while actor1 is cut off', timeoutMs: 40_000, intervalMs: 200 });
    await new Promise((r) => setTimeout(r, Math.max(0, 5000 - (Date.now() - cutAt))));
    const stepsDuringCut = metricsOf(dir.path).length - stepsAtCut;
    const outputAtRestore = actor1.output.length;
    net.setLink('actor1', true);

    // Rejoined = it caught up on the weights the learner published meanwhile (over gRPC) and works
    // again, whether its NATS client reconnected or its TCP connection outlived the short cut.
    await waitFor(() => actor1.output.slice(outputAtRestore).includes('"msg":"weights loaded"') || !learner.running, { what: 'actor1 loading newer weights after rejoining', timeoutMs: 30_000, intervalMs: 200 });
    assert.ok(learner.running, 'the run was still going when actor1 rejoined');
    const rejoinedAfterMs = Date.now() - cutAt;

    const stepsAtRejoin = metricsOf(dir.path).length;
    await waitFor(() => metricsOf(dir.path).length >= stepsAtRejoin + 2, { what: 'two more steps after the rejoin', timeoutMs: 60_000, intervalMs: 200 });

    // An operator on the verifier host ends the (single-stage) run over gRPC.
    const operator = inNs('verifier', 'operator', process.execPath, [CLI, 'stage', 'next', '--learner', ready]);
    const opExit = await exitWithin(operator, 60_000);
    assert.equal(opExit.code, 0, operator.output.slice(-2000));
    const exit = await exitWithin(learner, 120_000);
    assert.equal(exit.code, 0, learner.output.slice(-3000));
    assert.match(learner.output, /learner finished/);
    const metrics = metricsOf(dir.path);
    assert.deepEqual(metrics.map((m) => m.step), Array.from({ length: metrics.length }, (_, i) => i), 'every step, in order');
    assert.ok(metrics.length >= stepsAtRejoin + 2 && metrics.length < STEP_BUDGET);
    assert.ok(stepsDuringCut >= 1, 'the run kept stepping while an actor host was cut off');
    assert.ok(actor1.running, 'the cut actor survived the outage');
    assert.ok(metrics.every((m) => m.groups === 4), 'every step got all its groups');
    console.log(`# multihost: ${metrics.length} steps in ${((Date.now() - started) / 1000).toFixed(1)} s; ${stepsDuringCut} step(s) during the cut; actor1 back at work ${(rejoinedAfterMs / 1000).toFixed(1)} s after the cut (${actor1.output.slice(outputAtRestore).includes('NATS reconnected') ? 'after a NATS reconnect' : 'on its surviving connection'}); the learner counted 2 actors in ${metrics.filter((m) => m.actors === 2).length} of ${metrics.length} steps`);
  } catch (err) {
    for (const c of children) console.log(`# --- ${c.settings.name} (last output) ---\n${c.output.slice(-1500).replace(/^/gm, '# ')}`);
    throw err;
  } finally {
    await Promise.all(children.map((c) => c.stop(3000).catch(() => undefined)));
    const problems = net.tearDown();
    if (problems.length) console.log(`# netns cleanup problems: ${problems.join('; ')}`);
  }
});
