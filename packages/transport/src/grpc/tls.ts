import { readFileSync } from 'node:fs';
import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';

/** PEM file paths. Server: cert+key, plus ca to require client certificates (mutual TLS). */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

export function serverCredentials(tls: TlsFiles | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  if (!tls.cert || !tls.key) throw new Error('tls: a server needs both cert and key');
  const ca = tls.ca ? readFileSync(tls.ca) : null;
  return ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }], ca !== null);
}

export function channelCredentials(tls: TlsFiles | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  return credentials.createSsl(
    tls.ca ? readFileSync(tls.ca) : null,
    tls.key ? readFileSync(tls.key) : null,
    tls.cert ? readFileSync(tls.cert) : null,
  );
}
