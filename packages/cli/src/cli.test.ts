import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runCli, type CliRun } from './run-cli.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('./main.js', import.meta.url));

const cli = (args: string[], input?: string): Promise<CliRun> => runCli(args, input !== undefined ? { input } : {});

test('--version and --help', async () => {
  const { stdout } = await run(process.execPath, [BIN, '--version']);
  assert.match(stdout.trim(), /^\d+\.\d+\.\d+$/);
  const help = await cli(['--help']);
  assert.equal(help.code, 0);
  for (const c of ['doctor', 'verify', 'bench']) assert.match(help.stdout, new RegExp(`\\n  ${c}\\b`));
});

test('an unknown command or flag is one clear line and exit code 2', async () => {
  const a = await cli(['frobnicate']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /unknown command "frobnicate"/);
  const b = await cli(['doctor', '--bogus']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--bogus/);
});

test('a service started with a bad command line says what is wrong with its usage and exits 2 (typed errors, not message text)', async () => {
  const cases: [string[], RegExp][] = [
    [['actor'], /--run is required[\s\S]*usage: acereason actor --run RUN_ID/],
    [['verifier', '--run', 'r', '--domain', 'chemistry'], /--domain: expected math, code or all, got "chemistry"[\s\S]*usage: acereason verifier/],
    [['verifier', '--run', 'r', '--tls-cert', 'c.pem'], /--tls-cert and --tls-key go together[\s\S]*usage: acereason verifier/],
    [['run'], /--config is required[\s\S]*usage: acereason run --config FILE/],
    [['actor', '--run', 'r', '--bogus'], /--bogus[\s\S]*usage: acereason actor/],
  ];
  for (const [args, want] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
  }
});

test('doctor reports every check as JSON and is green on a prepared machine', async () => {
  const r = await cli(['doctor', '--json']);
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
  const names = report.checks.map((c) => c.name);
  for (const n of ['node', 'nats-server', 'onnxruntime-node', 'code sandbox']) assert.ok(names.includes(n), `doctor checks ${n}`);
  assert.equal(report.ok, true, `doctor is green: ${JSON.stringify(report.checks.filter((c) => !c.ok))}`);
  assert.equal(r.code, 0);
});

