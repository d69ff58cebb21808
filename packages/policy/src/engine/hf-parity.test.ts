import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hfPreset } from '../model/hf-presets.js';
import type { HfPreset } from '../model/hf-presets.js';
import { writeRandomHfModelDir } from '../weights/random-model.js';
import { loadHfModelDir } from '../weights/hf-model-dir.js';
import { buildLogitsGraph } from '../graphs/compile.js';
import { createSession, outF32 } from '../runtime/session.js';
import { paramFeeds } from '../train/trainer.js';
import { sequenceFeeds } from './batching.js';
import { createOnnxEngine } from './onnx-engine.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../bench/hf_logits.py', import.meta.url));
const torchMissing = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status !== 0;

// Real config.json values at reduced depth and width (and a 4,096 vocabulary), so each runs in seconds.
const CASES: [string, HfPreset, Record<string, unknown>][] = [
  ['Qwen3 (q_norm/k_norm, head_dim != hidden/heads, tied)', 'Qwen3-0.6B', { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32, vocab_size: 4096 }],
  ['Qwen2.5 (q/k/v bias, tied)', 'Qwen2.5-0.5B', { hidden_size: 96, intermediate_size: 160, num_hidden_layers: 2, num_attention_heads: 6, num_key_value_heads: 2, vocab_size: 4096 }],
  ['Qwen2.5 (q/k/v bias, untied head)', 'Qwen2.5-0.5B', { hidden_size: 96, intermediate_size: 160, num_hidden_layers: 2, num_attention_heads: 6, num_key_value_heads: 2, vocab_size: 4096, tie_word_embeddings: false }],
  // original_max_position_embeddings 32 puts the rotary frequencies of a 16-wide head in all three llama3 bands.
  ['Llama 3.2 (llama3 rope scaling, tied)', 'Llama-3.2-1B', { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, vocab_size: 4096, rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 32, rope_type: 'llama3' } }],
];

for (const [label, preset, overrides] of CASES) {
  test(`logits parity with PyTorch: ${label}`, { skip: torchMissing ? 'python3-torch is not installed' : false }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parity-'));
    try {
      const model = join(dir, 'model');
      // Random weights written as two shards (index + model-0000i-of-00002), larger than HF's std so logits are O(1).
      writeRandomHfModelDir(model, hfPreset(preset, overrides), { seed: 7, std: 0.1, maxShardBytes: 2 ** 20 });
      const hf = loadHfModelDir(model);
      const c = hf.model;
      const engine = await createOnnxEngine({ model: c, weights: hf.weights, threads: 1 });
      try {
        // Greedy generation through the packed prefill/decode graphs and the KV cache...
        const prompts = [Uint32Array.from([5, 900, 17, 3000, 42, 8]), Uint32Array.from([4000, 3, 3, 77, 1024, 511])];
        const gen = await engine.generate(prompts.map((p, i) => ({ sampleKey: `p${i}`, promptTokens: p, numSamples: 1, seed: 0, sampling: { temperature: 0, topP: 1, topK: 0, maxNewTokens: 14, stopTokens: [] } })));
        const seqs = prompts.map((p, i) => Uint32Array.from([...p, ...(gen[i]?.tokens ?? [])]));
        const T = seqs[0]?.length ?? 0;
        assert.ok(seqs.every((s) => s.length === T) && T === 20);
        const ids = new Int32Array(seqs.length * T);
        seqs.forEach((s, b) => ids.set(s, b * T));
        writeFileSync(join(dir, 'ids.bin'), ids);
        const r = spawnSync(PYTHON, [SCRIPT, model, join(dir, 'ids.bin'), String(seqs.length), String(T), join(dir, 'logits.bin')], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const ref = new Float32Array(readFileSync(join(dir, 'logits.bin')).buffer.slice(0));
        // ...and the full-sequence logits graph (what scoring and training compute).
        const session = await createSession(buildLogitsGraph(c), { executionProvider: 'cpu', threads: 1 });
        const { feeds } = sequenceFeeds(c, seqs);
        delete feeds.targets;
        const ours = outF32(await session.run({ ...feeds, ...paramFeeds(hf.weights) }), 'logits');
        await session.release();
        assert.equal(ours.length, ref.length);
        let maxDiff = 0;
        let maxAbs = 0;
        for (let i = 0; i < ref.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs((ours[i] as number) - (ref[i] as number)));
          maxAbs = Math.max(maxAbs, Math.abs(ref[i] as number));
        }
        assert.ok(maxAbs > 1, `logits should be O(1), max |logit| ${maxAbs}`);
        assert.ok(maxDiff < 1e-4, `max |logit diff| ${maxDiff}`);
        // Generated logprobs (temperature 0 reports the untempered distribution) against PyTorch's log-softmax.
        const V = c.vocabSize;
        let lpDiff = 0;
        gen.forEach((g, b) => {
          g.tokens.forEach((tok, j) => {
            const row = (b * T + prompts[b]!.length - 1 + j) * V;
            let mx = -Infinity;
            for (let v = 0; v < V; v++) mx = Math.max(mx, ref[row + v] as number);
            let z = 0;
            for (let v = 0; v < V; v++) z += Math.exp((ref[row + v] as number) - mx);
            let arg = 0;
            for (let v = 1; v < V; v++) if ((ref[row + v] as number) > (ref[row + arg] as number)) arg = v;
            assert.equal(tok, arg, `greedy token ${j} of row ${b}`);
            lpDiff = Math.max(lpDiff, Math.abs((g.logprobs[j] as number) - ((ref[row + tok] as number) - mx - Math.log(z))));
          });
        });
        assert.ok(lpDiff < 1e-4, `max |generated logprob diff| ${lpDiff}`);
      } finally {
        await engine.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
