/**
 * The NATS that Terraform deploys, without the terraform binary: the template rendered the way the
 * nats module calls it (its `users` built as the module's locals build them, jsonencode being
 * JSON.stringify), checked with `nats-server -t` single and 3-node, then run for real: TLS is
 * required and every role's user has the permissions of packages/transport. The generated
 * permissions.json is checked against its source, and the hosts' flags against the roles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertAvailable, freePort, natsServerBinary, skipUnlessCi, spawnChild, tempDir, waitFor } from '@acereason/testkit';
import { connectNats, drainQuietly, rolePermissions, ROLES, type Role } from '@acereason/transport';
import { INFRA, ROOT, commandWorks } from './repo.js';

const NATS_MODULE = join(INFRA, 'terraform', 'modules', 'nats');
const natsTestable = commandWorks(natsServerBinary(), ['--version']) && commandWorks('openssl', ['version']);

/** Renders the subset of Terraform's template syntax the NATS template uses (for, if, ${name}, ${item.field}). */
export function renderTemplate(tpl: string, vars: Record<string, unknown>): string {
  let out = tpl.replace(/%\{\s*for\s+(\w+)\s+in\s+(\w+)\s*~?\}\n?([\s\S]*?)%\{\s*endfor\s*~?\}\n?/g, (_m, v: string, list: string, body: string) => {
    const items = vars[list];
    assert.ok(Array.isArray(items), `${list} is a list`);
    return items.map((item: unknown) => body.replace(new RegExp(`\\$\\{${v}(?:\\.(\\w+))?\\}`, 'g'), (_x, field: string | undefined) => {
      const value = field === undefined ? item : (item as Record<string, unknown>)[field];
      assert.ok(value !== undefined, `${v}.${field ?? ''} is given`);
      return String(value);
    })).join('');
  });
  out = out.replace(/%\{\s*if\s+(\w+)\s*~?\}\n?([\s\S]*?)%\{\s*endif\s*~?\}\n?/g, (_m, c: string, body: string) => (vars[c] === true ? body : ''));
  return out.replace(/\$\{(\w+)\}/g, (_m, n: string) => {
    assert.ok(n in vars, `template variable ${n} is given`);
    return String(vars[n]);
  });
}

const permissionsJson = (): Record<string, unknown> => JSON.parse(readFileSync(join(NATS_MODULE, 'permissions.json'), 'utf8')) as Record<string, unknown>;

/** The module's `users` local: roles sorted, every string JSON-encoded. */
function users(passwords: Record<string, string>): { user: string; password: string; permissions: string }[] {
  const perms = permissionsJson();
  return Object.keys(perms).sort().map((role) => ({ user: JSON.stringify(role), password: JSON.stringify(passwords[role]), permissions: JSON.stringify(perms[role]) }));
}

function render(dir: string, o: { cluster: boolean; passwords: Record<string, string>; port?: number; monitor?: number }): string {
  const tpl = readFileSync(join(NATS_MODULE, 'nats.conf.tftpl'), 'utf8');
  const ips = o.cluster ? ['10.42.1.10', '10.42.1.11', '10.42.1.12'] : ['10.42.1.10'];
  let conf = renderTemplate(tpl, { server_name: 'test-nats-0', cluster: o.cluster, routes: ips.map((ip) => `nats-route://${ip}:6222`), cluster_name: 'test-nats', max_file: '1GB', users: users(o.passwords) })
    .replaceAll('/etc/nats/', `${dir}/`).replace('store_dir: /data', `store_dir: ${join(dir, 'js')}`);
  if (o.port !== undefined) conf = conf.replace('listen: 0.0.0.0:4222', `listen: 127.0.0.1:${o.port}`).replace('http_port: 8222', `http_port: ${o.monitor ?? 0}`);
  return conf;
}

const passwords = Object.fromEntries(ROLES.map((r) => [r, `pw-${r}-0123456789abcdef`]));

test('terraform: permissions.json is what packages/transport says each role may do (regenerate: node infra/terraform/gen-permissions.mjs)', () => {
  assert.deepEqual(permissionsJson(), Object.fromEntries(ROLES.map((r) => [r, rolePermissions(r)])));
});

