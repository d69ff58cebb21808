import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { weightsSha256 } from './hash.js';
import { selectModelWeights } from './hf.js';
import { initWeights, paramSpecs } from '../model/params.js';
import { DEMO_MODEL, validateModelConfig } from '../model/config.js';
import { modelConfigFromHf } from '../model/hf-config.js';
import { ValidationError, sha256Hex, weightsDigest } from '@acereason/protocol';
import { loadHfCheckpoint } from './checkpoint.js';
import { createOnnxEngine } from '../engine/onnx-engine.js';

test('safetensors round-trip keeps names, shapes, bytes and metadata; the hash is the protocol digest', () => {
  const c = validateModelConfig(DEMO_MODEL);
  const w = initWeights(c, 9);
  const bytes = writeSafetensors(w, { note: 'x' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLen) % 8, 0);
  const back = readSafetensors(bytes);
  assert.equal(back.metadata.note, 'x');
  assert.deepEqual(back.tensors.map((t) => t.name), w.map((t) => t.name));
  back.tensors.forEach((t, i) => assert.deepEqual(Buffer.from(t.data.buffer), Buffer.from((w[i]?.data ?? new Float32Array()).buffer)));
  assert.equal(weightsSha256(back.tensors), weightsSha256(w));
  assert.equal(weightsSha256(w), weightsDigest(w.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, sha256: sha256Hex(new Uint8Array(t.data.buffer)) }))));
  const changed = back.tensors.map((t, i) => (i === 0 ? { ...t, data: t.data.map((x, j) => (j === 0 ? x + 1e-6 : x)) } : t));
  assert.notEqual(weightsSha256(changed), weightsSha256(w));
});

test('reads F16 and BF16 tensors as float32', () => {
  const header = JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] } });
  const hb = Buffer.from(header);
  const buf = new Uint8Array(8 + hb.length + 6);
  const dv = new DataView(buf.buffer);
  dv.setBigUint64(0, BigInt(hb.length), true);
  buf.set(hb, 8);
  dv.setUint16(8 + hb.length, 0x3c00, true); // 1.0
  dv.setUint16(8 + hb.length + 2, 0xc000, true); // -2.0
  dv.setUint16(8 + hb.length + 4, 0x4049, true); // ~3.14
  const t = readSafetensors(buf).tensors;
  assert.deepEqual([...(t.find((x) => x.name === 'h')?.data ?? [])], [1, -2]);
  assert.ok(Math.abs((t.find((x) => x.name === 'b')?.data[0] ?? 0) - 3.140625) < 1e-6);
});

test('Hugging Face Qwen2 config and parameter names', () => {
  const c = modelConfigFromHf({ architectures: ['Qwen2ForCausalLM'], vocab_size: 100, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, rope_theta: 1e6, max_position_embeddings: 256, rms_norm_eps: 1e-6, tie_word_embeddings: true });
  assert.equal(c.attentionBias, true);
  assert.equal(c.headDim, 8);
  const names = paramSpecs(c).map((p) => p.name);
  assert.ok(names.includes('model.layers.1.self_attn.k_proj.bias'));
  assert.ok(names.includes('model.layers.0.mlp.down_proj.weight'));
  assert.ok(!names.includes('lm_head.weight'));
  // A checkpoint with extra tensors (a tied model that still ships lm_head) loads; a wrong shape names the tensor.
  const w = initWeights(c, 1);
  const extra = [...w, { name: 'lm_head.weight', dtype: 'F32' as const, shape: [100, 32], data: new Float32Array(3200) }];
  assert.equal(selectModelWeights(c, extra).length, w.length);
  const bad = w.map((t) => (t.name === 'model.norm.weight' ? { ...t, shape: [31] } : t));
  assert.throws(() => selectModelWeights(c, bad), (e: unknown) => e instanceof ValidationError && e.field === 'weights.model.norm.weight');
});

test('an HF checkpoint split over shards loads into an engine', async () => {
  const hfConfig = { architectures: ['LlamaForCausalLM'], vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, rms_norm_eps: 1e-5, rope_theta: 500000, max_position_embeddings: 64, tie_word_embeddings: false, hidden_act: 'silu' };
  const c = modelConfigFromHf(hfConfig);
  assert.equal(c.attentionBias, false);
  const w = initWeights(c, 2);
  const shards = [writeSafetensors(w.slice(0, 4)), writeSafetensors([...w.slice(4), { name: 'model.layers.0.self_attn.rotary_emb.inv_freq', dtype: 'F32', shape: [4], data: new Float32Array(4) }])];
  const ck = loadHfCheckpoint(JSON.stringify(hfConfig), shards);
  assert.equal(weightsSha256(ck.weights), weightsSha256(w));
  const e = await createOnnxEngine({ model: ck.model, weights: ck.weights, threads: 1 });
  try {
    assert.equal(e.weightsSha256(), weightsSha256(w));
    const out = await e.generate([{ sampleKey: 't', promptTokens: Uint32Array.from([1, 2, 3]), numSamples: 1, seed: 0, sampling: { temperature: 0, topP: 1, topK: 0, maxNewTokens: 3, stopTokens: [] } }]);
    assert.equal(out[0]?.tokens.length, 3);
  } finally {
    await e.dispose();
  }
  assert.throws(() => modelConfigFromHf({ ...hfConfig, rope_scaling: { rope_type: 'yarn', factor: 4 } }), (e: unknown) => e instanceof ValidationError && e.field === 'config.json:rope_scaling.rope_type');
});

test('config validation names the field', () => {
  assert.throws(() => validateModelConfig({ ...DEMO_MODEL, numKvHeads: 3 }), (e: unknown) => e instanceof ValidationError && e.field === 'model.numKvHeads');
  assert.throws(() => validateModelConfig({ ...DEMO_MODEL, vocabSize: 0 }), (e: unknown) => e instanceof ValidationError && e.field === 'model.vocabSize');
  assert.throws(() => validateModelConfig({ ...DEMO_MODEL, headDim: 7 }), (e: unknown) => e instanceof ValidationError && e.field === 'model.headDim');
});
