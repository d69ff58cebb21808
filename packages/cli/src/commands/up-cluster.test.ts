/**
 * `up --nats-cluster 3`: three clustered nats-servers, every service given all three URLs, streams
 * with 3 replicas, a run that steps; then `down` stops all of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { Streams } from '@acereason/protocol';
import { DEMO_MODEL, createOnnxEngine } from '@acereason/policy';
import { connectNats, drainQuietly } from '@acereason/transport';
import type { ClusterState } from '../local/cluster-state.js';
import type { RunStatus } from '../local/run-status.js';
import { isAlive } from '../local/processes.js';
import { killLeftovers, runCli } from '../run-cli.js';

test('up --nats-cluster 3: three clustered nodes, 3 replicas, the run steps, down stops every node', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-upc-'));
  const cli = (args: string[], timeoutMs = 120_000) => runCli(args, { cwd: dir, timeoutMs, env: { ...process.env, ACEREASON_LOG_PRETTY: '0' } });
  let state: ClusterState | undefined;
  try {
    writeFileSync(join(dir, 'math.jsonl'), Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: `p${i}`, problem: `${i % 5}+1`, answer: String((i % 5) + 1) })).join('\n') + '\n');
    const engine = await createOnnxEngine({ model: DEMO_MODEL, seed: 5, threads: 1 });
    writeFileSync(join(dir, 'init.safetensors'), engine.exportSafetensors());
    await engine.dispose();
    writeFileSync(join(dir, 'run.yaml'), `
run: { id: upc, seed: 3, out_dir: out }
model: { preset: demo, init: init.safetensors, tokenizer: char }
engine: { threads: 1 }
datasets:
  arith: { path: math.jsonl, domain: math, prompt_template: "q:{problem}=" }
optimizer: { lr: 0.001, weight_decay: 0 }
stages:
  - { name: tiny, dataset: arith, steps: 1000000, batch_prompts: 2, group_size: 2, max_response_tokens: 6, zero_variance_filter: false }
checkpoint: { every_steps: 1000 }
cluster: { grpc_bind: 127.0.0.1:0, ack_wait: 3s, step_timeout: 60s }
`);
    const up = await cli(['up', '--config', join(dir, 'run.yaml'), '--nats-cluster', '3', '--insecure', '--verifier-args=--domain math', '--json'], 180_000);
    assert.equal(up.code, 0, up.stderr);
    state = JSON.parse(up.stdout) as ClusterState;
    assert.deepEqual(state.services.filter((s) => s.role === 'nats').map((s) => s.name), ['nats-0', 'nats-1', 'nats-2']);
    assert.equal(state.natsUrl.split(',').length, 3);
    const nc = await connectNats({ servers: state.natsUrl, name: 'upc-check' });
    try {
      const jsm = await jetstreamManager(nc);
      for (const s of Object.values(Streams)) assert.equal((await jsm.streams.info(s)).config.num_replicas, 3, s);
    } finally {
      await drainQuietly(nc);
    }
    let status: RunStatus | undefined;
    for (let i = 0; i < 120 && (status?.learner?.step ?? 0) < 1; i++) {
      const r = await cli(['status', '--json']);
      if (r.code === 0) status = JSON.parse(r.stdout) as RunStatus;
      await sleep(500);
    }
    assert.ok((status?.learner?.step ?? 0) >= 1, `the run steps on the cluster: ${JSON.stringify(status)}`);
    const down = await cli(['down', '--json'], 120_000);
    assert.equal(down.code, 0, down.stderr);
    for (const p of state.services) assert.equal(isAlive(p.pid), false, `${p.name} is gone`);
    state = undefined;
  } finally {
    killLeftovers(state?.services); // a failed test must not leave background processes behind
    rmSync(dir, { recursive: true, force: true });
  }
});
