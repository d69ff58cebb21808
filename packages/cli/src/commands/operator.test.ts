/**
 * The operator commands against real processes: `up` a tiny run in the background (secured by
 * default: TLS, a NATS user per role, mutual TLS on the learner's gRPC), check that it refuses
 * clients without credentials, look at it with `status --json`, pause/resume, checkpoint, scrape a
 * worker's Prometheus endpoint, read its logs, evaluate the checkpoint, then `down`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LearnerControlDefinition } from '@acereason/protocol';
import { DEMO_MODEL, createOnnxEngine } from '@acereason/policy';
import { freePort } from '@acereason/testkit';
import { connectNats, createGrpcClient, drainQuietly } from '@acereason/transport';
import type { RunStatus } from '../local/run-status.js';
import type { ClusterState } from '../local/cluster-state.js';
import { isAlive } from '../local/processes.js';
import { killLeftovers, runCli, type CliRun } from '../run-cli.js';


const cli = (cwd: string, args: string[], timeoutMs = 120_000): Promise<CliRun> => runCli(args, { cwd, timeoutMs, env: { ...process.env, ACEREASON_LOG_PRETTY: '0' } });

function problems(n: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ id: `p${i}`, problem: `${i % 5}+${(i * 3) % 5}`, answer: String((i % 5) + ((i * 3) % 5)) })).join('\n') + '\n';
}

/**
 * A run that keeps going so it can be paused and checkpointed while it runs. Its steps are tiny and
 * fast: a stage must not end by itself before the test moves it on with `stage next`.
 */
async function writeRun(dir: string): Promise<string> {
  writeFileSync(join(dir, 'math.jsonl'), problems(20));
  const engine = await createOnnxEngine({ model: DEMO_MODEL, seed: 5, threads: 1 });
  writeFileSync(join(dir, 'init.safetensors'), engine.exportSafetensors());
  await engine.dispose();
  writeFileSync(join(dir, 'run.yaml'), `
run: { id: cli-ops, seed: 3, out_dir: out }
model: { preset: demo, init: init.safetensors, tokenizer: char }
engine: { threads: 1 }
datasets:
  arith: { path: math.jsonl, domain: math, prompt_template: "q:{problem}=" }
optimizer: { lr: 0.001, weight_decay: 0 }
stages:
  - { name: tiny, dataset: arith, steps: 1000000, batch_prompts: 2, group_size: 2, max_response_tokens: 8, zero_variance_filter: false }
  - { name: tiny-long, dataset: arith, steps: 1000000, max_response_tokens: 12 }
checkpoint: { every_steps: 1000 }
cluster: { grpc_bind: 127.0.0.1:0, ack_wait: 3s, step_timeout: 60s }
`);
  return join(dir, 'run.yaml');
}

async function statusUntil(cwd: string, ok: (s: RunStatus) => boolean, what: string, timeoutMs = 90_000): Promise<RunStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: RunStatus | undefined;
  while (Date.now() < deadline) {
    const r = await cli(cwd, ['status', '--json']);
    if (r.code === 0) {
      last = JSON.parse(r.stdout) as RunStatus;
      if (ok(last)) return last;
    }
    await sleep(500);
  }
  throw new Error(`${what}: not seen within ${timeoutMs} ms; last status: ${JSON.stringify(last)}`);
}

