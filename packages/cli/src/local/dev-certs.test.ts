import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROUTE_SUBJECT, completeDevCertificates, makeDevCertificates } from './dev-certs.js';

const text = (cert: string): string => execFileSync('openssl', ['x509', '-in', cert, '-noout', '-subject', '-ext', 'extendedKeyUsage,subjectAltName'], { encoding: 'utf8' });

test('the route certificate: signed by the CA, server and client use, the route subject, the hosts as SANs; a dir made without one gets it from its own CA', () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-devcerts-'));
  try {
    const made = makeDevCertificates(dir, { hosts: ['nats-1'] });
    const ca = readFileSync(made.ca, 'utf8');
    const check = (): void => {
      execFileSync('openssl', ['verify', '-CAfile', made.ca, made.route.cert], { stdio: 'pipe' });
      const t = text(made.route.cert);
      assert.match(t, /subject=O = acereason dev, OU = route, CN = nats-route/);
      assert.match(t, /TLS Web Server Authentication, TLS Web Client Authentication/);
      assert.match(t, /DNS:localhost, IP Address:127\.0\.0\.1, DNS:nats-1/);
      const conf = readFileSync(made.natsRouteConfig, 'utf8');
      assert.match(conf, /verify_and_map: true/);
      assert.ok(conf.includes(`user: ${JSON.stringify(ROUTE_SUBJECT)}`), conf);
    };
    check();
    // A dir from before routes had their own certificate.
    for (const f of [made.route.cert, made.route.key, made.natsRouteConfig]) rmSync(f);
    const again = completeDevCertificates(dir, { hosts: ['nats-1'] });
    assert.equal(again?.route.cert, made.route.cert);
    assert.equal(readFileSync(made.ca, 'utf8'), ca, 'the CA is kept');
    check();
    // Without the CA key it cannot be issued: incomplete.
    rmSync(made.route.cert);
    rmSync(join(dir, 'ca-key.pem'));
    assert.equal(completeDevCertificates(dir), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('passwords and gRPC tokens are hex: none can begin with "-" and read as an option (--grpc-token -x...)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-devcerts-'));
  try {
    const made = makeDevCertificates(dir);
    const tokens = JSON.parse(readFileSync(made.grpcTokens, 'utf8')) as Record<string, string>;
    const creds = JSON.parse(readFileSync(made.credentials, 'utf8')) as Record<string, { password: string }>;
    for (const [role, token] of Object.entries(tokens)) assert.match(token, /^[0-9a-f]{48}$/, `the ${role} token`);
    for (const [role, c] of Object.entries(creds)) assert.match(c.password, /^[0-9a-f]{36}$/, `the ${role} password`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