test('doctor names the fix when nats-server is missing', async () => {
  const child = execFile(process.execPath, [BIN, 'doctor'], { env: { ...process.env, ACEREASON_NATS_SERVER: '/nonexistent/nats-server' } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  assert.equal(code, 1);
  assert.match(out, /FAIL\s+nats-server\s+not found/);
  assert.match(out, /fix: (sudo )?apt-get install -y nats-server/);
});

test('demo runs the doctor first and stops with its fix lines when something is missing', async () => {
  const r = await runCli(['demo', '--quick'], { env: { ...process.env, ACEREASON_NATS_SERVER: '/nonexistent/nats-server' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /this machine is not ready/);
  assert.match(r.stderr, /FAIL\s+nats-server\s+not found/);
  assert.match(r.stderr, /fix: (sudo )?apt-get install -y nats-server/);
  assert.doesNotMatch(r.stderr, /code sandbox/, 'only what is missing is listed');
  assert.equal(r.stdout, '', 'no cluster was started');
});

test('doctor --fix on a prepared machine has nothing to install and stays green', async () => {
  const r = await cli(['doctor', '--fix', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /installing/);
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: { id: string; ok: boolean }[] };
  assert.equal(report.ok, true);
  assert.ok(report.checks.find((c) => c.id === 'msgpack-native')?.ok, 'the native msgpack codec loads');
});

test('bench transport --json --quick prints one JSON object with ratios', async () => {
  const r = await cli(['bench', 'transport', '--json', '--quick']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const report = JSON.parse(lines[0] ?? '') as { suite: string; ratios: Record<string, number> };
  assert.equal(report.suite, 'transport');
  assert.ok(report.ratios.msgpack_vs_json && report.ratios.msgpack_vs_json > 0);
  assert.ok(report.ratios.jetstream_vs_core_nats_throughput && report.ratios.jetstream_vs_core_nats_throughput > 0);
});

test('bench checkpoint --json --quick reports both sides per round; a flag of another suite is a usage error', async () => {
  const r = await cli(['bench', 'checkpoint', '--json', '--quick']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim()) as { suite: string; bytes_per_checkpoint: number; figures: Record<string, { rounds: [number, number][] }>; ratios: Record<string, number> };
  assert.equal(report.suite, 'checkpoint');
  assert.ok(report.bytes_per_checkpoint > 280e6, String(report.bytes_per_checkpoint));
  for (const f of ['max_stall_ms', 'p99_stall_ms', 'mb_per_s']) assert.equal(report.figures[f]?.rounds.length, 2, f);
  for (const k of ['checkpoint_max_event_loop_stall', 'checkpoint_p99_event_loop_stall', 'checkpoint_write_throughput']) assert.ok((report.ratios[k] ?? 0) > 0, k);
  const bad = await cli(['bench', 'checkpoint', '--tokens', '2048']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--tokens is not a flag of bench checkpoint/);
});

test('bench weight-sync --sizes/--methods: a value not among the sizes or methods, or the flags on another suite, is a usage error naming them', async () => {
  const size = await cli(['bench', 'weight-sync', '--sizes', '10mb,2gb', '--json']);
  assert.equal(size.code, 2);
  assert.match(size.stderr, /--sizes: "2gb" is not one of 10mb, 100mb, 1\.2gb/);
  const method = await cli(['bench', 'weight-sync', '--methods', 'pigeon', '--json']);
  assert.equal(method.code, 2);
  assert.match(method.stderr, /--methods: "pigeon" is not one of bulk, objstore, single, grpc/);
  const other = await cli(['bench', 'transport', '--methods', 'single']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--sizes and --methods are for the weight-sync suite/);
});

test('verify math: JSON lines in, results out, a bad line reported with its number', async () => {
  const input = [
    JSON.stringify({ id: 'a', response: '<think>...</think> so \\boxed{\\frac{1}{2}}', answer: '0.5' }),
    'this is not json',
    JSON.stringify({ id: 'c', response: 'The answer is \\boxed{7}', answer: '8' }),
  ].join('\n') + '\n';
  const r = await cli(['verify', 'math'], input);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const a = out.find((o) => o.id === 'a');
  const c = out.find((o) => o.id === 'c');
  const bad = out.find((o) => o.line === 2);
  assert.equal(a?.correct, true);
  assert.equal(c?.correct, false);
  assert.equal(c?.status, 'wrong');
  assert.ok(bad && typeof bad.error === 'string');
});

test('bench verify-math --suite FILE --json reports agreement, false positives and false negatives; a bad line names file and line', async () => {
  const suites = fileURLToPath(new URL('../../verify-math/suites/', import.meta.url));
  const r = await cli(['bench', 'verify-math', '--suite', `${suites}near-miss.jsonl`, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const report = JSON.parse(r.stdout.trim()) as { suite: string; all: { cases: number; false_positives: number; false_negatives: number; agreement: number } };
  assert.equal(report.suite, 'verify-math-agreement');
  assert.ok(report.all.cases >= 100);
  assert.equal(report.all.false_positives, 0);
  assert.equal(report.all.agreement, 1);
  const wrongSuite = await cli(['bench', 'transport', '--suite', `${suites}near-miss.jsonl`]);
  assert.notEqual(wrongSuite.code, 0);
  const bad = await cli(['bench', 'verify-math', '--suite', `${suites}README.md`]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /README\.md:1: not valid JSON/);
});

test('bench loop --json --quick runs the real loop and reports the ratios', async () => {
  const r = await cli(['bench', 'loop', '--json', '--quick']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim()) as { suite: string; ratios: Record<string, number>; sync: { learner_waiting_fraction: number } };
  assert.equal(report.suite, 'loop');
  assert.ok((report.ratios.async_k1_vs_sync ?? 0) > 0);
  assert.ok((report.ratios.weight_sync_vs_objstore_10mb ?? 0) > 0);
  assert.ok(report.sync.learner_waiting_fraction > 0 && report.sync.learner_waiting_fraction < 1);
});
