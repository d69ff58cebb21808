import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { writeTestModelDir } from '@acereason/serve';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

test('acereason serve: a child process answers OpenAI requests with its key, and exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-serve-cli-'));
  try {
    writeTestModelDir(join(dir, 'model'), 3);
    const child = spawn(process.execPath, [MAIN, 'serve', '--model', join(dir, 'model'), '--port', '0', '--api-key-env', 'SERVE_TEST_KEY', '--name', 'tiny', '--threads', '1', '--max-batch', '8'], {
      env: { ...process.env, SERVE_TEST_KEY: 'k-0123456789abcdef' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout });
      rl.once('line', resolve);
      void exited.then((code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    const url = /at (http:\/\/\S+)/.exec(line)?.[1];
    assert.ok(url, line);
    const noKey = await fetch(`${url}/models`);
    assert.equal(noKey.status, 401);
    const r = await fetch(`${url}/completions`, { method: 'POST', headers: { authorization: 'Bearer k-0123456789abcdef', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny', prompt: 'Hi', max_tokens: 4, seed: 1 }) });
    assert.equal(r.status, 200);
    const body = await r.json() as { choices: Array<{ token_ids: number[] }> };
    assert.ok((body.choices[0]?.token_ids.length ?? 0) >= 1);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('acereason serve refuses a missing model directory, an unset key variable and an unsupported --generation-dtype, naming the flag', async () => {
  const { runCli } = await import('../run-cli.js');
  const a = await runCli(['serve', '--model', '/nonexistent-model-dir']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--model/);
  const b = await runCli(['serve', '--model', '.', '--api-key-env', 'SURELY_NOT_SET_VARIABLE']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--api-key-env/);
  const c = await runCli(['serve', '--model', '.', '--generation-dtype', 'bfloat16']);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /--generation-dtype: bfloat16 is not supported/);
  const d = await runCli(['serve', '--model', '.', '--generation-dtype', 'int8']);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /--generation-dtype: expected float32 or float16, got "int8"/);
});
