import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hfConfigFromModel, readHfAssets, readJsonFile, readSafetensors, type PolicyEngine } from '@acereason/policy';
import type { RunConfig } from '../config/run-config.js';
import type { CheckpointContents, LearnerState, OptimizerTensors } from './checkpoint.js';

/**
 * What a checkpoint holds, from the engine (its tensors as views, no copy where the engine allows)
 * and the run's model directory (config.json fields it does not compute stay as they were; the
 * tokenizer and generation files are copied, so the checkpoint is a complete model directory).
 */
export function checkpointContents(engine: PolicyEngine, config: RunConfig, state: LearnerState): CheckpointContents {
  const path = config.model.path;
  const base = path !== undefined && existsSync(join(path, 'config.json')) ? readJsonFile(path, 'config.json', true) : {};
  const optimizer: OptimizerTensors = engine.optimizerStateTensors?.() ?? fromBytes(engine.saveOptimizerState());
  return {
    state,
    weights: engine.weightViews?.() ?? engine.exportWeights(),
    optimizer,
    hfConfig: hfConfigFromModel(engine.model, base),
    ...(path === undefined ? {} : { files: readHfAssets(path).files }),
    ...(config.checkpoint.maxShardBytes === undefined ? {} : { maxShardBytes: config.checkpoint.maxShardBytes }),
  };
}

function fromBytes(b: Uint8Array): OptimizerTensors {
  const f = readSafetensors(b);
  return { step: Number(f.metadata.step ?? 0), tensors: f.tensors };
}
