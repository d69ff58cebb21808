/**
 * The NATS that Terraform deploys, without the terraform binary: the template rendered the way the
 * nats module calls it (its `users` built as the module's locals build them, jsonencode being
 * JSON.stringify), checked with `nats-server -t` single and 3-node, then run for real: TLS is
 * required and every role's user has the permissions of packages/transport; three nodes form their
 * cluster over mutual-TLS routes with the route certificate and refuse any other. The generated
 * permissions.json is checked against its source, and the hosts' flags against the roles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { RouteProbe, assertAvailable, freePort, natsServerBinary, skipUnlessCi, spawnChild, tempDir, waitFor, type ChildHandle } from '@acereason/testkit';
import { connectNats, drainQuietly, ensureTopology, rolePermissions, ROLES, type Role } from '@acereason/transport';
import { INFRA, ROOT, commandWorks } from './repo.js';

const NATS_MODULE = join(INFRA, 'terraform', 'modules', 'nats');
const TLS_MODULE = join(INFRA, 'terraform', 'modules', 'tls');
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

/** The route certificate's subject fields (the tls module's `route_subject` local) and the string its output makes of them. */
async function routeSubject(): Promise<{ o: string; ou: string; cn: string; rfc2253: string }> {
  const doc = await parseHcl('main.tf', readFileSync(join(TLS_MODULE, 'main.tf'), 'utf8'));
  const l = ((doc.locals as Record<string, Record<string, string>>[] | undefined)?.[0] ?? {}).route_subject ?? {};
  const [o, ou, cn] = [l.organization ?? '', l.organizational_unit ?? '', l.common_name ?? ''];
  // The output's expression, as written in outputs.tf.
  assert.ok(readFileSync(join(TLS_MODULE, 'outputs.tf'), 'utf8').includes('value       = "CN=${local.route_subject.common_name},OU=${local.route_subject.organizational_unit},O=${local.route_subject.organization}"'));
  return { o, ou, cn, rfc2253: `CN=${cn},OU=${ou},O=${o}` };
}

const IPS = ['10.42.1.10', '10.42.1.11', '10.42.1.12'];

/** Node `node`'s config; with `routePorts`, the cluster on loopback (`<ip>:6222` -> 127.0.0.1:routePorts[i]). */
function render(dir: string, o: { cluster: boolean; passwords: Record<string, string>; subject: string; node?: number; port?: number; monitor?: number; routePorts?: number[] }): string {
  const tpl = readFileSync(join(NATS_MODULE, 'nats.conf.tftpl'), 'utf8');
  const node = o.node ?? 0;
  const ips = o.cluster ? IPS : IPS.slice(0, 1);
  let conf = renderTemplate(tpl, { server_name: `test-nats-${node}`, cluster: o.cluster, routes: ips.map((ip) => `nats-route://${ip}:6222`), cluster_name: 'test-nats', max_file: '1GB', users: users(o.passwords), route_subject: JSON.stringify(o.subject) })
    .replaceAll('/etc/nats/', `${dir}/`).replace('store_dir: /data', `store_dir: ${join(dir, `js-${node}`)}`);
  if (o.port !== undefined) conf = conf.replace('listen: 0.0.0.0:4222', `listen: 127.0.0.1:${o.port}`).replace('http_port: 8222', `http_port: ${o.monitor ?? 0}`);
  const routePorts = o.routePorts;
  if (routePorts) conf = conf.replace('listen: 0.0.0.0:6222', `listen: 127.0.0.1:${routePorts[node] ?? 0}`).replace(/nats-route:\/\/([\d.]+):6222/g, (_m, ip: string) => `nats-route://127.0.0.1:${routePorts[IPS.indexOf(ip)] ?? 0}`);
  return conf;
}

const passwords = Object.fromEntries(ROLES.map((r) => [r, `pw-${r}-0123456789abcdef`]));

test('terraform: permissions.json is what packages/transport says each role may do (regenerate: node infra/terraform/gen-permissions.mjs)', () => {
  assert.deepEqual(permissionsJson(), Object.fromEntries(ROLES.map((r) => [r, rolePermissions(r)])));
});

