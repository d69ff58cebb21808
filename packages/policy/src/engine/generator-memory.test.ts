import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { validateModelConfig } from '../model/config.js';
import { initWeights } from '../model/params.js';
import { EMBED_TABLE_INPUT, buildGenerationGraph } from '../graphs/compile.js';
import type { ExternalData } from '../onnx/serialize.js';

// Structural guards for the generator's memory (the figures are in `bench model-run`): baked weights
// are referenced, not copied into the protobuf, and ONNX Runtime keeps one vocabulary-sized matrix
// of a tied model, not the embedding and its transpose.
const c = validateModelConfig({ vocabSize: 8192, hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, ropeTheta: 10000, maxPositions: 64, rmsNormEps: 1e-6, attentionBias: false, tieEmbeddings: true });

test('baked generation graphs reference the weights\' own buffers (external data), not copies in the protobuf', () => {
  const w = initWeights(c, 1);
  const embed = w.find((t) => t.name === 'model.embed_tokens.weight');
  assert.ok(embed);
  const external: ExternalData[] = [];
  const bytes = buildGenerationGraph(c, w, 'decode', { embedInput: true, external });
  const weightBytes = w.reduce((n, t) => n + t.data.byteLength, 0);
  assert.ok(bytes.byteLength < weightBytes / 4, `protobuf ${bytes.byteLength} bytes for ${weightBytes} bytes of weights`);
  // The 2 MiB embedding is the one initializer over 1 MiB, in its own buffer.
  assert.equal(external.length, 1);
  assert.equal(external[0]?.data.buffer, embed.data.buffer);
  assert.equal(external[0]?.data.byteLength, embed.data.byteLength);
});

test('ONNX Runtime holds one vocabulary-sized matrix for a tied model\'s baked generation graph', async () => {
  const w = initWeights(c, 1);
  const dir = mkdtempSync(join(tmpdir(), 'gen-mem-'));
  try {
    const vocabSized = async (embedInput: boolean): Promise<number> => {
      const external: ExternalData[] = [];
      const bytes = buildGenerationGraph(c, w, 'decode', { embedInput, external });
      const path = join(dir, `opt-${String(embedInput)}.onnx`);
      const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', optimizedModelFilePath: path, externalData: external, logSeverityLevel: 3 });
      assert.equal(s.inputNames.includes(EMBED_TABLE_INPUT), embedInput);
      await s.release();
      const m = onnxProto.onnx.ModelProto.decode(readFileSync(path));
      return (m.graph?.initializer ?? []).filter((t) => (t.dims ?? []).reduce((n: number, d) => n * Number(d), 1) === c.vocabSize * c.hiddenSize).length;
    };
    assert.equal(await vocabSized(true), 1);
    // The guard can fail: with the lookup reading the baked embedding, ONNX Runtime keeps it and its transpose.
    assert.equal(await vocabSized(false), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
