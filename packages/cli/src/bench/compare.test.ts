import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareRuns } from './compare.js';
import { runCli } from '../run-cli.js';

const run = (ratios: Record<string, number>, spread?: Record<string, { min: number; median: number; max: number }>): { suite: string; ratios: Record<string, number>; ratio_spread?: Record<string, { min: number; median: number; max: number }> } => ({ suite: 'policy', ratios, ...(spread ? { ratio_spread: spread } : {}) });

test('compareRuns: relative difference against the smaller ratio, a one-sided ratio disagrees', () => {
  const c = compareRuns(run({ a: 1, b: 2, c: 5 }), run({ a: 1.25, b: 3, d: 1 }), 0.3);
  const byName = Object.fromEntries(c.ratios.map((r) => [r.name, r]));
  assert.ok(Math.abs((byName.a?.relDiff ?? NaN) - 0.25) < 1e-12);
  assert.equal(byName.b?.relDiff, 0.5);
  assert.equal(byName.c?.relDiff, undefined);
  assert.deepEqual(c.disagree, ['b', 'c', 'd']);
  assert.throws(() => compareRuns(run({}), { suite: 'transport', ratios: {} }, 0.3), /different suites: policy and transport/);
});

test('bench compare prints every ratio of two runs with their ranges; exit 1 when one is beyond the tolerance', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-compare-'));
  try {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    writeFileSync(a, JSON.stringify(run({ decode_b1: 2, train: 0.5 }, { decode_b1: { min: 1.5, median: 2, max: 2.5 }, train: { min: 0.4, median: 0.5, max: 0.6 } })) + '\n');
    // A log line before the JSON (as when stderr went to the same file) is skipped.
    writeFileSync(b, '{"level":30,"msg":"a log line"}\n' + JSON.stringify(run({ decode_b1: 2.2, train: 0.8 })) + '\n');
    const r = await runCli(['bench', 'compare', a, b]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /decode_b1\s+2\.00 \(1\.50-2\.50\)\s+2\.20\s+10\.0%\n/);
    assert.match(r.stdout, /train\s+0\.500 \(0\.400-0\.600\)\s+0\.800\s+60\.0% {2}DISAGREE/);
    const loose = await runCli(['bench', 'compare', a, b, '--tolerance', '0.7', '--json']);
    assert.equal(loose.code, 0);
    assert.deepEqual((JSON.parse(loose.stdout) as { disagree: string[] }).disagree, []);
    const bad = await runCli(['bench', 'compare', a]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /takes two files, got 1/);
    writeFileSync(b, 'not json\n');
    const notJson = await runCli(['bench', 'compare', a, b]);
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, /b\.json.*not the JSON of `acereason bench <suite> --json`/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