test('terraform: the NATS template renders a config with TLS required and a user per role, single and 3-node (nats-server -t)', { skip: skipUnlessCi(!natsTestable && 'needs nats-server and openssl') }, async () => {
  assertAvailable(!natsTestable && 'needs nats-server and openssl');
  await using dir = await tempDir('acereason-tf-nats-');
  makeServerCert(dir.path);
  for (const cluster of [false, true]) {
    const conf = render(dir.path, { cluster, passwords });
    assert.match(conf, /^max_payload: 8MB$/m);
    assert.match(conf, /^tls \{[^}]*cert_file:/m);
    assert.doesNotMatch(conf, /allow_non_tls/);
    assert.match(conf, /^authorization \{/m);
    for (const r of ROLES) assert.ok(conf.includes(`user: "${r}", password: "pw-${r}-0123456789abcdef"`), `user ${r}`);
    assert.equal(/cluster \{/.test(conf), cluster, `cluster block only for the 3-node option (cluster=${String(cluster)})`);
    const file = join(dir.path, `nats-${String(cluster)}.conf`);
    writeFileSync(file, conf);
    const r = spawnSync(natsServerBinary(), ['-t', '-c', file], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `nats-server -t (cluster=${String(cluster)}):\n${r.stdout}${r.stderr}\n${conf}`);
  }
});

function makeServerCert(dir: string): void {
  // A self-signed server certificate for 127.0.0.1 that is its own CA.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.pem'), '-days', '1',
    '-subj', '/CN=acereason-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE'], { stdio: 'ignore' });
  writeFileSync(join(dir, 'ca.pem'), readFileSync(join(dir, 'server.pem')));
}

test('terraform: the rendered single-node NATS runs: plaintext and unknown users are refused, each role connects over TLS', { skip: skipUnlessCi(!natsTestable && 'needs nats-server and openssl') }, async () => {
  assertAvailable(!natsTestable && 'needs nats-server and openssl');
  await using dir = await tempDir('acereason-tf-nats-run-');
  makeServerCert(dir.path);
  const port = await freePort();
  const monitor = await freePort();
  const file = join(dir.path, 'nats.conf');
  writeFileSync(file, render(dir.path, { cluster: false, passwords, port, monitor }));
  await using server = spawnChild({ name: 'nats', command: natsServerBinary(), args: ['-c', file] });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${monitor}/healthz`).catch(() => undefined))?.ok, { what: `nats from the rendered template\n${server.output}`, timeoutMs: 20_000 });
  const url = `nats://127.0.0.1:${port}`;
  const tls = { ca: join(dir.path, 'ca.pem') };
  await assert.rejects(async () => drainQuietly(await connectNats({ servers: url, user: 'actor', pass: passwords.actor ?? '', connectTimeoutMs: 3000 })), 'plaintext is refused');
  await assert.rejects(connectNats({ servers: url, tls, connectTimeoutMs: 3000 }), (e: Error & { code?: string }) => e.code === 'PERMISSION');
  await assert.rejects(connectNats({ servers: url, tls, user: 'actor', pass: 'wrong-password-000000', connectTimeoutMs: 3000 }), (e: Error & { code?: string }) => e.code === 'PERMISSION');
  for (const role of ROLES as readonly Role[]) {
    const nc = await connectNats({ servers: url, tls, user: role, pass: passwords[role] ?? '', connectTimeoutMs: 3000 });
    await drainQuietly(nc);
  }
});

test('terraform: each host runs as its own role (credentials, client certificate, gRPC mutual TLS) and knows every NATS node', () => {
  const main = readFileSync(join(ROOT, 'infra/terraform/examples/aws/main.tf'), 'utf8');
  assert.match(main, /nats_url\s+= join\(",", \[for ip in local\.nats_ips : "nats:\/\/\$\{ip\}:4222"\]\)/);
  assert.match(main, /"--grpc-tls-cert", "\/tls\/server\.pem", "--grpc-tls-key", "\/tls\/server\.key", "--grpc-client-auth"/);
  for (const [svc, role, cert] of [['learner', 'learner', false], ['actor', 'actor', true], ['verifier', 'verifier', false]] as const) {
    const block = main.slice(main.indexOf(`module "${svc}_user_data"`), main.indexOf('}\n\nmodule', main.indexOf(`module "${svc}_user_data"`)));
    assert.ok(block.includes('local.nats_client_args'), `${svc} connects with credentials over TLS`);
    assert.equal(block.includes('local.client_cert_args'), cert, `${svc} ${cert ? 'presents' : 'has no'} client certificate flags`);
    assert.ok(block.includes(`local.role_files["${role}"]`), `${svc} gets only the ${role} files`);
  }
  assert.match(main, /credentials\.json" = \{ content = jsonencode\(\{ \(r\) = \{ user = r, password = local\.nats_passwords\[r\] \} \}\), permissions = "0600" \}/);
});
