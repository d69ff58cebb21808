/**
 * The operator CLI against a learner whose gRPC maps bearer tokens to roles (TLS, no client
 * certificates): without a token, with a wrong one, or with an actor's, every LearnerControl
 * command is refused naming why; with the operator's token (--grpc-token, or ACEREASON_GRPC_TOKEN)
 * it is served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PassThrough } from 'node:stream';
import { main } from '@acereason/cli';
import { freePort, natsFixture, spawnChild, tempDir, waitFor } from '@acereason/testkit';
import { BIN } from '../loop/fixture.js';

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL('../../../packages/cli/dist/main.js', import.meta.url));

/** The CLI's main in this process (one command at a time), with ACEREASON_GRPC_TOKEN as given. */
async function cli(args: string[], env: { ACEREASON_GRPC_TOKEN?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const before = process.env.ACEREASON_GRPC_TOKEN;
  if (env.ACEREASON_GRPC_TOKEN === undefined) delete process.env.ACEREASON_GRPC_TOKEN;
  else process.env.ACEREASON_GRPC_TOKEN = env.ACEREASON_GRPC_TOKEN;
  try {
    const code = await main(args, { stdout: out, stderr: err, stdin: new PassThrough() });
    return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
  } finally {
    if (before === undefined) delete process.env.ACEREASON_GRPC_TOKEN;
    else process.env.ACEREASON_GRPC_TOKEN = before;
  }
}

test('operator commands carry --grpc-token / ACEREASON_GRPC_TOKEN; no, wrong or an actor\'s token is refused naming the reason', { timeout: 180_000 }, async () => {
  await using dir = await tempDir();
  await using f = await natsFixture();
  const certs = join(dir.path, 'certs');
  await exec(process.execPath, [CLI, 'certs', '--out', certs]);
  const tokens = JSON.parse(readFileSync(join(certs, 'grpc-tokens.json'), 'utf8')) as Record<string, string>;
  // A run that never gets a group (no actors): the learner serves its gRPC and waits.
  writeFileSync(join(dir.path, 'math.jsonl'), '{"id":"a","problem":"1+1","answer":"2"}\n');
  const cfg = join(dir.path, 'run.yaml');
  writeFileSync(cfg, ['run:', '  id: tokens', '  out_dir: out', 'model:', '  preset: demo', '  tokenizer: char', 'datasets:', '  arith:', '    path: math.jsonl', '    domain: math',
    'stages:', '  - name: s', '    dataset: arith', '    steps: 5', '    batch_prompts: 1', '    group_size: 2', '    max_response_tokens: 8', ''].join('\n'));
  const port = await freePort();
  const learner = spawnChild({
    name: 'learner', command: process.execPath,
    args: [BIN.learner, '--config', cfg, '--nats', f.server.url, '--grpc-bind', `127.0.0.1:${port}`, '--grpc-tls-cert', join(certs, 'server.pem'), '--grpc-tls-key', join(certs, 'server-key.pem'), '--grpc-tokens', join(certs, 'grpc-tokens.json')],
    env: { ...process.env, ACEREASON_LOG_PRETTY: '0' },
  });
  try {
    const target = ['--learner', `127.0.0.1:${port}`, '--tls-ca', join(certs, 'ca.pem')];
    // Status also reads NATS (here plaintext, so that part of it reports an error; the learner part is what is checked).
    const statusTarget = [...target, '--nats', f.server.url, '--run', 'tokens'];
    const operator = tokens.operator as string;
    // The status call answers once the learner serves gRPC.
    const first = await waitFor(async () => {
      const r = await cli(['status', '--json', ...statusTarget, '--grpc-token', operator]);
      const s = JSON.parse(r.stdout || '{}') as { learner?: { runId: string } | null };
      return s.learner ? s : null;
    }, { what: 'the learner serving gRPC', timeoutMs: 90_000, intervalMs: 500 });
    assert.equal(first.learner?.runId, 'tokens');

    // Refused: no token, a wrong token, an actor's token -- each names why.
    const cases: [string, string[], { ACEREASON_GRPC_TOKEN?: string }, RegExp][] = [
      ['no token', [], {}, /permission denied: no client certificate or token, so \/acereason\.v1\.LearnerControl\/\w+ is refused/],
      ['a wrong token', ['--grpc-token', 'x'.repeat(32)], {}, /permission denied: token maps to no role/],
      ['a wrong token from the environment', [], { ACEREASON_GRPC_TOKEN: 'y'.repeat(32) }, /permission denied: token maps to no role/],
      ['the actor\'s token', ['--grpc-token', tokens.actor as string], {}, /permission denied: role "actor" may not call \/acereason\.v1\.LearnerControl\/(Pause|Resume|AdvanceStage|Checkpoint)/],
    ];
    for (const [what, flags, env, reason] of cases) {
      // Every command without a token; one that changes the run and one that does not exist for the others.
      for (const cmd of what === 'no token' ? [['pause'], ['resume'], ['stage', 'next'], ['checkpoint']] : [['pause'], ['checkpoint']]) {
        const r = await cli([...cmd, ...target, ...flags], env);
        assert.equal(r.code, 2, `${cmd.join(' ')} with ${what}: exit ${r.code}\n${r.stderr}`);
        assert.match(r.stderr, new RegExp(`refused ${cmd[0]} \\(`), `${cmd.join(' ')} with ${what}`);
        assert.match(r.stderr, reason, `${cmd.join(' ')} with ${what}`);
        assert.match(r.stderr, /--grpc-token, or ACEREASON_GRPC_TOKEN/, 'says how to pass the token');
      }
    }
    const noTokenStatus = await cli(['status', ...statusTarget]);
    assert.match(noTokenStatus.stdout, /learner at 127\.0\.0\.1:\d+ refused the status call \(refused: permission denied: no client certificate or token/);
    const noTokenJson = JSON.parse((await cli(['status', '--json', ...statusTarget])).stdout) as { learnerErrorCode: string | null };
    assert.equal(noTokenJson.learnerErrorCode, 'PERMISSION');
    assert.equal((JSON.parse((await cli(['status', '--json', ...statusTarget, '--grpc-token', tokens.actor as string])).stdout) as { learner: { runId: string } | null }).learner?.runId, 'tokens', 'an actor may read the status');

    // Served: the operator's token, by flag and from the environment.
    const paused = await cli(['pause', '--json', ...target, '--grpc-token', operator]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal((JSON.parse(paused.stdout) as { ok: boolean }).ok, true);
    const resumed = await cli(['resume', '--json', ...target], { ACEREASON_GRPC_TOKEN: operator });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((JSON.parse(resumed.stdout) as { ok: boolean }).ok, true);
    const empty = await cli(['pause', ...target, '--grpc-token', '']);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--grpc-token is empty/);
  } finally {
    await learner.stop(5000);
  }
});
