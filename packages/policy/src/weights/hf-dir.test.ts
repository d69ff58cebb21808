import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AceReasonError, ValidationError } from '@acereason/protocol';
import { hfPreset } from '../model/hf-presets.js';
import { modelConfigFromHf } from '../model/hf-config.js';
import { writeRandomHfModelDir } from './random-model.js';
import { loadHfModelDir } from './hf-model-dir.js';
import { writeHfModelDir } from './hf-dir-writer.js';
import { writeSafetensorsFile } from './safetensors-writer.js';

const SMALL = { hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, vocab_size: 256 };

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hfdir-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const field = (f: string) => (e: unknown): boolean => e instanceof AceReasonError && e.field === f;

test('a sharded model directory round-trips through F32 and BF16, tensor by tensor', withDir((dir) => {
  const src = join(dir, 'src');
  writeRandomHfModelDir(src, hfPreset('Qwen3-0.6B', SMALL), { seed: 1, maxShardBytes: 40_000, files: { 'tokenizer_config.json': '{"eos_token": "<|im_end|>"}' } });
  const files = readdirSync(src).sort();
  assert.ok(files.includes('model.safetensors.index.json') && files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length >= 2, files.join(' '));
  const a = loadHfModelDir(src);
  assert.equal(a.model.qkNorm, true);
  assert.equal(a.model.headDim, 16);
  assert.ok(a.weights.some((t) => t.name === 'model.layers.1.self_attn.k_norm.weight'));
  assert.equal(a.assets.tokenizerConfig?.eos_token, '<|im_end|>');
  const bf = join(dir, 'bf16');
  writeHfModelDir(bf, { config: a.hfConfig, tensors: a.weights, dtype: 'BF16' });
  const b = loadHfModelDir(bf);
  assert.equal(JSON.parse(readFileSync(join(bf, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
  a.weights.forEach((t, i) => {
    const u = b.weights[i]?.data ?? new Float32Array();
    for (let j = 0; j < t.data.length; j++) assert.ok(Math.abs((u[j] as number) - (t.data[j] as number)) <= Math.abs(t.data[j] as number) * 2 ** -8, `${t.name}[${j}]`);
  });
  // Writing over an existing folder is refused unless asked; with replace it is atomic (no partial sibling left).
  assert.throws(() => writeHfModelDir(bf, { config: a.hfConfig, tensors: a.weights }), (e: unknown) => e instanceof AceReasonError && e.code === 'CONFLICT');
  writeHfModelDir(bf, { config: a.hfConfig, tensors: a.weights, replace: true });
  assert.deepEqual(readdirSync(dir).sort(), ['bf16', 'src']);
  assert.deepEqual(loadHfModelDir(bf).weights.map((t) => t.data), a.weights.map((t) => t.data));
}));

test('bad model directories are refused naming the file and field, before any weight is read', withDir((dir) => {
  const good = join(dir, 'good');
  writeRandomHfModelDir(good, hfPreset('Qwen2.5-0.5B', { ...SMALL, head_dim: undefined }), { seed: 2, maxShardBytes: 40_000 });
  let n = 0;
  const variant = (edit: (d: string) => void): string => {
    const d = join(dir, `v${n++}`);
    cpSync(good, d, { recursive: true });
    edit(d);
    return d;
  };
  const cfg = (d: string): Record<string, unknown> => JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
  const shards = readdirSync(good).filter((f) => f.endsWith('.safetensors')).sort();
  assert.throws(() => loadHfModelDir(join(dir, 'nope')), (e: unknown) => e instanceof AceReasonError && e.code === 'NOT_FOUND');
  assert.throws(() => loadHfModelDir(variant((d) => rmSync(join(d, 'config.json')))), field('config.json'));
  assert.throws(() => loadHfModelDir(variant((d) => writeFileSync(join(d, 'config.json'), '{"vocab_size": 3,'))), field('config.json'));
  assert.throws(() => loadHfModelDir(variant((d) => rmSync(join(d, shards[1] as string)))), field(shards[1] as string));
  assert.throws(() => loadHfModelDir(variant((d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg(d), intermediate_size: 50 })))), (e: unknown) => e instanceof ValidationError && /mlp\.(gate|up|down)_proj\.weight\.shape$/.test(e.field ?? ''));
  assert.throws(() => loadHfModelDir(variant((d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg(d), num_hidden_layers: 3 })))), field('weights:model.layers.2.input_layernorm.weight'));
  // A tensor the model would not use (a Qwen3 q_norm under a Qwen2 config) is refused, not dropped.
  assert.throws(() => loadHfModelDir(variant((d) => {
    const idx = JSON.parse(readFileSync(join(d, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    writeSafetensorsFile(join(d, 'model-extra.safetensors'), [{ name: 'model.layers.0.self_attn.q_norm.weight', shape: [8], data: new Float32Array(8) }]);
    idx.weight_map['model.layers.0.self_attn.q_norm.weight'] = 'model-extra.safetensors';
    writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify(idx));
  })), field('model-extra.safetensors:model.layers.0.self_attn.q_norm.weight'));
  assert.throws(() => loadHfModelDir(variant((d) => truncateSync(join(d, shards[0] as string), statSync(join(d, shards[0] as string)).size - 10))), (e: unknown) => e instanceof AceReasonError && e.code === 'DECODE' && e.message.startsWith(shards[0] as string));
  assert.throws(() => loadHfModelDir(variant((d) => {
    const p = join(d, shards[0] as string);
    const b = readFileSync(p);
    writeFileSync(p, Buffer.from(b.toString('latin1').replace('"dtype":"F32"', '"dtype":"I32"'), 'latin1'));
  })), (e: unknown) => e instanceof ValidationError && e.field?.startsWith(`${shards[0] as string}:`) === true && e.field.endsWith('.dtype'));
  assert.ok(existsSync(join(good, 'config.json')));
}));

test('config.json: what the model definition does not compute is refused by field', () => {
  const base = hfPreset('Llama-3.2-1B', SMALL);
  assert.equal(modelConfigFromHf(base).ropeScaling?.type, 'llama3');
  const refused: [Record<string, unknown>, string][] = [
    [{ rope_scaling: { rope_type: 'yarn', factor: 4 } }, 'config.json:rope_scaling.rope_type'],
    [{ attention_bias: true }, 'config.json:attention_bias'],
    [{ mlp_bias: true }, 'config.json:mlp_bias'],
    [{ hidden_act: 'gelu' }, 'config.json:hidden_act'],
    [{ sliding_window: 4096 }, 'config.json:sliding_window'],
    [{ architectures: ['MixtralForCausalLM'] }, 'config.json:architectures'],
    [{ num_key_value_heads: 3 }, 'config.json:num_key_value_heads'],
  ];
  for (const [o, f] of refused) assert.throws(() => modelConfigFromHf({ ...base, ...o }), field(f), JSON.stringify(o));
  assert.throws(() => modelConfigFromHf(hfPreset('Qwen3-0.6B', { use_sliding_window: true })), field('config.json:use_sliding_window'));
  assert.throws(() => modelConfigFromHf(hfPreset('Qwen3-0.6B', { architectures: ['Qwen3MoeForCausalLM'], num_experts: 128 })), field('config.json:architectures'));
  assert.throws(() => modelConfigFromHf(hfPreset('Qwen2.5-0.5B', { num_experts: 8 })), field('config.json:num_experts'));
  // The real configs of the three families map exactly.
  const q3 = modelConfigFromHf(hfPreset('Qwen3-0.6B'));
  assert.deepEqual([q3.hiddenSize, q3.headDim, q3.numHeads, q3.numKvHeads, q3.qkNorm, q3.attentionBias, q3.tieEmbeddings], [1024, 128, 16, 8, true, false, true]);
  const q2 = modelConfigFromHf(hfPreset('Qwen2.5-0.5B'));
  assert.deepEqual([q2.headDim, q2.attentionBias, q2.qkNorm, q2.ropeTheta], [64, true, false, 1e6]);
});
