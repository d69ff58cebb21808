#!/usr/bin/env node
// The learner's memory phase by phase, in this one process, with the learner's own parts: a
// random-weight Qwen3-0.6B-shaped model directory (bf16) loaded as the learner loads it, the
// engine adopting its buffers, PolicyVersions publishing each version on a real nats-server
// (served as the learner serves them, strictly on-policy), probe scoring, two train steps
// (beforeUpdate first, as the learner calls it), and a checkpoint write. Prints one JSON line per
// phase: VmRSS, the phase's peak (VmHWM, reset between phases through /proc/self/clear_refs) and
// RssAnon in MiB, and the peak in bytes per parameter. Linux only (reads /proc/self/status).
// Usage: node packages/learner/bench/memory-phases.mjs [--layers 4] [--vocab 16384]
//   (--layers 28 --vocab 151936 is the full Qwen3-0.6B: ~11 GB)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createOnnxEngine, hfPreset, loadHfModelDir, modelConfigFromHf, paramSpecs, writeRandomHfModelDir } from '@acereason/policy';
import { jetstreamClient } from '@acereason/transport';
import { natsFixture } from '@acereason/testkit';
import { PolicyVersions, servedVersions } from '../dist/versions/policy-versions.js';
import { saveCheckpoint } from '../dist/checkpoint/checkpoint.js';

const { values } = parseArgs({ options: { layers: { type: 'string', default: '4' }, vocab: { type: 'string', default: '16384' } } });
const layers = Number(values.layers);
const vocab = Number(values.vocab);
const hf = hfPreset('Qwen3-0.6B', { num_hidden_layers: layers, vocab_size: vocab });
const model = modelConfigFromHf(hf);
const params = paramSpecs(model).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
const mib = (k) => Number(readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${k}:\\s+(\\d+)`))?.[1] ?? NaN) / 1024;
const phase = (name, extra = {}) => {
  const hwm = mib('VmHWM');
  console.log(JSON.stringify({ phase: name, rss_mib: Math.round(mib('VmRSS')), peak_mib: Math.round(hwm), anon_mib: Math.round(mib('RssAnon')), peak_bytes_per_param: +((hwm * 2 ** 20) / params).toFixed(2), ...extra }));
  writeFileSync('/proc/self/clear_refs', '5');
};

const root = mkdtempSync(join(tmpdir(), 'acereason-learner-memory-'));
try {
  const dir = join(root, 'model');
  writeRandomHfModelDir(dir, hf, { seed: 1, dtype: 'BF16', maxShardBytes: 2 ** 30 });
  console.log(JSON.stringify({ layers, vocab, parameters: params, fp32_mib: Math.round((params * 4) / 2 ** 20), static_16_bytes_mib: Math.round((params * 16) / 2 ** 20) }));
  const f = await natsFixture();
  try {
  writeFileSync('/proc/self/clear_refs', '5');
  phase('start');
  const { weights } = loadHfModelDir(dir);
  phase('model directory loaded');
  const engine = await createOnnxEngine({ model, weights, adoptWeights: true });
  phase('engine');
  const versions = new PolicyVersions({ runId: 'mem', engine, js: jetstreamClient(f.nc), topology: f.topology, served: servedVersions(0) }, { version: 0, sha256: '' });
  versions.serveAt('127.0.0.1:0');
  await versions.publish(0);
  phase('version 0 published (hashed, served, probe scored)');
  const batch = {
    sequences: [0, 1, 2, 3].map((k) => ({ tokens: Uint32Array.from({ length: 30 }, (_, i) => (i * 31 + k * 17) % vocab), responseStart: 26, advantages: new Float32Array(4).fill(k % 2 ? 1 : -1) })),
    loss: { kind: 'pg', epsLow: 0.2, epsHigh: 0.28, entropyCoef: 0.01, aggregation: 'token-mean' },
  };
  for (let step = 0; step < 2; step++) {
    versions.beforeUpdate();
    const r = await engine.trainStep(batch);
    phase(`train step ${step}`, { seconds: +r.seconds.toFixed(1) });
    await versions.publish(step + 1);
    phase(`version ${step + 1} published`);
  }
  const t0 = performance.now();
  saveCheckpoint(join(root, 'checkpoints'), {
    state: { runId: 'mem', step: 2, version: 2, weightsSha256: versions.sha256, stageIndex: 0, stageStep: 2, cursors: {}, pending: [], consumedGroups: 4, rejectedGroups: 0, createdAtMs: 0 },
    weights: engine.weightViews(), optimizer: engine.optimizerStateTensors(), hfConfig: hf,
  }, 1);
  phase('checkpoint written', { seconds: +((performance.now() - t0) / 1000).toFixed(1) });
  await engine.dispose();
  } finally {
    await f[Symbol.asyncDispose]();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
