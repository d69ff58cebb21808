/**
 * The service image without a Docker engine: the Dockerfile's stages, user, healthcheck and CUDA
 * flag are checked as text, and the entrypoint and healthcheck scripts are run on this host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@acereason/testkit';
import { INFRA, ROOT, read } from './repo.js';

interface Stage { name: string; from: string; lines: string[] }

function stages(dockerfile: string): Stage[] {
  const out: Stage[] = [];
  const joined = dockerfile.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ from: from[1] ?? '', name: from[2] ?? `#${out.length}`, lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

const dockerfile = read('infra/docker/Dockerfile');
const all = stages(dockerfile);
const stage = (name: string): Stage => {
  const s = all.find((x) => x.name === name);
  assert.ok(s, `stage ${name} exists (have ${all.map((x) => x.name).join(', ')})`);
  return s;
};

test('the Dockerfile is multi-stage with cpu and cuda targets built from one build stage', () => {
  for (const name of ['deps', 'build', 'build-cuda', 'cpu', 'cuda']) stage(name);
  assert.equal(stage('build').from, 'deps');
  assert.equal(stage('build-cuda').from, 'build');
  assert.ok(stage('cpu').lines.some((l) => /^COPY --from=build\s/.test(l)), 'cpu copies the app from build');
  assert.ok(stage('cuda').lines.some((l) => /^COPY --from=build-cuda\s/.test(l)), 'cuda copies the app from build-cuda');
});

test('the CUDA target installs onnxruntime-node with its cuda12 flag; the CPU target never does', () => {
  assert.ok(stage('deps').lines.some((l) => /ONNXRUNTIME_NODE_INSTALL=skip/.test(l)), 'deps skips the download');
  assert.ok(stage('build-cuda').lines.some((l) => /ONNXRUNTIME_NODE_INSTALL=cuda12\b.*onnxruntime-node/.test(l)), 'build-cuda installs the cuda12 binaries');
  assert.ok(stage('cuda').lines.some((l) => /ACEREASON_EXECUTION_PROVIDER=cuda/.test(l)), 'cuda runs with the CUDA execution provider');
  for (const name of ['deps', 'build', 'cpu']) assert.ok(!stage(name).lines.some((l) => /cuda12/.test(l)), `${name} has no cuda12`);
});

test('both runtime targets run as a non-root user, with a healthcheck and an init', () => {
  for (const name of ['cpu', 'cuda']) {
    const s = stage(name);
    const users = s.lines.filter((l) => /^USER\s/.test(l)).map((l) => l.split(/\s+/)[1] ?? '');
    assert.ok(users.length > 0, `${name} sets USER`);
    assert.ok(!['root', '0', '0:0'].includes(users.at(-1) ?? ''), `${name} ends as a non-root user`);
    assert.ok(s.lines.some((l) => /^HEALTHCHECK\s.*CMD/.test(l)), `${name} has a HEALTHCHECK`);
    assert.ok(s.lines.some((l) => /^ENTRYPOINT\s.*tini/.test(l)), `${name} runs under tini`);
  }
});

test('every file the Dockerfile copies from the context exists; the ignore file keeps the context small', () => {
  for (const line of dockerfile.split('\n')) {
    const m = /^COPY\s+(?!--from)(?:--\S+\s+)*(.+)\s+\S+$/.exec(line.trim());
    if (!m) continue;
    for (const src of (m[1] ?? '').split(/\s+/)) assert.ok(existsSync(join(ROOT, src)), `COPY source ${src} exists`);
  }
  const ignore = read('infra/docker/Dockerfile.dockerignore');
  for (const rule of ['**/node_modules', '**/dist', '.git']) assert.ok(ignore.split('\n').includes(rule), `ignores ${rule}`);
});

test('the entrypoint adds the metrics port and the execution provider, and leaves explicit flags alone', () => {
  const script = join(INFRA, 'docker', 'entrypoint.sh');
  execFileSync('sh', ['-n', script]);
  const run = (env: Record<string, string>, args: string[]): string =>
    execFileSync('sh', [script, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ACEREASON_CLI: 'echo', ...env } }).trim();
  assert.equal(run({ ACEREASON_METRICS_PORT: '9464', ACEREASON_EXECUTION_PROVIDER: 'cuda' }, ['actor', '--run', 'r']), 'actor --run r --metrics-port 9464 --execution-provider cuda');
  assert.equal(run({ ACEREASON_METRICS_PORT: '9464', ACEREASON_EXECUTION_PROVIDER: 'cuda' }, ['actor', '--metrics-port=1', '--execution-provider', 'cpu']), 'actor --metrics-port=1 --execution-provider cpu');
  assert.equal(run({ ACEREASON_METRICS_PORT: '9464', ACEREASON_EXECUTION_PROVIDER: 'cuda' }, ['run', '--config', 'x.yaml']), 'run --config x.yaml --metrics-port 9464');
  assert.equal(run({ ACEREASON_METRICS_PORT: '9464' }, ['status', '--json']), 'status --json');
});

test('the healthcheck passes while /metrics answers and fails when it does not', async () => {
  const port = await freePort();
  const script = join(INFRA, 'docker', 'healthcheck.mjs');
  const check = async (): Promise<number> => {
    try {
      await promisify(execFile)(process.execPath, [script], { env: { ...process.env, ACEREASON_METRICS_PORT: String(port) }, timeout: 10_000 });
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? 1;
    }
  };
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/metrics' ? 200 : 404;
    res.end('acereason_step 1\n');
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  try {
    assert.equal(await check(), 0);
  } finally {
    await new Promise((r) => server.close(r));
  }
  assert.equal(await check(), 1);
});
