/**
 * The checkpoint write does not block the learner: a real gRPC weight fetch completes while it
 * is in flight; and a write that dies (the process killed mid-write) or fails leaves the previous
 * checkpoint as `latest`, readable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WeightServiceDefinition } from '@acereason/protocol';
import { hfPreset, loadHfModelDir, writeRandomHfModelDir, type NamedTensor } from '@acereason/policy';
import { createGrpcClient, fetchWeights, makeSnapshot, service, startGrpcServer, weightServiceHandlers, WeightStore } from '@acereason/transport';
import { tempDir } from '@acereason/testkit';
import { loadLatestCheckpoint, saveCheckpoint, type CheckpointContents, type LearnerState } from './checkpoint.js';

const state = (step: number): LearnerState => ({ runId: 'r', step, version: step, weightsSha256: '', stageIndex: 0, stageStep: step, cursors: {}, pending: [], consumedGroups: 0, rejectedGroups: 0, createdAtMs: 0 });

/** A checkpoint of a model directory's weights, with AdamW-shaped moments (m, v per weight) derived from the step. */
function contents(modelDir: string, step: number): CheckpointContents {
  const m = loadHfModelDir(modelDir);
  const moments = (k: string, t: NamedTensor): NamedTensor => ({ ...t, name: `${k}.${t.name}`, data: new Float32Array(t.data.length).fill(step + (k === 'v' ? 0.5 : 0)) });
  return { state: state(step), weights: m.weights, optimizer: { step, tensors: [...m.weights.map((t) => moments('m', t)), ...m.weights.map((t) => moments('v', t))] }, hfConfig: m.hfConfig };
}

test('a gRPC weight fetch from a real server completes while a checkpoint write is in flight', async () => {
  await using dir = await tempDir('ckpt-io-');
  // About 46 MB of weights (the first tensor 32 MiB) and 93 MB of moments.
  const model = join(dir.path, 'model');
  writeRandomHfModelDir(model, hfPreset('Qwen3-0.6B', { hidden_size: 256, intermediate_size: 768, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 64, vocab_size: 32768 }), { seed: 3 });
  const c = contents(model, 1);
  const store = new WeightStore(2);
  const served = [{ name: 'norm', dtype: 'F32', shape: [1024], data: new Uint8Array(new Float32Array(1024).fill(0.25).buffer) }];
  store.put(makeSnapshot('r', 1, served));
  await using server = await startGrpcServer({ address: '127.0.0.1:0', services: [service(WeightServiceDefinition, weightServiceHandlers(store))] });
  const client = createGrpcClient(WeightServiceDefinition, { address: server.address });
  try {
    // Connected and warm: what follows measures the write, not the first connection.
    await fetchWeights(client, { runId: 'r', version: 1, transport: 'stream' });
    const order: string[] = [];
    let fetched: Promise<unknown> | undefined;
    // The first tensor (the 32 MiB embedding) starts the fetch as the writer takes it; the second
    // marks the writer being done with it: the fetch must complete while the first one's bytes go
    // to disk (128 writes of 256 KiB into one file), not between files or after the write.
    const weights = c.weights.map((t, i) => (i > 1 ? t : {
      ...t,
      data: () => {
        if (i === 0) fetched = fetchWeights(client, { runId: 'r', version: 1, transport: 'stream' }).then(() => order.push('fetch'));
        else order.push('first tensor written');
        return t.data as Float32Array;
      },
    }));
    const written = saveCheckpoint(join(dir.path, 'ck'), { ...c, weights }, 2, { chunkBytes: 2 ** 18 }).then((d) => (order.push('write'), d));
    const ckDir = await written;
    await fetched;
    // A write that held the event loop for a tensor would let the fetch complete only later.
    assert.deepEqual(order, ['fetch', 'first tensor written', 'write']);
    const back = loadLatestCheckpoint(join(dir.path, 'ck'));
    assert.equal(back?.dir, ckDir);
    assertSameTensors(back?.weights as NamedTensor[], c.weights as NamedTensor[]);
  } finally {
    client.close();
  }
});

