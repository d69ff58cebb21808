/**
 * The RL loop with actors whose rollouts come from `acereason serve` processes (engine: openai):
 * the same rewards per step as embedded actors with the same seeds; and with one server killed
 * (kill -9) mid-run and restarted on other weights, its actor retries and hands its tasks back,
 * the other takes over, the stale server is detected, and every step still has each group once,
 * with the same rewards as the undisturbed run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { natsFixture, spawnChild, tempDir, type ChildHandle } from '@acereason/testkit';
import { BIN, exitWithin, readMetrics, startLearner, startVerifier, stopAll, warmStartWeights, writeTinyRun } from './fixture.js';
import { demoDirs, demoVersion, startServeProcess, type ServeProcess } from '../rollout/serve-process.js';

const STEPS = 3;

function startActor(runId: string, nats: string, id: string, engine: string[] = []): ChildHandle {
  return spawnChild({ name: id, command: process.execPath, args: [BIN.actor, '--run', runId, '--nats', nats, '--id', id, '--ack-wait-ms', '3000', ...engine], env: { ...process.env, ACEREASON_LOG_PRETTY: '0' } });
}

// A failing server is retried for 1 s before its task goes back (a restart takes longer).
const openai = (s: ServeProcess, dir: string): string[] => ['--engine', 'openai', '--engine-url', s.url, '--engine-model', 'policy', '--engine-weights', 'acereason', '--engine-weights-dir', dir, '--engine-retry-for-ms', '1000'];

interface RunResult {
  rewards: number[];
  groups: number[];
  consumedGroups: number;
  actorOutput: string[];
}

/**
 * One tiny run (seed 11) with two actors, embedded or each on its own serve process; `disturb`
 * runs alongside (it may kill servers).
 */
interface Running {
  servers: ServeProcess[];
  actors: ChildHandle[];
  /** Starts server i again on its port, holding only the weights of `dir`. */
  restart: (i: number, dir: string) => Promise<ServeProcess>;
  dir: string;
}

async function run(runId: string, mode: 'embedded' | 'openai', disturb?: (o: Running) => Promise<void>): Promise<RunResult> {
  await using dir = await tempDir(runId);
  await using f = await natsFixture();
  const cfg = await writeTinyRun(dir.path, { runId, steps: STEPS, seed: 11 });
  const servers: ServeProcess[] = [];
  const children: ChildHandle[] = [];
  try {
    const initDir = demoDirs(join(dir.path, 'serve-init')).write(await demoVersion(0, { weights: await warmStartWeights() }));
    if (mode === 'openai') servers.push(...await Promise.all([startServeProcess(initDir, 'policy'), startServeProcess(initDir, 'policy')]));
    const learner = startLearner(cfg, f.server.url);
    children.push(learner, startVerifier(runId, f.server.url, 'ver-a'));
    const actors = [0, 1].map((i) => startActor(runId, f.server.url, `actor-${i}`, mode === 'openai' ? openai(servers[i] as ServeProcess, join(dir.path, `versions-${i}`)) : []));
    children.push(...actors);
    const restart = async (i: number, from: string): Promise<ServeProcess> => (servers[i] = await startServeProcess(from, 'policy', (servers[i] as ServeProcess).port));
    const disturbing = disturb?.({ servers, actors, restart, dir: dir.path });
    const exit = await exitWithin(learner, 240_000);
    await disturbing;
    assert.equal(exit.code, 0, learner.output.slice(-4000));
    const metrics = readMetrics(readFileSync(join(dir.path, 'out', 'metrics.jsonl'), 'utf8'));
    const ckpts = join(dir.path, 'out', 'checkpoints');
    const last = readdirSync(ckpts).filter((n) => n.startsWith('step-')).sort().at(-1) ?? '';
    const state = JSON.parse(readFileSync(join(ckpts, last, 'state.json'), 'utf8')) as { step: number; consumedGroups: number };
    assert.equal(state.step, STEPS);
    return { rewards: metrics.map((m) => m.reward_mean), groups: metrics.map((m) => m.groups), consumedGroups: state.consumedGroups, actorOutput: actors.map((a) => a.output) };
  } finally {
    await stopAll([...children, ...servers.map((s) => s.child)]);
  }
}

let reference: Promise<RunResult> | undefined;
const embeddedReference = (): Promise<RunResult> => (reference ??= run('emb-ref', 'embedded'));

test('two actors on two acereason serve processes give the same rewards per step as two embedded actors with the same seeds', async () => {
  const ref = await embeddedReference();
  const served = await run('served', 'openai');
  assert.equal(ref.rewards.length, STEPS);
  assert.deepEqual(served.rewards, ref.rewards);
  assert.deepEqual(served.groups, [4, 4, 4]);
  for (const out of served.actorOutput) assert.match(out, /inference server loaded the version/);
});

test('kill -9 of a serve process mid-run: its actor retries and hands tasks back, the other takes over, the restarted stale server is detected; nothing lost or counted twice', async () => {
  const r = await run('served-kill', 'openai', async ({ servers, actors, restart, dir }) => {
    const [a, b] = actors as [ChildHandle, ChildHandle];
    const older = demoDirs(join(dir, 'older')).write(await demoVersion(0, { seed: 99 }));
    await a.waitForOutput(/"msg":"inference server loaded the version"/, 120_000);
    // actor-1 frozen, so that actor-0 has tasks to try while its server is down.
    b.signal('SIGSTOP');
    await servers[0]?.child.kill('SIGKILL');
    // Down longer than its actor retries (1 s): its tasks go back to the queue, it takes no more.
    await a.waitForOutput(/"msg":"task failed, will be redelivered"/, 60_000);
    // Back, but on other weights (an older checkpoint it was configured with): a server left on an old version.
    await restart(0, older);
    await a.waitForOutput(/"msg":"rollout engine answers again"/, 60_000);
    // actor-1 stays frozen until actor-0 has tried a handed-back task on the restarted server and
    // found it on other weights (once actor-1 runs, it may take every task left).
    await a.waitForOutput(/inference server no longer serves the loaded version/, 60_000);
    b.signal('SIGCONT');
  });
  assert.deepEqual(r.groups, [4, 4, 4], 'every step has each prompt\'s group once');
  assert.equal(r.consumedGroups, STEPS * 4, 'consumed once each');
  const [killed] = r.actorOutput;
  assert.match(killed ?? '', /inference server call failed, retrying/);
  assert.match(killed ?? '', /task failed, will be redelivered/);
  assert.match(killed ?? '', /rollout engine answers again/);
  assert.match(killed ?? '', /inference server no longer serves the loaded version/);
  assert.deepEqual(r.rewards, (await embeddedReference()).rewards, 'the same rewards as the undisturbed run: no group was generated with the wrong weights');
});
