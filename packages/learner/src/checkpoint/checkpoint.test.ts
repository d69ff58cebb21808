import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOnnxEngine, hfPreset, loadHfModelDir, writeRandomHfModelDir } from '@acereason/policy';
import { compileRunConfig } from '../config/run-config.js';
import { createLearnerEngine } from '../setup.js';
import { checkpointContents } from './contents.js';
import { folderBytes, loadLatestCheckpoint, saveCheckpoint, type LearnerState } from './checkpoint.js';

const state = (step: number): LearnerState => ({ runId: 'r', step, version: step, weightsSha256: '', stageIndex: 0, stageStep: step, cursors: {}, pending: [], consumedGroups: 0, rejectedGroups: 0, createdAtMs: 0 });

test('a checkpoint is a sharded Hugging Face directory with sharded optimizer state; resume is exact', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ckpt-'));
  try {
    const model = join(root, 'qwen3');
    writeRandomHfModelDir(model, hfPreset('Qwen3-0.6B', { hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, vocab_size: 300 }), { seed: 5, files: { 'generation_config.json': '{"eos_token_id": [7, 8]}' } });
    writeFileSync(join(root, 'math.jsonl'), '{"id":"1","problem":"1+1","answer":"2"}\n');
    const config = compileRunConfig({ run: { id: 'r' }, model: { path: model }, datasets: { m: { path: 'math.jsonl', domain: 'math' } }, stages: [{ name: 's', dataset: 'm', steps: 2, max_response_tokens: 8 }], checkpoint: { dir: join(root, 'ck') } }, root);
    const { engine } = await createLearnerEngine(config, { fresh: true });
    try {
      const seq = { tokens: Uint32Array.from([1, 5, 9, 200, 3, 17, 4]), responseStart: 3, advantages: Float32Array.from([1, -0.5, 0.3, 2]) };
      const batch = { sequences: [seq], loss: { kind: 'pg' as const, epsLow: 0.2, epsHigh: 0.28, aggregation: 'token-mean' as const, temperature: 1 } };
      await engine.trainStep(batch);
      const c = checkpointContents(engine, config, state(1));
      // What a learner killed mid-write left (a hidden partial folder) goes with the next checkpoint.
      const stale = join(config.checkpoint.dir, '.step-0000001.partial-99999-1');
      mkdirSync(stale, { recursive: true });
      writeFileSync(join(stale, 'model-00001-of-00002.safetensors'), 'x');
      const dir = await saveCheckpoint(config.checkpoint.dir, { ...c, maxShardBytes: 60_000 }, 2);
      assert.equal(existsSync(stale), false, 'the stale partial folder is removed');
      assert.equal(folderBytes(dir), readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0));
      const files = readdirSync(dir).sort();
      assert.ok(files.includes('model.safetensors.index.json') && files.includes('optimizer.safetensors.index.json') && files.includes('config.json') && files.includes('generation_config.json'), files.join(' '));
      assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).architectures[0], 'Qwen3ForCausalLM');
      // The checkpoint loads as a model directory on its own.
      assert.equal(loadHfModelDir(dir).weights.length, engine.exportWeights().length);
      // Resume: same weights and optimizer state, and the next step is bit-identical to not stopping.
      const resumed = await createLearnerEngine(config);
      try {
        assert.equal(resumed.resume?.state.step, 1);
        assert.equal(resumed.engine.weightsSha256(), engine.weightsSha256());
        assert.deepEqual(Buffer.from(resumed.engine.saveOptimizerState()), Buffer.from(engine.saveOptimizerState()));
        const a = await engine.trainStep(batch);
        const b = await resumed.engine.trainStep(batch);
        assert.equal(b.loss, a.loss);
        assert.equal(resumed.engine.weightsSha256(), engine.weightsSha256());
      } finally {
        await resumed.engine.dispose();
      }
      // A crash mid-write leaves the previous checkpoint: the partial sibling is not `latest`.
      assert.equal(loadLatestCheckpoint(config.checkpoint.dir)?.dir, dir);
    } finally {
      await engine.dispose();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a checkpoint folder of the former layout (model.safetensors + optimizer.bin) still loads; pending steps without a stage entry get the current one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ckpt-old-'));
  try {
    const e = await createOnnxEngine({ model: { vocabSize: 40, hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, numKvHeads: 1, ropeTheta: 1e4, maxPositions: 64, rmsNormEps: 1e-6, attentionBias: true, tieEmbeddings: false }, threads: 1 });
    const dir = join(root, 'step-0000003');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.safetensors'), e.exportSafetensors());
    writeFileSync(join(dir, 'optimizer.bin'), e.saveOptimizerState());
    // Written before pending steps recorded their stage entry: step 3 of a run 2 steps into its stage.
    const pending = { step: 3, stageIndex: 1, prompts: [0], version: 3, sha256: '', retries: [0], temperature: 1 };
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ ...state(3), stageIndex: 1, stageStep: 2, pending: [pending] }));
    writeFileSync(join(root, 'latest'), 'step-0000003');
    const ck = loadLatestCheckpoint(root);
    assert.ok(ck?.weights instanceof Uint8Array && ck.optimizer instanceof Uint8Array);
    assert.deepEqual(ck.state.pending, [{ ...pending, stageEnteredAt: 1 }]);
    assert.ok(existsSync(join(dir, 'optimizer.bin')));
    await e.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
