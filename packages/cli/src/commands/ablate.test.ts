import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { natsServerVersion } from '@acereason/transport';
import { assertAvailable, skipUnlessCi } from '@acereason/testkit';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../main.js', import.meta.url));
const NO_NATS = natsServerVersion() === undefined && 'nats-server is not installed';

test('acereason ablate math-to-code --quick runs a real arm through the cluster and prints the findings JSON', { skip: skipUnlessCi(NO_NATS), timeout: 300_000 }, async () => {
  assertAvailable(NO_NATS);
  const dir = mkdtempSync(join(tmpdir(), 'acereason-ablate-'));
  const out = join(dir, 'ab');
  try {
    const r = await run(process.execPath, [BIN, 'ablate', 'math-to-code', '--quick', '--seeds', '1', '--json', '--out', out], { timeout: 280_000, maxBuffer: 16 * 1024 * 1024 });
    const j = JSON.parse(r.stdout) as { findings: Record<string, unknown>[] };
    assert.equal(j.findings.length, 1);
    const f = j.findings[0] as { name: string; unit: string; seeds: number[]; arms: { name: string; metric: string; mean: number; std: number; per_seed: number[] }[]; effect: number; noise: number | null; reproduced: boolean };
    assert.deepEqual(Object.keys(f).sort(), ['arms', 'claim', 'effect', 'name', 'noise', 'reproduced', 'seeds', 'test', 'unit', 'vs']);
    assert.equal(f.name, 'math-to-code');
    assert.equal(f.unit, 'accuracy');
    assert.deepEqual(f.seeds, [1]);
    assert.deepEqual(f.arms.map((a) => a.name), ['after-math', 'before-rl']);
    // the numbers are this run's: read them back from its evals.jsonl
    const evals = readFileSync(join(out, 'math-to-code', 'after-math', 'seed-1', 'evals.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { dataset: string; avgAtK: number; trigger: { kind: string; stage?: string } });
    const code = evals.filter((e) => e.dataset === 'code_eval');
    assert.equal(f.arms[1]?.per_seed[0], code.find((e) => e.trigger.kind === 'before-training')?.avgAtK);
    assert.equal(f.arms[0]?.per_seed[0], code.find((e) => e.trigger.kind === 'stage-end' && e.trigger.stage === 'math-64')?.avgAtK);
    assert.equal(f.effect, (f.arms[0]?.mean ?? NaN) - (f.arms[1]?.mean ?? NaN));
    assert.equal(f.noise, null, 'one seed has no spread');
    assert.equal(f.reproduced, false, 'and so proves nothing');
    assert.ok(existsSync(join(out, 'ablate.json')));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const id of ['math-to-code-entropy', 'math-to-code-reward', 'math-to-code-heldout']) assert.match(html, new RegExp(`id="${id}"`));
    assert.match(html, /class="band"/, 'seeds drawn as a band');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('acereason ablate refuses what it cannot test: fewer than 3 seeds, an unknown name', async () => {
  const refused = async (args: string[], re: RegExp): Promise<void> => {
    await assert.rejects(run(process.execPath, [BIN, 'ablate', ...args], { timeout: 60_000 }), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, re);
      return true;
    });
  };
  await refused(['curriculum', '--seeds', '2'], /--seeds: at least 3 seeds per arm \(got 2\)/);
  await refused(['nope'], /unknown finding "nope"/);
});
