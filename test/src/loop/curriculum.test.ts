import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, Subjects } from '@acereason/protocol';
import { PassRateTable } from '@acereason/learner';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { natsFixture, tempDir, type ChildHandle } from '@acereason/testkit';
import { writeTinyRun, startLearner, startActor, startVerifier, exitWithin, problems, recordPublished, stopAll } from './fixture.js';

const run = promisify(execFile);
const BIN_DIR = fileURLToPath(new URL('../../../', import.meta.url));

test('stage filters drop exactly the prompts the pass-rate table says, and the run records new rates', async () => {
  await using dir = await tempDir();
  await using f = await natsFixture();
  // The table already knows p0-p9 as always solved and p10-p19 as never solved (e.g. from an earlier run).
  const table = new PassRateTable(f.topology.passRates);
  await table.record('arith', problems(20).map((p, i) => ({ promptId: p.id, record: { stage: 'earlier', step: 0, version: 0, attempts: 16, passes: i < 10 ? 16 : 0 } })));
  const cfg = await writeTinyRun(dir.path, {
    runId: 'filtered', steps: 4,
    stageExtra: '    filter: { max_pass_rate: "6/16", drop_never_solved: true }',
  });
  const published = await recordPublished(f.nc, Subjects.trajectoriesOfDomain('filtered', 'math'));
  const learner = startLearner(cfg, f.server.url);
  const children: ChildHandle[] = [learner, startActor('filtered', f.server.url, 'actor-a'), startVerifier('filtered', f.server.url, 'ver-a')];
  try {
    const exit = await exitWithin(learner, 180_000);
    assert.equal(exit.code, 0, learner.output.slice(-3000));
    assert.match(learner.output, /"eligible":20,"dropped":\{"too_easy":10,"never_solved":10\}/);
    // Every group the run trained on came from the 20 prompts the filters kept.
    published.stop();
    const used = new Set(published.messages.map((m) => codecs.TrajectoryGroup.decode(m).promptId));
    assert.equal(used.size, 16, '4 steps x 4 prompts, no repeats within the epoch');
    for (const id of used) assert.ok(Number(id.slice(1)) >= 20, `${id} was filtered out and must not be sampled`);
    const rates = await table.loadAll('arith', [...used]);
    for (const id of used) assert.equal(rates.get(id)?.records.at(-1)?.attempts, 4, `${id} has its new record`);
    // The table is queryable from the CLI.
    const cli = await run(process.execPath, [join(BIN_DIR, 'packages/cli/dist/main.js'), 'passrates', '--dataset', 'arith', '--nats', f.server.url, '--json']);
    const q = JSON.parse(cli.stdout) as { prompts: { promptId: string; attempts: number }[] };
    assert.equal(q.prompts.length, 36, '20 known before the run + 16 sampled by it');
    assert.equal(q.prompts.find((p) => p.promptId === 'p0')?.attempts, 16);
  } finally {
    await stopAll(children);
  }
});

test('stages end by plateau of the held-out eval and by step count; evals run before, periodically and at boundaries', async () => {
  await using dir = await tempDir();
  await using f = await natsFixture();
  const cfg = await writeTinyRun(dir.path, {
    runId: 'plateau', steps: 10,
    // min_delta 1 can never be beaten: the stage must end after its second periodic evaluation.
    stageExtra: '    plateau: { dataset: held, patience: 1, min_delta: 1.0 }',
    extra: '  - { name: second, dataset: arith, steps: 1 }\neval: { datasets: [held], every_steps: 2, k: 4, temperature: 0.6 }',
  });
  const learner = startLearner(cfg, f.server.url);
  const children: ChildHandle[] = [learner, startActor('plateau', f.server.url, 'actor-a'), startVerifier('plateau', f.server.url, 'ver-a')];
  try {
    const exit = await exitWithin(learner, 180_000);
    assert.equal(exit.code, 0, learner.output.slice(-3000));
    const metrics = readFileSync(join(dir.path, 'out', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; stage: string });
    assert.deepEqual(metrics.map((m) => `${m.step}:${m.stage}`), ['0:math-tiny', '1:math-tiny', '2:math-tiny', '3:math-tiny', '4:second']);
    assert.match(learner.output, /held avg@k plateaued/);
    assert.match(learner.output, /step budget of 1 reached/);
    const evals = readFileSync(join(dir.path, 'out', 'evals.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { reason: string; prompts: number; k: number; avgAtK: number; passAtK: number; missing: number });
    assert.deepEqual(evals.map((e) => e.reason), ['before training', 'every 2 steps', 'every 2 steps', 'end of stage math-tiny', 'end of stage second']);
    for (const e of evals) {
      assert.equal(e.prompts, 8);
      assert.equal(e.missing, 0);
      assert.ok(e.avgAtK >= 0 && e.avgAtK <= e.passAtK && e.passAtK <= 1);
    }
  } finally {
    await stopAll(children);
  }
});
