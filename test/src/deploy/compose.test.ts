/**
 * The compose cluster: its structure (read as YAML), its variables against .env.example,
 * Debian's `docker-compose config` (validates the file offline, no engine needed), the NATS
 * config (with the `certs` service's bundle) with `nats-server -t`, per-role credentials, and the Prometheus and Grafana files against the learner's metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { assertAvailable, natsServerBinary, skipUnlessCi, tempDir } from '@acereason/testkit';
import { INFRA, ROOT, commandWorks, interfaceFields, isRecord, read } from './repo.js';

const COMPOSE_DIR = join(INFRA, 'compose');
const COMPOSE_FILE = join(COMPOSE_DIR, 'docker-compose.yml');
const composeText = read('infra/compose/docker-compose.yml');
const compose: unknown = parse(composeText, { merge: true });
const envExample = read('infra/compose/.env.example');
const hasDockerCompose = commandWorks('docker-compose', ['version']);
const noComposeReason = hasDockerCompose ? false : 'docker-compose is not installed (.ci/run installs it: apt-get install docker-compose)';
const hasNats = commandWorks(natsServerBinary(), ['--version']);

function services(): Record<string, Record<string, unknown>> {
  assert.ok(isRecord(compose) && isRecord(compose.services), 'compose has services');
  const out: Record<string, Record<string, unknown>> = {};
  for (const [k, v] of Object.entries(compose.services)) {
    assert.ok(isRecord(v), `service ${k} is a mapping`);
    out[k] = v;
  }
  return out;
}

function envExampleVars(): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of envExample.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) vars.set(m[1] ?? '', m[2] ?? '');
  }
  return vars;
}

function dockerCompose(args: string[], profile: string): string {
  return execFileSync('docker-compose', ['--project-directory', COMPOSE_DIR, '-f', COMPOSE_FILE, '--env-file', join(COMPOSE_DIR, '.env.example'), '--profile', profile, ...args], {
    encoding: 'utf8', timeout: 60_000, cwd: COMPOSE_DIR, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
  });
}

test('compose: the cluster has NATS, learner, actors, verifiers, Prometheus, Grafana, and a GPU profile', () => {
  const s = services();
  for (const name of ['certs', 'nats', 'learner', 'actor', 'verifier', 'operator', 'prometheus', 'grafana', 'learner-gpu', 'actor-gpu']) assert.ok(s[name], `service ${name}`);
  assert.deepEqual(s.learner?.profiles, ['cpu']);
  assert.deepEqual(s.actor?.profiles, ['cpu']);
  for (const name of ['learner-gpu', 'actor-gpu']) {
    const svc = s[name] ?? {};
    assert.deepEqual(svc.profiles, ['gpu'], `${name} is in the gpu profile`);
    const deploy = svc.deploy;
    assert.ok(isRecord(deploy) && isRecord(deploy.resources) && isRecord(deploy.resources.reservations), `${name} reserves resources`);
    const devices = deploy.resources.reservations.devices;
    assert.ok(Array.isArray(devices) && devices.some((d) => isRecord(d) && Array.isArray(d.capabilities) && d.capabilities.includes('gpu')), `${name} reserves a GPU`);
    assert.match(String(svc.image), /-cuda$/, `${name} runs the cuda image`);
  }
});

test('compose: workers scale (no fixed names or host ports) and state lives on named volumes', () => {
  const s = services();
  for (const name of ['actor', 'actor-gpu', 'verifier']) {
    assert.equal(s[name]?.container_name, undefined, `${name} has no container_name`);
    assert.equal(s[name]?.ports, undefined, `${name} publishes no host port`);
  }
  assert.ok(isRecord(compose) && isRecord(compose.volumes), 'named volumes');
  for (const v of ['nats-data', 'checkpoints']) assert.ok(v in compose.volumes, `volume ${v}`);
  assert.ok((s.nats?.volumes as string[]).some((v) => v.startsWith('nats-data:')), 'JetStream store on the nats-data volume');
  assert.ok((s.learner?.volumes as string[]).some((v) => v.startsWith('checkpoints:')), 'learner checkpoints on a volume');
  assert.ok(isRecord(s.nats?.healthcheck), 'nats has a healthcheck');
  const learnerCmd = (s.learner?.command as string[]).join(' ');
  assert.match(learnerCmd, /--grpc-advertise learner:50051/);
  assert.match(learnerCmd, /--nats \$\{ACEREASON_NATS_URLS:-nats:\/\/nats:4222\}/);
});

test('compose: every bind-mounted file and the build context exist', () => {
  for (const [name, svc] of Object.entries(services())) {
    for (const v of (svc.volumes as string[] | undefined) ?? []) {
      const host = v.split(':')[0] ?? '';
      if (!host.startsWith('.')) continue;
      if (host.startsWith('${')) continue;
      if (host === './data') continue; // the operator's run folder
      assert.ok(existsSync(join(COMPOSE_DIR, host)), `${name}: ${host} exists`);
    }
    const build = svc.build;
    if (isRecord(build)) {
      const context = join(COMPOSE_DIR, String(build.context));
      assert.ok(existsSync(join(context, String(build.dockerfile))), `${name}: ${String(build.dockerfile)} exists in its context`);
    }
  }
});

test('compose: every required variable is in .env.example, every used one has a default or is there', () => {
  const vars = envExampleVars();
  for (const m of composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)(:?[-?])?/g)) {
    const name = m[1] ?? '';
    if (m[2] === undefined || m[2].endsWith('?')) assert.ok(vars.has(name), `${name} is in .env.example`);
  }
  assert.ok(['cpu', 'gpu'].includes(vars.get('COMPOSE_PROFILES') ?? ''), 'COMPOSE_PROFILES picks cpu or gpu');
});

test('compose: docker-compose config validates the file for the cpu and gpu profiles', { skip: skipUnlessCi(noComposeReason) }, () => {
  assertAvailable(noComposeReason);
  for (const profile of ['cpu', 'gpu']) {
    dockerCompose(['config', '-q'], profile);
    // docker-compose v1 lists every service here, whatever the profile.
    const listed = dockerCompose(['config', '--services'], profile).trim().split('\n').sort();
    assert.deepEqual(listed, Object.keys(services()).sort(), 'the resolved file has every service');
  }
});

test('compose: nats.conf with the certs bundle is valid for nats-server (JetStream, 8MB payloads, TLS, a user per role, none without credentials)', { skip: skipUnlessCi(!hasNats && 'nats-server is not installed') }, async () => {
  assertAvailable(!hasNats && 'nats-server is not installed');
  const conf = read('infra/compose/nats.conf');
  assert.match(conf, /^max_payload:\s*8MB/m);
  assert.match(conf, /^jetstream\s*\{[^}]*store_dir:\s*\/data/m);
  assert.doesNotMatch(conf, /^\s*no_auth_user|password\s*[:=]/im, 'no user without credentials, no password in the file');
  // Laid out as in the nats container: /etc/nats/nats.conf and the tls-nats volume at /tls/nats.
  await using dir = await tempDir('acereason-compose-nats-');
  execFileSync(process.execPath, [join(ROOT, 'packages/cli/dist/main.js'), 'certs', '--out', join(dir.path, 'certs'), '--hosts', 'nats,learner', '--bundles', join(dir.path, 'tls')], { stdio: 'pipe' });
  mkdirSync(join(dir.path, 'etc', 'nats'), { recursive: true });
  writeFileSync(join(dir.path, 'etc', 'nats', 'nats.conf'), conf.replace('store_dir: /data', `store_dir: ${join(dir.path, 'data')}`));
  const auth = readFileSync(join(dir.path, 'tls', 'nats', 'nats-auth.conf'), 'utf8');
  assert.match(auth, /^tls \{/m);
  assert.match(auth, /^authorization \{/m);
  for (const role of ['learner', 'actor', 'verifier', 'operator']) assert.match(auth, new RegExp(`user: "${role}", password: "[^"]{16,}"`));
  // The 3-node form's routes: mutual TLS with the route certificate, its subject mapped.
  const route = readFileSync(join(dir.path, 'tls', 'nats', 'nats-route.conf'), 'utf8');
  assert.match(route, /^tls \{[^}]*cert_file: "[^"]*\/route\.pem"[^}]*verify_and_map: true/m);
  assert.match(route, /^authorization \{\s*user: "CN=nats-route,OU=route,O=acereason dev"/m);
  assert.match(read('infra/compose/nats-cluster.conf'), /^cluster \{[^}]*include "\.\.\/\.\.\/tls\/nats\/nats-route\.conf"\n\}/m);
  writeFileSync(join(dir.path, 'etc', 'nats', 'nats-cluster.conf'), read('infra/compose/nats-cluster.conf'));
  // The single node and a node of the 3-node form (docker-compose.cluster.yml).
  for (const file of ['nats.conf', 'nats-cluster.conf']) {
    const r = spawnSync(natsServerBinary(), ['-t', '-c', join(dir.path, 'etc', 'nats', file)], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', NATS_SERVER_NAME: 'acereason-nats-1' } });
    assert.equal(r.status, 0, `nats-server -t ${file}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /configuration file .* is valid/);
  }
});

test('compose: the 3-node form renders (docker-compose config) with three JetStream nodes, each on its own volume and name', { skip: noComposeReason }, () => {
  const out = execFileSync('docker-compose', ['--project-directory', COMPOSE_DIR, '-f', COMPOSE_FILE, '-f', join(COMPOSE_DIR, 'docker-compose.cluster.yml'), '--env-file', join(COMPOSE_DIR, '.env.example'), '--profile', 'cpu', 'config'], {
    encoding: 'utf8', timeout: 60_000, cwd: COMPOSE_DIR,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ACEREASON_NATS_URLS: 'nats://nats:4222,nats://nats-1:4222,nats://nats-2:4222' },
  });
  const doc: unknown = parse(out);
  assert.ok(isRecord(doc) && isRecord(doc.services));
  const svcs = doc.services as Record<string, Record<string, unknown>>;
  const names = new Set<string>();
  const data = new Set<string>();
  for (const n of ['nats', 'nats-1', 'nats-2']) {
    const svc = svcs[n] ?? {};
    assert.deepEqual(svc.command, ['-c', '/etc/nats/nats-cluster.conf'], `${n} runs the cluster config`);
    names.add(String((svc.environment as Record<string, string>).NATS_SERVER_NAME));
    data.add(((svc.volumes as string[]) ?? []).find((v) => /:\/data(:rw)?$/.test(v)) ?? '');
    assert.ok(((svc.volumes as string[]) ?? []).includes('tls-nats:/tls/nats:ro'), `${n} has the NATS TLS bundle`);
  }
  assert.equal(names.size, 3, 'three server names');
  assert.equal(data.size, 3, 'three JetStream volumes');
  const learnerCmd = (svcs.learner?.command as string[]).join(' ');
  assert.ok(learnerCmd.includes('--nats nats://nats:4222,nats://nats-1:4222,nats://nats-2:4222'), 'the learner is given every node');
  assert.ok((svcs.actor?.command as string[]).includes('nats://nats:4222,nats://nats-1:4222,nats://nats-2:4222'), 'so are actors');
  assert.match(read('infra/compose/nats-cluster.conf'), /routes: \[nats-route:\/\/nats:6222, nats-route:\/\/nats-1:6222, nats-route:\/\/nats-2:6222\]/);
});

test('compose: every service connects as its own role with its own volume of credentials; no secret in the file', () => {
  const s = services();
  const own: Record<string, string> = { learner: 'learner', 'learner-gpu': 'learner', actor: 'actor', 'actor-gpu': 'actor', verifier: 'verifier', operator: 'operator' };
  for (const [name, role] of Object.entries(own)) {
    const vols = ((s[name]?.volumes as string[] | undefined) ?? []).filter((v) => v.startsWith('tls-'));
    assert.deepEqual(vols, [`tls-${role}:/tls/${role}:ro`], `${name} mounts only its own credentials, read-only`);
    const cmd = ((s[name]?.command as string[] | undefined) ?? []).join(' ');
    if (name !== 'operator') {
      assert.ok(cmd.includes(`--creds /tls/${role}/credentials.json`) && cmd.includes(`--tls-ca /tls/${role}/ca.pem`), `${name}: ${cmd}`);
    }
  }
  assert.match((s.learner?.command as string[]).join(' '), /--grpc-tls-cert \/tls\/learner\/server\.pem --grpc-tls-key \/tls\/learner\/server-key\.pem --grpc-client-auth/);
  assert.match((s.actor?.command as string[]).join(' '), /--tls-cert \/tls\/actor\/client\.pem --tls-key \/tls\/actor\/client-key\.pem/);
  assert.deepEqual(((s.nats?.volumes as string[]) ?? []).filter((v) => v.startsWith('tls-')), ['tls-nats:/tls/nats:ro']);
  assert.match((s.certs?.command as string[]).join(' '), /^certs --out \/certs --hosts nats,nats-1,nats-2,learner --keep --bundles \/tls$/);
  for (const name of ['nats', 'learner', 'actor', 'verifier']) {
    const dep = s[name]?.depends_on;
    assert.ok(isRecord(dep) && isRecord(dep.certs) && dep.certs.condition === 'service_completed_successfully', `${name} waits for certs`);
  }
  // Secrets: none in the compose file or .env.example but Grafana's UI login.
  assert.doesNotMatch(composeText, /NATS_[A-Z]+_PASSWORD|BEGIN [A-Z ]*PRIVATE KEY/);
  assert.doesNotMatch(envExample, /NATS_[A-Z]+_PASSWORD/);
});

test('compose: Prometheus scrapes every service on its metrics port', () => {
  const prom: unknown = parse(read('infra/compose/prometheus.yml'));
  assert.ok(isRecord(prom) && Array.isArray(prom.scrape_configs));
  const jobs = new Map<string, string>();
  for (const j of prom.scrape_configs) if (isRecord(j)) jobs.set(String(j.job_name), JSON.stringify(j));
  for (const job of ['learner', 'actor', 'verifier']) {
    assert.ok(jobs.has(job), `job ${job}`);
    assert.match(jobs.get(job) ?? '', /9464/);
  }
  assert.equal((services().learner?.environment as Record<string, string>).ACEREASON_METRICS_PORT, '9464');
});

test('grafana: the provisioned dashboard charts the learner\'s step metrics from the provisioned data source', () => {
  const ds: unknown = parse(read('infra/grafana/provisioning/datasources/prometheus.yml'));
  assert.ok(isRecord(ds) && Array.isArray(ds.datasources));
  const dsUid = (ds.datasources[0] as Record<string, unknown>).uid;
  const provider: unknown = parse(read('infra/grafana/provisioning/dashboards/acereason.yml'));
  assert.ok(isRecord(provider) && Array.isArray(provider.providers));
  const path = ((provider.providers[0] as Record<string, unknown>).options as Record<string, unknown>).path;
  assert.ok((services().grafana?.volumes as string[]).some((v) => v.endsWith(`:${String(path)}:ro`)), 'compose mounts the dashboards where the provider reads them');

  const dash: unknown = JSON.parse(read('infra/grafana/dashboards/acereason-run.json'));
  assert.ok(isRecord(dash) && Array.isArray(dash.panels) && typeof dash.uid === 'string');
  const fields = new Set(interfaceFields(read('packages/learner/src/metrics/step-metrics.ts'), 'StepMetrics'));
  const charted = new Set<string>();
  for (const p of dash.panels) {
    assert.ok(isRecord(p) && Array.isArray(p.targets) && isRecord(p.datasource));
    assert.equal(p.datasource.uid, dsUid, `panel "${String(p.title)}" uses the provisioned data source`);
    for (const t of p.targets) {
      const expr = String((t as Record<string, unknown>).expr);
      for (const m of expr.matchAll(/\bacereason_([a-z0-9_]+)/g)) {
        const name = m[1] ?? '';
        if (name.startsWith('learner_')) continue; // process metrics of the learner
        assert.ok(fields.has(name), `acereason_${name} is a StepMetrics field`);
        charted.add(name);
      }
    }
  }
  for (const must of ['reward_mean', 'accuracy', 'step_s', 'wait_rollouts_s', 'train_s', 'response_len_mean', 'truncation_rate', 'entropy_mean', 'actors', 'verifiers']) {
    assert.ok(charted.has(must), `the dashboard charts acereason_${must}`);
  }
});

test('compose: the files sit where the guide says', () => {
  for (const f of ['infra/README.md', 'infra/compose/.env.example', 'infra/docker/Dockerfile']) assert.ok(existsSync(join(ROOT, f)), f);
});
