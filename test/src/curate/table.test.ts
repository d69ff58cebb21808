import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { warmStartWeights } from '@acereason/cli';
import { PassRateTable } from '@acereason/learner';
import { natsFixture, tempDir } from '@acereason/testkit';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

test('curate --difficulty-model --nats records pass rates in the cluster pass-rate table', async () => {
  await using dir = await tempDir();
  await using f = await natsFixture();
  const weights = join(dir.path, 'w.safetensors');
  writeFileSync(weights, await warmStartWeights());
  const out = join(dir.path, 'clean.jsonl');
  await run(process.execPath, [join(root, 'packages/cli/dist/main.js'), 'curate', 'math', '--in', join(root, 'packages/curate/fixtures/math-raw.jsonl'),
    '--out', out, '--difficulty-model', weights, '--k', '2', '--max-new-tokens', '8', '--nats', f.server.url, '--dataset', 'fixture-math'], { timeout: 120_000 });
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; pass_rate: number });
  assert.ok(rows.length > 0);
  const table = await new PassRateTable(f.topology.passRates).loadAll('fixture-math', rows.map((r) => r.id));
  for (const r of rows) {
    const rec = table.get(r.id)?.records.at(-1);
    assert.equal(rec?.attempts, 2, `${r.id} is in the table`);
    assert.equal(rec?.stage, 'curate:w.safetensors');
    assert.equal((rec?.passes ?? -1) / 2, r.pass_rate);
  }
});