test('without a cluster, status and down say what to do in one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-cli-'));
  try {
    for (const args of [['status'], ['down'], ['pause'], ['logs']]) {
      const r = await cli(dir, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /no cluster|not given/);
      assert.match(r.stderr, /acereason up --config run\.yaml/);
      assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr);
    }
    const st = await cli(dir, ['stage']);
    assert.equal(st.code, 2);
    assert.match(st.stderr, /say which stage: `stage next` or `stage NAME`/);
    // A readable data file: eval reads its data before it looks for the checkpoint.
    writeFileSync(join(dir, 'x.jsonl'), problems(1));
    const e = await cli(dir, ['eval', '--checkpoint', join(dir, 'nope'), '--data', 'x.jsonl', '--k', '2']);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /--checkpoint: .*nope does not exist\n.*checkpoint folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('up, status, pause/resume, checkpoint, stage next, metrics, logs, eval, report, down', { timeout: 360_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-cli-'));
  let state: ClusterState | undefined;
  try {
    const config = await writeRun(dir);
    const metricsPort = await freePort();
    const up = await cli(dir, ['up', '--config', config, '--actors', '1', '--verifiers', '1', '--metrics-port', String(metricsPort),
      '--actor-args=--ack-wait-ms 3000', '--verifier-args=--domain math --ack-wait-ms 3000', '--json'], 180_000);
    assert.equal(up.code, 0, up.stderr);
    state = JSON.parse(up.stdout) as ClusterState;
    assert.equal(state.runId, 'cli-ops');
    assert.deepEqual(state.services.map((s) => s.name), ['nats', 'learner', 'actor-0', 'verifier-0']);
    assert.ok(existsSync(join(dir, '.acereason', 'current')));
    assert.ok(existsSync(join(dir, 'out', 'cluster.json')));
    assert.equal(state.certDir, join(dir, 'out', 'certs'));
    assert.equal(state.learnerTls, true);
    const ca = join(dir, 'out', 'certs', 'ca.pem');

    // Without credentials NATS refuses the connection (over TLS, so the refusal is about auth) ...
    await assert.rejects(connectNats({ servers: state.natsUrl, tls: { ca }, connectTimeoutMs: 3000 }), (e: Error & { code?: string }) => e.code === 'PERMISSION');
    // ... and so does a plaintext client.
    await assert.rejects(async () => drainQuietly(await connectNats({ servers: state?.natsUrl ?? '', connectTimeoutMs: 3000 })));
    // The learner's gRPC refuses plaintext, and TLS without a client certificate.
    for (const tls of [undefined, { ca }]) {
      const plain = createGrpcClient(LearnerControlDefinition, { address: state.learnerAddress, timeoutMs: 3000, ...(tls ? { tls } : {}) });
      try {
        await assert.rejects(plain.getStatus({}), `getStatus with ${tls ? 'TLS but no client certificate' : 'plaintext'} must fail`);
      } finally {
        plain.close();
      }
    }

    const again = await cli(dir, ['up', '--config', config]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already running[\s\S]*acereason down/);

    const s = await statusUntil(dir, (x) => (x.learner?.step ?? 0) >= 1 && x.workers.some((w) => w.role === 'actor') && x.workers.some((w) => w.role === 'verifier'), 'a step with both workers alive');
    assert.equal(s.learner?.stage, 'tiny');
    assert.equal(s.queues.length, 4);
    assert.ok(s.queues.some((q) => q.name.startsWith('tasks') && q.pending !== null));
    assert.equal(typeof s.deadLetters, 'number');
    assert.ok(s.learner?.lastStep?.values.reward_mean !== undefined);
    const text = await cli(dir, ['status']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /run cli-ops: (running|paused), stage tiny/);
    assert.match(text.stdout, /actor\s+actor-0/);

    // An actor's certificate reads the status but may not change the run; the refusal is counted.
    const certs = join(dir, 'out', 'certs');
    const asActor = createGrpcClient(LearnerControlDefinition, { address: state.learnerAddress, timeoutMs: 5000, tls: { ca, cert: join(certs, 'actor.pem'), key: join(certs, 'actor-key.pem') } });
    try {
      assert.equal((await asActor.getStatus({})).runId, 'cli-ops');
      await assert.rejects(asActor.pause({ reason: 'not mine' }), (e: Error & { code?: string }) => e.code === 'PERMISSION' && /role "actor" may not call \/acereason\.v1\.LearnerControl\/Pause/.test(e.message));
    } finally {
      asActor.close();
    }
    assert.match(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), /acereason_grpc_denied_total\{role="actor",method="\/acereason\.v1\.LearnerControl\/Pause"[^}]*\} 1/);

    const paused = await cli(dir, ['pause', '--json']);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal((JSON.parse(paused.stdout) as { ok: boolean }).ok, true);
    await statusUntil(dir, (x) => x.learner?.state === 'paused', 'the paused state');
    const resumed = await cli(dir, ['resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    await statusUntil(dir, (x) => x.learner?.state === 'running', 'the running state');

    const ckpt = await cli(dir, ['checkpoint', '--json'], 180_000);
    assert.equal(ckpt.code, 0, ckpt.stderr);
    const ckptPath = (JSON.parse(ckpt.stdout) as { checkpointPath: string }).checkpointPath;
    assert.ok(existsSync(join(ckptPath, 'model.safetensors')), ckptPath);

    const next = await cli(dir, ['stage', 'next']);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /moves to the next stage/);
    await statusUntil(dir, (x) => x.learner?.stage === 'tiny-long' && x.learner.stageIndex === 1, 'the second stage');

    const scrape = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(await scrape(metricsPort), /acereason_reward_mean/);
    assert.match(await scrape(metricsPort + 1), /acereason_actor_processed\{[^}]*worker_id="actor-0"[^}]*\} \d+/);
    assert.match(await scrape(metricsPort + 2), /acereason_verifier_throughput/);

    const logs = await cli(dir, ['logs', '--lines', '5', 'learner']);
    assert.equal(logs.code, 0);
    assert.ok(logs.stdout.trim().split('\n').length <= 5 && logs.stdout.includes('"component":"learner"'), logs.stdout);
    const badLog = await cli(dir, ['logs', 'nobody']);
    assert.equal(badLog.code, 2);
    assert.match(badLog.stderr, /Services: nats, learner, actor-0, verifier-0/);

    writeFileSync(join(dir, 'eval.jsonl'), problems(3));
    const ev = await cli(dir, ['eval', '--checkpoint', ckptPath, '--data', join(dir, 'eval.jsonl'), '--k', '2', '--n', '4', '--max-tokens', '8', '--temperature', '1', '--prompt-template', 'q:{problem}=', '--json'], 120_000);
    assert.equal(ev.code, 0, ev.stderr);
    const report = JSON.parse(ev.stdout) as { domains: { domain: string; prompts: number; avgAtK: number; passAtK: number; samplesPerPrompt: number }[] };
    assert.equal(report.domains.length, 1);
    const math = report.domains[0];
    assert.equal(math?.domain, 'math');
    assert.equal(math?.prompts, 3);
    assert.equal(math?.samplesPerPrompt, 4);
    assert.ok(math && math.avgAtK >= 0 && math.avgAtK <= 1 && math.passAtK >= math.avgAtK - 1e-12);

    const rep = await cli(dir, ['report', '--out', join(dir, 'report.html')]);
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<svg /);

    const down = await cli(dir, ['down', '--json'], 120_000);
    assert.equal(down.code, 0, down.stderr);
    const stopped = (JSON.parse(down.stdout) as { stopped: { name: string; result: string }[] }).stopped;
    assert.deepEqual(stopped.map((x) => x.name).sort(), ['actor-0', 'learner', 'nats', 'verifier-0']);
    for (const p of state.services) assert.equal(isAlive(p.pid), false, `${p.name} (pid ${p.pid}) is gone`);
    assert.ok(!existsSync(join(dir, '.acereason', 'current')));
    assert.ok(!existsSync(join(dir, 'out', 'cluster.json')));
    state = undefined;
  } finally {
    killLeftovers(state?.services); // a failed test must not leave background processes behind
    rmSync(dir, { recursive: true, force: true });
  }
});
