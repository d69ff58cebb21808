import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@acereason/protocol';
import { benchLong, longStepFlops, torchMode, torchStepFlops } from './long-bench.js';
import { modelConfigFromHf } from '../model/hf-config.js';
import { hfPreset } from '../model/hf-presets.js';

test('bench long --quick runs one real training step per length and reports time, tokens/s, peak RSS and FLOP/s', async () => {
  const r = await benchLong({ quick: true, layers: 2, tokens: [64, 96], steps: 1, threads: 1 });
  const rows = r.rows as Record<string, number>[];
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.ok(row.tokens_per_s! > 0 && row.peak_rss_mb! > 0 && row.matmul_fraction! > 0, JSON.stringify(row));
  }
});

test('bench long refuses a length beyond max_position_embeddings and a depth beyond the model, before any work', async () => {
  await assert.rejects(benchLong({ tokens: [40961] }), (e: unknown) => e instanceof ValidationError && e.message.startsWith("--tokens: 40961 is longer than the model's max_position_embeddings (40960)"));
  await assert.rejects(benchLong({ layers: 29, tokens: [128] }), (e: unknown) => e instanceof ValidationError && e.message.startsWith('--layers'));
});

test('step FLOPs count the recomputation: the 28-layer Qwen3-0.6B step at 8K tokens', () => {
  const c = modelConfigFromHf(hfPreset('Qwen3-0.6B'));
  const f = longStepFlops(c, 8192);
  // 4 x 2 x 440M layer matmul params x 8192 = 2.9e13; attention 28 x 9 x 16 x 128 x 8192 x 8193 = 3.5e13; head 6 x 151936 x 1024 x 8192 = 7.6e12
  assert.ok(f > 6.9e13 && f < 7.4e13, String(f));
});

test('the PyTorch step FLOPs count eager attention over the full [T, T] and the recomputation when checkpointed', () => {
  const c = modelConfigFromHf(hfPreset('Qwen3-0.6B'));
  // 2 layers at 2K: 3 x 2 x 31.5M x 2048 = 3.9e11 layer matmuls; 2 x 6 x 2 x 16 x 128 x 2048^2 = 2.1e11 attention; head 1.9e12.
  const eager = torchStepFlops({ ...c, numLayers: 2 }, 2048, false);
  assert.ok(eager > 2.4e12 && eager < 2.6e12, String(eager));
  const ck = torchStepFlops({ ...c, numLayers: 2 }, 2048, true);
  assert.ok(Math.abs(ck - eager - (2 * 31_457_280 * 2048 + 2 * 2 * 2 * 16 * 128 * 2048 ** 2)) < 1e6, String(ck - eager));
});

test('bench long --head-chunks/--backward-layers: a truncated step reports its phases and peak memory, no step time or FLOP/s; bad values refused', async () => {
  const r = await benchLong({ quick: true, layers: 3, tokens: [64], steps: 1, threads: 1, probe: { headChunks: 1, backwardLayers: 1 } });
  const row = (r.rows as Record<string, unknown>[])[0] as Record<string, unknown>;
  assert.match(String(row.truncated), /head 1 chunks, backward 1 layers/);
  assert.equal(row.tokens_per_s, undefined);
  assert.equal(row.matmul_fraction, undefined);
  const phases = (row.phases as { phase: string; max_rss_mb: number }[]).map((p) => p.phase);
  assert.deepEqual(phases, ['forward', 'head', 'backward layer 2', 'adamw'], 'the backward stops after the top layer');
  const mm = (r.flops as { ort_matmul_1024_gflops: { median: number; samples: number } }).ort_matmul_1024_gflops;
  assert.ok(mm.median > 0 && mm.samples === 2, JSON.stringify(mm));
  await assert.rejects(benchLong({ quick: true, tokens: [64], probe: { backwardLayers: 0 } }), (e: unknown) => e instanceof ValidationError && e.message.startsWith('--backward-layers'));
});

test('the PyTorch side runs eager where it fits, with per-layer activation checkpointing where only that fits, else is skipped', () => {
  const c = modelConfigFromHf(hfPreset('Qwen3-0.6B'));
  const budget = 18e9;
  assert.deepEqual(torchMode({ ...c, numLayers: 2 }, 2048, budget), { checkpoint: false });
  // 28 layers: eager keeps 28 layers of [16, T, T] scores; checkpointed, the static ~9.5 GB plus the logits fit at 1K and 2K.
  assert.deepEqual(torchMode(c, 1024, budget), { checkpoint: true });
  assert.deepEqual(torchMode(c, 2048, budget), { checkpoint: true });
  const skip = torchMode(c, 8192, budget);
  assert.ok('skip' in skip && /needs ~\d+(\.\d+)? GB with activation checkpointing \(budget 18 GB/.test(skip.skip), JSON.stringify(skip));
});

test('bench long --rounds: the sides alternate in fresh processes, per side min / median / max and the median per-round ratio (wall and CPU clock)', async () => {
  const r = await benchLong({ quick: true, torch: true, layers: 2, tokens: [64], threads: 1, rounds: 2 });
  const row = (r.rows as Record<string, unknown>[])[0] as Record<string, unknown>;
  assert.equal(row.rounds, 2);
  const ours = row.ours as { per_round: unknown[]; tokens_per_s: { min: number; median: number; max: number }; tokens_per_cpu_s: { median: number }; peak_rss_mb: number };
  const torch = row.pytorch as { per_round: unknown[]; activation_checkpointing: boolean; tokens_per_s: { median: number } };
  assert.equal(ours.per_round.length, 2);
  assert.equal(torch.per_round.length, 2);
  assert.equal(torch.activation_checkpointing, false);
  assert.ok(ours.tokens_per_s.min > 0 && ours.tokens_per_s.min <= ours.tokens_per_s.median && ours.tokens_per_s.median <= ours.tokens_per_s.max, JSON.stringify(ours.tokens_per_s));
  assert.ok(ours.tokens_per_cpu_s.median > 0 && ours.peak_rss_mb > 0 && torch.tokens_per_s.median > 0);
  const ratio = row.ratio as Record<string, { median: number; per_round: number[] }>;
  assert.equal(ratio.tokens_per_s?.per_round.length, 2);
  assert.ok(r.ratios.train_tokens_per_s_L2_T64! > 0 && r.ratios.train_tokens_per_cpu_s_L2_T64! > 0 && r.ratios.matmul_1024_L2_T64! > 0, JSON.stringify(r.ratios));
});

test('bench long --rounds refuses a truncated step and --steps (it times one full step per process)', async () => {
  await assert.rejects(benchLong({ quick: true, tokens: [64], rounds: 2, probe: { headChunks: 1 } }), (e: unknown) => e instanceof ValidationError && e.message.startsWith('--rounds'));
  await assert.rejects(benchLong({ quick: true, tokens: [64], rounds: 2, steps: 2 }), (e: unknown) => e instanceof ValidationError && e.message.startsWith('--rounds'));
  await assert.rejects(benchLong({ quick: true, tokens: [64], rounds: 0 }), (e: unknown) => e instanceof ValidationError && e.message.startsWith('--rounds'));
});
