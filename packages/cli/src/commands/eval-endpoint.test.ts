/**
 * `acereason eval --endpoint`: a checkpoint served by a real `acereason serve` process is judged
 * by the run's verifiers with the same avg@k and pass@k (the same samples, with acereason serve's
 * API keying the sampler as the embedded engine) as `eval --checkpoint` on the same weights; the
 * plain OpenAI completions API (token-id prompts) evaluates it too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VersionDirs } from '@acereason/actor';
import { charTokenizerFiles, createOnnxEngine, DEMO_ALPHABET, DEMO_MODEL } from '@acereason/policy';
import { spawnChild, tempDir } from '@acereason/testkit';
import { smallSums, warmStartWeights, WARM_PROMPT_TEMPLATE } from '../local/warm-start.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

interface EvalJson {
  domains: Array<{ domain: string; prompts: number; avgAtK: number; passAtK: number }>;
  prompts: Array<{ id: string; n: number; correct: number }>;
}

test('eval --endpoint over acereason serve gives eval --checkpoint\'s avg@k and pass@k; the plain completions API evaluates it too', async () => {
  await using dir = await tempDir('eval-endpoint');
  const weights = await warmStartWeights({ steps: 20 });
  writeFileSync(join(dir.path, 'ckpt.safetensors'), weights);
  const e = await createOnnxEngine({ model: DEMO_MODEL, weights, threads: 1 });
  const modelDir = new VersionDirs(join(dir.path, 'served'), DEMO_MODEL, charTokenizerFiles(DEMO_ALPHABET)).write({ version: 0, weightsSha256: e.weightsSha256(), tensors: e.exportWeights() });
  await e.dispose();
  writeFileSync(join(dir.path, 'data.jsonl'), smallSums(8).map((p) => JSON.stringify(p)).join('\n') + '\n');
  const serve = spawnChild({ name: 'serve', command: process.execPath, args: [MAIN, 'serve', '--model', modelDir, '--name', 'ckpt', '--port', '0', '--threads', '1'] });
  try {
    const url = (await serve.waitForOutput(/at (http:\/\/\S+)\/v1/, 60_000))[1] as string;
    const common = ['--data', join(dir.path, 'data.jsonl'), '--k', '2', '--n', '4', '--max-tokens', '12', '--temperature', '1', '--prompt-template', WARM_PROMPT_TEMPLATE, '--seed', '5', '--json'];
    const [local, served, plain] = await Promise.all([
      cli(['eval', '--checkpoint', join(dir.path, 'ckpt.safetensors'), ...common]),
      cli(['eval', '--endpoint', url, '--endpoint-api', 'acereason', ...common]),
      cli(['eval', '--endpoint', `${url}/v1`, '--model', 'ckpt', ...common]),
    ]);
    for (const r of [local, served, plain]) assert.equal(r.code, 0, r.err);
    const [a, b, c] = [local, served, plain].map((r) => JSON.parse(r.out) as EvalJson);
    assert.ok(a && b && c);
    assert.ok((a.domains[0]?.avgAtK ?? 0) > 0, 'the warm-started checkpoint solves some prompts');
    assert.deepEqual(b.prompts, a.prompts, 'the same outcome per prompt');
    assert.deepEqual(b.domains, a.domains);
    assert.equal(c.prompts.length, 8);
    assert.ok(c.prompts.every((p) => p.n === 4));
    const bad = await cli(['eval', '--endpoint', url, '--checkpoint', join(dir.path, 'ckpt.safetensors'), ...common]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /exactly one of --checkpoint and --endpoint/);
  } finally {
    await serve.stop(3000);
  }
});
