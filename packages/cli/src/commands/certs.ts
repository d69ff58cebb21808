/** `acereason certs`: a development CA, role certificates, passwords and nats-server config (local/dev-certs.ts). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES } from '@acereason/transport';
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { completeDevCertificates, makeDevCertificates } from '../local/dev-certs.js';
import { BUNDLES, writeCertBundles } from '../local/cert-bundles.js';

const USAGE = 'acereason certs --out DIR [--hosts NAME,IP,...] [--days N] [--force | --keep] [--bundles DIR]';

const certs: Command = {
  name: 'certs',
  summary: 'make a development CA, server and per-role client certificates and NATS role passwords',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseFlags(args, { out: { type: 'string' }, hosts: { type: 'string' }, days: { type: 'string' }, force: { type: 'boolean' }, keep: { type: 'boolean' }, bundles: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
    if (!values.out) throw new UsageError('--out is required', `usage: ${USAGE}`);
    const days = numberFlag('days', values.days, { integer: true, min: 1 }) ?? 825;
    if (values.force && values.keep) throw new UsageError('--force and --keep exclude each other', `usage: ${USAGE}`);
    // --keep: a one-shot job (the compose `certs` service) that runs at every `up` reuses what it made.
    const hosts = (values.hosts ?? '').split(',').map((h) => h.trim()).filter(Boolean);
    const kept = values.keep ? completeDevCertificates(values.out, { hosts, days }) : undefined;
    if (!kept && existsSync(join(values.out, 'ca.pem')) && !values.force) throw new UsageError(`${join(values.out, 'ca.pem')} exists`, values.keep ? 'it is incomplete: pass --force to replace the CA and every certificate and password' : 'pass --force to replace the CA and every certificate and password, or --keep to reuse them');
    const made = kept ?? makeDevCertificates(values.out, { hosts, days });
    const bundles = values.bundles !== undefined ? writeCertBundles(made, values.bundles) : undefined;
    if (values.json) {
      ctx.stdout.write(JSON.stringify({ ...made, kept: kept !== undefined, ...(bundles ? { bundles } : {}) }) + '\n');
      return 0;
    }
    ctx.stdout.write([
      `wrote a development CA and certificates to ${made.dir}`,
      `  ca.pem                      the CA (trust it: --tls-ca)`,
      `  server.pem, server-key.pem  nats-server and the learner's gRPC (--grpc-tls-cert/--grpc-tls-key); SANs ${['localhost', '127.0.0.1', ...hosts].join(', ')}`,
      `  <role>.pem, <role>-key.pem  client certificates of ${ROLES.join(', ')} (--tls-cert/--tls-key)`,
      `  credentials.json            a NATS user and password per role (--creds), mode 0600`,
      `  grpc-tokens.json            a gRPC bearer token per role (the learner's --grpc-tokens), mode 0600`,
      `  nats-auth.conf              tls and authorization blocks for nats-server (include it)`,
      `  route.pem, route-key.pem    the route certificate of clustered nats-servers (subject ${made.route.subject}); SANs as the server's`,
      `  nats-route.conf             the cluster block's route TLS and authorization (include it inside cluster {})`,
      ...(kept ? ['(kept: the CA and certificates were already there)'] : []),
      ...(bundles ? [`bundles per service (own files only) in ${values.bundles ?? ''}/{${BUNDLES.join(',')}}`] : []),
      'These are for development: the CA key is on this disk, unencrypted.',
      '',
    ].join('\n'));
    return 0;
  },
};

export default certs;