function assertSameTensors(got: readonly NamedTensor[], want: readonly NamedTensor[]): void {
  assert.deepEqual(got.map((t) => t.name), want.map((t) => t.name));
  got.forEach((t, i) => assert.ok(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from((want[i] as NamedTensor).data.buffer, (want[i] as NamedTensor).data.byteOffset, (want[i] as NamedTensor).data.byteLength)), t.name));
}

/**
 * The child writes checkpoint 1, then starts checkpoint 2 and stops inside it: the weights'
 * shards are on disk, the optimizer state half written (a tensor produced on demand blocks the
 * process), and it says so. It is then killed as a crashing learner would be.
 */
const CHILD = `
import { writeSync } from 'node:fs';
const [{ saveCheckpoint }, { loadHfModelDir }] = await Promise.all([import(process.env.CKPT_MODULE), import('@acereason/policy')]);
const { root, model } = JSON.parse(process.env.CKPT_ARGS);
const m = loadHfModelDir(model);
const state = (step) => ({ runId: 'r', step, version: step, weightsSha256: '', stageIndex: 0, stageStep: step, cursors: {}, pending: [], consumedGroups: 0, rejectedGroups: 0, createdAtMs: 0 });
const opt = (step, block) => ({ step, tensors: m.weights.map((t, i) => ({ name: 'm.' + t.name, shape: t.shape, data: () => {
  if (block && i === 1) { writeSync(1, 'mid-write\\n'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); }
  return new Float32Array(t.data.length).fill(step);
} })) });
await saveCheckpoint(root, { state: state(1), weights: m.weights, optimizer: opt(1, false), hfConfig: m.hfConfig }, 3);
writeSync(1, 'saved 1\\n');
await saveCheckpoint(root, { state: state(2), weights: m.weights.map((t) => ({ ...t, data: t.data.map((x) => x + 1) })), optimizer: opt(2, true), hfConfig: m.hfConfig }, 3);
writeSync(1, 'saved 2\\n');
`;

test('a learner killed mid-write, or a write that fails, leaves the previous checkpoint as latest and readable', async () => {
  await using dir = await tempDir('ckpt-kill-');
  const model = join(dir.path, 'model');
  writeRandomHfModelDir(model, hfPreset('Qwen3-0.6B', { hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, vocab_size: 300 }), { seed: 4 });
  const root = join(dir.path, 'ck');
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: new URL('.', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CKPT_MODULE: new URL('./checkpoint.js', import.meta.url).href, CKPT_ARGS: JSON.stringify({ root, model }) },
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const lines: string[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    lines.push(line);
    if (line === 'mid-write') break;
  }
  assert.deepEqual(lines, ['saved 1', 'mid-write']);
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  const partial = readdirSync(root).filter((n) => n.startsWith('.step-0000002.partial-'));
  assert.equal(partial.length, 1, readdirSync(root).join(' '));
  assert.ok(readdirSync(join(root, partial[0] as string)).includes('model.safetensors'), 'the weights were written, the optimizer state was not finished');
  const want = loadHfModelDir(model).weights;
  const back = loadLatestCheckpoint(root);
  assert.equal(back?.state.step, 1);
  assertSameTensors(back.weights as NamedTensor[], want);
  assert.equal((back.optimizer as { step: number }).step, 1);

  // In process: a write that fails (a tensor that cannot be produced) rejects, removes its partial folder, keeps latest.
  const c = contents(model, 3);
  const broken = { ...c, optimizer: { step: 3, tensors: [...c.optimizer.tensors, { name: 'bad', dtype: 'F32' as const, shape: [2], data: new Float32Array(3) }] } };
  await assert.rejects(saveCheckpoint(root, broken, 3), /bad: 3 values for shape \[2\]/);
  assert.equal(loadLatestCheckpoint(root)?.state.step, 1);
  // The next checkpoint that succeeds becomes latest and removes what the killed write left.
  await saveCheckpoint(root, c, 3);
  assert.equal(loadLatestCheckpoint(root)?.state.step, 3);
  assert.deepEqual(readdirSync(root).sort(), ['latest', 'step-0000001', 'step-0000003']);
  assert.equal(existsSync(join(root, partial[0] as string)), false);
});
