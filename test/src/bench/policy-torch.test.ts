/**
 * The policy benchmark's PyTorch side on a tiny workload: the reference agrees with our engine
 * (logits parity), its static KV cache agrees with its own full forward, the sides alternate for
 * the asked rounds figure by figure, and every figure has a spread per side, a per-round ratio range
 * and a roofline, on the CPU clock (the headline at one thread) and on the wall clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchPolicy } from '@acereason/policy';
import { assertAvailable, skipUnlessCi } from '@acereason/testkit';
import { spawnSync } from 'node:child_process';

const python = '/usr/bin/python3';
const noTorch = spawnSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0 ? false : 'python3-torch is not installed (.ci/run installs it)';

interface Spread { min: number; median: number; max: number }

test('bench policy against PyTorch: parity, static cache, alternating rounds, spreads and rooflines', { skip: skipUnlessCi(noTorch), timeout: 300_000 }, async () => {
  assertAvailable(noTorch);
  const r = await benchPolicy({ rounds: 2, plan: { decodeBatches: [1, 2], newTokens: 8, trainRows: 2, trainLen: 32 } });
  const parity = r.parity as { logits_max_abs_diff: number; torch_static_cache_vs_full_forward_max_abs_diff: number };
  assert.ok(parity.logits_max_abs_diff < 1e-3, `logits parity ${parity.logits_max_abs_diff}`);
  assert.ok(parity.torch_static_cache_vs_full_forward_max_abs_diff < 1e-3, `static cache ${parity.torch_static_cache_vs_full_forward_max_abs_diff}`);
  assert.deepEqual(Object.keys(r.ratios).sort(), ['decode_b1', 'decode_b2', 'matmul_1024', 'train']);
  const rounds = r.rounds as { n: number; order: string; raw: Record<string, [number, number][]> };
  assert.equal(rounds.n, 2);
  assert.equal(rounds.order, 'alternating per figure: ours, baseline, next figure, ...');
  const config = r.config as { threads: number; clock: string };
  assert.deepEqual([config.threads, config.clock], [1, 'cpu']);
  const wall = r.wall_clock as { ratios: Record<string, number>; rounds: { raw: Record<string, [number, number][]> } };
  assert.deepEqual(Object.keys(wall.ratios).sort(), Object.keys(r.ratios).sort());
  for (const pairs of Object.values(wall.rounds.raw)) assert.equal(pairs.length, 2);
  for (const [k, pairs] of Object.entries(rounds.raw)) {
    assert.equal(pairs.length, 2, `${k}: one pair per round`);
    for (const [a, b] of pairs) assert.ok(a > 0 && b > 0, `${k}: both sides measured`);
  }
  const spreads = r.ratio_spread as Record<string, Spread>;
  for (const [k, s] of Object.entries(spreads)) {
    assert.ok(s.min <= s.median && s.median <= s.max, `${k}: min <= median <= max`);
    assert.equal(r.ratios[k], s.median);
  }
  const torch = r.pytorch as { blas: string; threads: number; spread: Record<string, Spread> };
  assert.equal(torch.threads, 1, 'PyTorch runs at the same thread count');
  assert.ok(torch.spread.train && torch.spread.train.median > 0);
  const roof = r.roofline as { ours: Record<string, unknown>; pytorch: Record<string, { fraction: number } | number>; notes: string[] };
  for (const k of ['decode_b1', 'decode_b2', 'train']) {
    const v = roof.pytorch[k];
    assert.ok(typeof v === 'object' && v.fraction > 0 && v.fraction < 1, `pytorch ${k} fraction of its own matmul`);
  }
  assert.ok(Array.isArray(roof.notes));
});