test('terraform: the NATS template renders a config with TLS required and a user per role, single and 3-node (nats-server -t)', { skip: skipUnlessCi(!natsTestable && 'needs nats-server and openssl') }, async () => {
  assertAvailable(!natsTestable && 'needs nats-server and openssl');
  await using dir = await tempDir('acereason-tf-nats-');
  const subject = await routeSubject();
  makeCerts(dir.path, subject);
  for (const cluster of [false, true]) {
    const conf = render(dir.path, { cluster, passwords, subject: subject.rfc2253 });
    assert.match(conf, /^max_payload: 8MB$/m);
    assert.match(conf, /^tls \{[^}]*cert_file:/m);
    assert.doesNotMatch(conf, /allow_non_tls/);
    assert.match(conf, /^authorization \{/m);
    for (const r of ROLES) assert.ok(conf.includes(`user: "${r}", password: "pw-${r}-0123456789abcdef"`), `user ${r}`);
    assert.equal(/cluster \{/.test(conf), cluster, `cluster block only for the 3-node option (cluster=${String(cluster)})`);
    if (cluster) assert.match(conf, /cluster \{[\s\S]*tls \{[^}]*cert_file: \S*\/route\.pem[^}]*verify_and_map: true[^}]*\}\s*authorization \{\s*user: "CN=/);
    const file = join(dir.path, `nats-${String(cluster)}.conf`);
    writeFileSync(file, conf);
    const r = spawnSync(natsServerBinary(), ['-t', '-c', file], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `nats-server -t (cluster=${String(cluster)}):\n${r.stdout}${r.stderr}\n${conf}`);
  }
});

/** The tls module's material for 127.0.0.1: a CA, the server certificate (server and client use, as the module issues it) and the route certificate. */
function makeCerts(dir: string, route: { o: string; ou: string; cn: string }): void {
  const ssl = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/O=acereason/CN=test cluster CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  for (const [name, subj] of [['server', '/O=acereason/CN=test cluster'], ['route', `/O=${route.o}/OU=${route.ou}/CN=${route.cn}`]] as const) {
    ssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
    writeFileSync(join(dir, `${name}.ext`), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', name === 'server' ? '0x10' : '0x11', '-days', '1', '-out', `${name}.pem`, '-extfile', `${name}.ext`]);
  }
}

test('terraform: the rendered single-node NATS runs: plaintext and unknown users are refused, each role connects over TLS', { skip: skipUnlessCi(!natsTestable && 'needs nats-server and openssl') }, async () => {
  assertAvailable(!natsTestable && 'needs nats-server and openssl');
  await using dir = await tempDir('acereason-tf-nats-run-');
  const subject = await routeSubject();
  makeCerts(dir.path, subject);
  const port = await freePort();
  const monitor = await freePort();
  const file = join(dir.path, 'nats.conf');
  writeFileSync(file, render(dir.path, { cluster: false, passwords, subject: subject.rfc2253, port, monitor }));
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

test('terraform: the rendered 3-node NATS forms its cluster over TLS routes with the route certificate (JetStream with 3 replicas); the server certificate and plaintext routes are refused', { skip: skipUnlessCi(!natsTestable && 'needs nats-server and openssl'), timeout: 120_000 }, async () => {
  assertAvailable(!natsTestable && 'needs nats-server and openssl');
  await using dir = await tempDir('acereason-tf-nats-cluster-');
  const subject = await routeSubject();
  makeCerts(dir.path, subject);
  const ports = await Promise.all(IPS.map(() => freePort()));
  const monitors = await Promise.all(IPS.map(() => freePort()));
  const routePorts = await Promise.all(IPS.map(() => freePort()));
  const nodes: ChildHandle[] = [];
  try {
    for (const node of IPS.keys()) {
      const file = join(dir.path, `nats-${node}.conf`);
      writeFileSync(file, render(dir.path, { cluster: true, passwords, subject: subject.rfc2253, node, port: ports[node], monitor: monitors[node], routePorts }));
      nodes.push(spawnChild({ name: `nats-${node}`, command: natsServerBinary(), args: ['-c', file] }));
    }
    const all = (): string => nodes.map((n) => `--- ${n.settings.name}\n${n.output}`).join('\n');
    // Every node knows the JetStream metadata leader (a node that joins after the election need not log it).
    const leaderOf = async (m: number): Promise<string> => ((await (await fetch(`http://127.0.0.1:${m}/jsz`)).json()) as { meta_cluster?: { leader?: string } }).meta_cluster?.leader ?? '';
    await waitFor(async () => (await Promise.all(monitors.map((m) => leaderOf(m).catch(() => '')))).every((l) => l !== ''), { what: 'a JetStream metadata leader known to every node', timeoutMs: 30_000 }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${all()}`);
    });
    for (const m of monitors) {
      const varz = (await (await fetch(`http://127.0.0.1:${m}/varz`)).json()) as { cluster: { tls_required?: boolean; tls_verify?: boolean } };
      assert.deepEqual([varz.cluster.tls_required, varz.cluster.tls_verify], [true, true], 'routes require TLS and a verified certificate');
      assert.equal(((await (await fetch(`http://127.0.0.1:${m}/routez`)).json()) as { num_routes: number }).num_routes, 2, `every node routes to the other two\n${all()}`);
    }
    // The learner creates the topology on the cluster: 3 replicas over these routes.
    const nc = await connectNats({ servers: ports.map((p) => `nats://127.0.0.1:${p}`).join(','), tls: { ca: join(dir.path, 'ca.pem') }, user: 'learner', pass: passwords.learner ?? '', connectTimeoutMs: 5000 });
    try {
      const topo = await ensureTopology(nc, { owner: true });
      const info = await topo.jsm.streams.info('ACEREASON_TASKS');
      assert.equal(info.config.num_replicas, 3);
      assert.equal(info.cluster?.replicas?.length, 2, 'two followers besides the leader');
    } finally {
      await drainQuietly(nc);
    }
    // The learner host holds the server certificate (same CA): it must not join as a route.
    const probe = (name: string, security: string): Promise<RouteProbe> => RouteProbe.start({ name, routePort: routePorts[0] ?? 0, security, dir: dir.path, cluster: 'test-nats' });
    const routeTls = (cert: string, key: string): string => ['tls {', `  ca_file: "${join(dir.path, 'ca.pem')}"`, `  cert_file: "${cert}"`, `  key_file: "${key}"`, '  verify_and_map: true', '}', 'authorization {', `  user: ${JSON.stringify(subject.rfc2253)}`, '}'].join('\n');
    await using joiner = await probe('route certificate', routeTls(join(dir.path, 'route.pem'), join(dir.path, 'route.key')));
    await using server = await probe('server certificate', routeTls(join(dir.path, 'server.pem'), join(dir.path, 'server.key')));
    await using plain = await probe('no TLS', '');
    await joiner.joins(3);
    await server.refused(/Route Error 'Authorization Violation'/);
    await plain.refused(/Router connection closed/);
  } finally {
    await Promise.all(nodes.map((n) => n.stop(5000)));
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
